"""The judge-free support checker on real Python FAQ answers (tests/data excerpt of python3.11-doc)."""
from __future__ import annotations

from pathlib import Path

import pytest

from ragft.llm.base import Generation, GenerationRequest
from ragft.qa.faq import parse_rst_faq
from ragft.rag.grounding import (DEFAULT_THRESHOLD, LLMJudge, check_support, content_terms, declines,
                                 split_sentences, stem, strip_citations)

FAQ = Path(__file__).resolve().parents[1] / "data/python3.11-doc/usr/share/doc/python3.11/html/_sources/faq"


def _answer(page: str, question: str) -> str:
    entries = parse_rst_faq((FAQ / page).read_text(encoding="utf-8"), questions_only=False)
    return next(e.answer for e in entries if e.question == question)


DELETE = _answer("installed.rst.txt", "Can I delete Python?")
WHAT_IS = _answer("installed.rst.txt", "What is Python?")


def test_sentences_copied_from_the_answer_are_supported_by_it():
    answer = ("That depends on where Python came from. If someone installed it deliberately, "
              "you can remove it without hurting anything.")
    report = check_support(answer, [DELETE])
    assert [s.supported for s in report.sentences] == [True, True]
    assert report.unsupported_count == 0 and report.supported_ratio == 1.0 and not report.hallucinated
    assert [s.best_source for s in report.sentences] == [0, 0]


def test_citation_markers_are_ignored():
    report = check_support("If Python came with your operating system, removing it is not recommended [1][2].",
                           ["unrelated passage about tkinter", DELETE])
    assert report.sentences[0].supported and report.sentences[0].best_source == 1
    assert strip_citations("removing it [1, 2] is bad [3].") == "removing it is bad."


def test_a_sentence_from_another_entry_is_not_supported():
    report = check_support("Python is a programming language.", [DELETE])
    assert report.unsupported_count == 1 and report.hallucinated
    assert report.sentences[0].reason.startswith("coverage")


def test_flipped_negation_is_not_supported():
    report = check_support("If Python came with your operating system, removing it is recommended.", [DELETE])
    assert report.sentences[0].score == 1.0          # every content word is in the source...
    assert report.sentences[0].reason == "negation differs from the source"   # ...but the meaning is inverted


def test_a_number_absent_from_the_source_makes_the_sentence_unsupported():
    source = "There are 2 ways to install it: the installer or the embeddable zip file."
    assert check_support("There are 2 ways to install it.", [source]).sentences[0].supported
    report = check_support("There are 3 ways to install it: the installer or the embeddable zip file.", [source])
    assert report.sentences[0].score >= DEFAULT_THRESHOLD          # 6 of 7 content terms are there...
    assert report.sentences[0].reason == "number 3 is not in the source"


def test_a_swapped_name_is_not_supported_even_with_high_coverage():
    report = check_support("Python is used by professional software developers at places such as Google, "
                           "NASA, and Microsoft.", [WHAT_IS])
    assert report.sentences[0].score >= DEFAULT_THRESHOLD
    assert report.sentences[0].reason == "name 'microsoft' is not in the source"


def test_supported_ratio_counts_sentences_and_threshold_is_recorded():
    answer = "That depends on where Python came from. Python was first released in 1991 by CWI."
    report = check_support(answer, [DELETE], threshold=0.5)
    assert report.supported_ratio == 0.5 and report.unsupported_count == 1 and report.threshold == 0.5


def test_sentence_splitting_keeps_abbreviations_and_splits_bullets():
    assert split_sentences("Use e.g. pip. Then run it [1].\n\n* first item\n* second item") == [
        "Use e.g. pip.", "Then run it.", "first item", "second item"]


def test_light_stemming_matches_inflections():
    assert {stem("checks"), stem("checked"), stem("checking")} == {"check"}
    assert content_terms("The libraries aren't installed") == {"library", "install"}


class _ScriptedGenerator:
    """A real Generator implementation whose verdict depends on the prompt it receives."""

    name = "scripted"

    def __init__(self):
        self.prompts: list[str] = []

    def generate(self, request: GenerationRequest) -> Generation:
        self.prompts.append(request.question)
        sentence = request.question.rsplit("Sentence: ", 1)[1]
        return Generation(text="UNSUPPORTED" if "1991" in sentence else "SUPPORTED")

    def stream(self, request):
        yield self.generate(request).text


def test_llm_judge_asks_the_generator_once_per_sentence_with_the_recorded_prompt():
    generator = _ScriptedGenerator()
    report = LLMJudge(generator).check_support("Python is old. It appeared in 1991 [1].", [WHAT_IS])
    assert [s.supported for s in report.sentences] == [True, False] and report.method == "llm-judge"
    assert len(generator.prompts) == 2 and "[1] Python is a programming language." in generator.prompts[0]
    assert generator.prompts[1].endswith("Sentence: It appeared in 1991.\n\nVerdict:")


@pytest.mark.parametrize("question", ["Can I delete Python?", "What is Python?",
                                      "Why is Python installed on my machine?"])
def test_every_prose_sentence_of_a_real_answer_is_supported_by_its_own_entry(question):
    answer = _answer("installed.rst.txt", question)
    report = check_support(answer, [answer])
    assert report.unsupported_count == 0, [s for s in report.sentences if not s.supported]


# --- regression: verbatim extractive answers were flagged (eval run, 36 of 40 flagged RAG answers) -------------

EXTENDING = "extending.rst.txt"


def test_a_cited_sentence_ending_in_a_colon_is_not_joined_with_the_next_one():
    answer = ("You can get a pointer to the module object as follows: [1] Realize that for the Python run-time "
              "system, there isn't a whole lot of difference between C and C++. [2]")
    assert split_sentences(answer) == [
        "You can get a pointer to the module object as follows:",
        "Realize that for the Python run-time system, there isn't a whole lot of difference between C and C++."]


def test_a_sentence_ending_in_the_letter_c_ends_there_but_initials_of_a_name_do_not():
    assert split_sentences("You can create new types in C. The atexit module is similar.") == [
        "You can create new types in C.", "The atexit module is similar."]
    assert split_sentences("Other software of Dan J. Bernstein is packaged. J. R. R. Tolkien is not.") == [
        "Other software of Dan J. Bernstein is packaged.", "J. R. R. Tolkien is not."]


def test_citations_between_sentences_are_boundaries_but_not_inside_one():
    assert split_sentences("modules written in C; to get a list, type: [3] then `x` runs [1] the rest [2]") == [
        "modules written in C; to get a list, type:", "then `x` runs the rest"]
    assert split_sentences("return super().__new__(cls, s) [3] Assume XYZ-3.6. [4] = result [5]") == [
        "return super().__new__(cls, s)", "Assume XYZ-3.6.", "= result"]
    assert split_sentences("Python is used by Google [1] and NASA [2].") == ["Python is used by Google and NASA."]


def test_a_verbatim_quote_is_supported_even_when_its_window_differs_in_negation():
    source = "This is not a Debian problem. See also additional information in Chapter 13, Contributing."
    report = check_support("See also additional information in Chapter 13, Contributing. [1]", [source])
    assert report.sentences[0].supported and report.sentences[0].best_source == 0


@pytest.mark.parametrize("question", [
    "How do I access a module written in Python from C?",               # "... as follows: [1]"
    "Can I create an object class with some methods implemented in C and others in Python (e.g. through "
    "inheritance)?",                                                    # "... new types in C. [2]"
    "How do I call an object's method from C?",
    "How do I debug an extension?",                                     # a code block between quotes
])
def test_a_verbatim_multi_sentence_extractive_answer_from_real_faq_text_has_no_unsupported_sentence(question):
    from ragft.llm import create_generator
    from ragft.llm.base import Passage

    entries = parse_rst_faq((FAQ / EXTENDING).read_text(encoding="utf-8"), questions_only=False)
    at = next(i for i, e in enumerate(entries) if e.question == question)
    texts = [entries[(at + shift) % len(entries)].answer for shift in range(3)]
    passages = tuple(Passage(i + 1, f"p{i}", text) for i, text in enumerate(texts))
    answer = create_generator("extractive").generate(GenerationRequest(question, passages=passages)).text
    report = check_support(answer, texts)
    assert len(report.sentences) >= 3 and report.unsupported_count == 0, report.sentences


def test_quoting_does_not_excuse_a_changed_word_inside_a_cited_sentence():
    answer = ("Yes, you can create built-in modules containing functions, variables, exceptions and even new types "
              "in Rust. [1] Global or static C++ objects with constructors are probably a good idea. [2]")
    report = check_support(answer, [_answer(EXTENDING, "Can I create my own functions in C?"),
                                    _answer(EXTENDING, "Can I create my own functions in C++?")])
    assert [s.supported for s in report.sentences] == [False, False]
    assert report.sentences[0].reason == "name 'rust' is not in the source"
    assert report.sentences[1].reason == "negation differs from the source"


@pytest.mark.parametrize("sentence", [
    "I don't know.", "I don’t know: no retrieved context.", "Sorry, but the passages do not say.",
    "The context does not mention how to delete Python.", "I am not sure.", "There is no information about it.",
])
def test_a_sentence_that_declines_to_answer_claims_nothing_and_passes(sentence):
    assert declines(sentence)
    assert check_support(sentence, [DELETE]).sentences[0].supported


@pytest.mark.parametrize("sentence", [
    "I don't know the exact version, but Python deletes itself in 2020.",    # goes on to claim something
    "I am not sure; it is removed by the installer.",
    "Iterators do not know their own length.",                               # not a refusal at all
    "No information is stored in the registry.",
])
def test_a_sentence_that_only_starts_like_a_refusal_is_checked(sentence):
    assert not declines(sentence)
    assert check_support(sentence, [DELETE]).hallucinated
