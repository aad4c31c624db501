"""The extractive generator quotes the supporting sentences of real Python FAQ passages, with citations."""
from __future__ import annotations

from ragft.llm import GenerationRequest, create_generator
from ragft.llm.base import Passage
from ragft.llm.generators.extractive import NO_CONTEXT_ANSWER, NO_MATCH_ANSWER, split_sentences

# Excerpts of the Python 3.11 FAQ (Debian python3.11-doc, faq/general.rst and faq/programming.rst).
WHAT_IS_PYTHON = """What is Python?
---------------

Python is an interpreted, interactive, object-oriented programming language.  It
incorporates modules, exceptions, dynamic typing, very high level dynamic data
types, and classes.  It supports multiple programming paradigms beyond
object-oriented programming, such as procedural and functional programming.
Finally, Python is portable:
it runs on many Unix variants including Linux and macOS, and on Windows."""

PSF = """What is the Python Software Foundation?
---------------------------------------

The Python Software Foundation is an independent non-profit organization that
holds the copyright on Python versions 2.1 and newer.  The PSF's mission is to
advance open source technology related to the Python programming language and to
publicize the use of Python.  Donations to the PSF are tax-exempt in the US."""

DEFAULTS = """Why are default values shared between objects?
----------------------------------------------

It is often expected that a function call creates new objects for default
values. This is not what happens. Default values are created exactly once, when
the function is defined.  If that object is changed, like the dictionary in this
example, subsequent calls to the function will refer to this changed object."""


def _passages(*texts: str) -> tuple[Passage, ...]:
    return tuple(Passage(ref=i + 1, chunk_id=f"faq-{i}", text=t) for i, t in enumerate(texts))


def test_extractive_answer_quotes_the_supporting_sentence_with_its_citation():
    request = GenerationRequest("Who holds the copyright on Python?", _passages(WHAT_IS_PYTHON, PSF, DEFAULTS))
    answer = create_generator("extractive").generate(request)
    assert "holds the copyright on Python versions 2.1 and newer. [2]" in answer.text
    assert answer.cited == [2]


def test_extractive_answer_cites_the_passage_that_answers_even_when_ranked_last():
    request = GenerationRequest(
        "When are default values created for a function?", _passages(PSF, WHAT_IS_PYTHON, DEFAULTS)
    )
    answer = create_generator("extractive").generate(request)
    assert "Default values are created exactly once, when the function is defined. [3]" in answer.text
    assert 3 in answer.cited and 1 not in answer.cited


def test_extractive_answer_is_deterministic_and_streams_the_same_text():
    request = GenerationRequest("Is Python portable to Windows and Linux?", _passages(PSF, WHAT_IS_PYTHON))
    generator = create_generator("extractive")
    first, second = generator.generate(request), generator.generate(request)
    pieces = list(generator.stream(request))
    assert first.text == second.text == "".join(pieces)
    assert len(pieces) >= 1 and "[2]" in first.text


def test_extractive_answer_without_passages_says_it_cannot_answer_closed_book():
    answer = create_generator("extractive").generate(GenerationRequest("What is Python?"))
    assert answer.text == NO_CONTEXT_ANSWER
    assert answer.text.startswith("I don't know") and answer.cited == []


def test_extractive_answer_says_i_dont_know_when_no_sentence_matches():
    request = GenerationRequest("How tall is Mount Everest?", _passages(PSF))
    answer = create_generator("extractive").generate(request)
    assert answer.text == NO_MATCH_ANSWER and answer.cited == []


def test_extractive_answer_respects_the_token_budget_and_counts_tokens():
    request = GenerationRequest(
        "What does Python support and incorporate?", _passages(WHAT_IS_PYTHON), max_tokens=20
    )
    answer = create_generator("extractive").generate(request)
    assert answer.text.count("[1]") == 1
    assert answer.output_tokens > 0 and answer.input_tokens > answer.output_tokens


def test_extractive_answer_quotes_a_sentence_repeated_in_two_passages_once():
    sentence = "Default values are created exactly once, when the function is defined."
    request = GenerationRequest("When are default values created?", _passages(sentence, sentence))
    answer = create_generator("extractive").generate(request)
    assert answer.text == f"{sentence} [1]"


def test_sentence_splitter_drops_rst_rules_and_keeps_abbreviations_inside_sentences():
    text = "Title\n=====\n\nUse a tuple, e.g. (1, 2) here. Then stop.\nA new line continues."
    assert split_sentences(text) == ["Title", "Use a tuple, e.g. (1, 2) here.", "Then stop.", "A new line continues."]
