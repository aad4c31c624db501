"""Training-data recipes: qa, paraphrase (template and LLM), raft with retrieved distractors."""
from __future__ import annotations

import re
from collections import Counter

import pytest

from ragft.errors import InputError
from ragft.finetune.dataset import Example, split
from ragft.finetune.recipes import build, facts_from_chunks, facts_from_corpus, parse_qa_pairs
from ragft.llm.base import Generation, GenerationRequest
from ragft.rag.document import Chunk, Hit

DOCS = {
    "faq/license.md": "Python is distributed under the PSF License, which permits commercial use.",
    "faq/gil.md": "The global interpreter lock lets only one thread run Python bytecode at a time.",
    "faq/install.md": "On Debian, install Python with apt install python3.",
    "faq/speed.md": "Python code can be sped up with PyPy or by moving hot loops to C.",
    "faq/tabs.md": "Python 3 disallows mixing tabs and spaces for indentation.",
}


class WordOverlapRetriever:
    """A tiny retriever: ranks whole documents by shared lowercase words with the query."""

    def __init__(self, docs):
        self.chunks = [Chunk(id=f"{d}#0", doc_id=d, text=t) for d, t in docs.items()]

    def search(self, query, k):
        words = set(re.findall(r"\w+", query.lower()))
        scored = sorted(self.chunks, key=lambda c: (-len(words & set(re.findall(r"\w+", c.text.lower()))), c.id))
        return [Hit(chunk=c, score=0.0, rank=i) for i, c in enumerate(scored[:k])]


class RuleGenerator:
    """A deterministic demo generator: rewordings by rule, Q/A pairs from the passage's first clause."""

    name = "rules"

    def generate(self, request: GenerationRequest) -> Generation:
        if request.passages:
            text = request.passages[0].text
            subject = text.split(" ")[0]
            return Generation(text=f"Q: What does the passage say about {subject}?\nA: {text} [1]\n"
                                   "noise line\nQ: Is this about Python?\nA: Yes.")
        question = request.question.rsplit("\n", 1)[-1]
        return Generation(text=f"1. {question.lower()}\n2. Please explain: {question}\n"
                               f"3. {question}\n- In short, {question}")

    def stream(self, request):
        yield self.generate(request).text


FACTS = [
    Example(prompt="What license does Python use?", completion="The PSF License.", doc_id="faq/license.md"),
    Example(prompt="What does the GIL do?", completion="It lets one thread run bytecode at a time.",
            doc_id="faq/gil.md"),
    Example(prompt="How do I install Python on Debian?", completion="apt install python3.",
            doc_id="faq/install.md"),
]


def test_qa_keeps_each_fact_once_and_labels_it():
    examples = build("qa", FACTS)
    assert [(e.prompt, e.completion, e.recipe) for e in examples] == [
        (f.prompt, f.completion, "qa") for f in FACTS]


def test_template_paraphrases_give_n_distinct_labelled_wordings_that_split_together():
    examples = build("paraphrase", FACTS, n=3)
    assert len(examples) == 9
    assert Counter(e.group for e in examples) == Counter({e.group: 3 for e in examples})
    assert {e.recipe for e in examples} == {"paraphrase:template"}
    assert [e.prompt for e in examples[:3]] == ["What license does Python use?",
                                                "Could you tell me: What license does Python use?",
                                                "I have a question. What license does Python use?"]
    train, val = split(examples, 0.34, seed=1)
    assert not {e.group for e in train} & {e.group for e in val} and len(val) == 3


def test_llm_paraphrases_keep_distinct_rewordings_only():
    examples = build("paraphrase", FACTS[:1], n=3, generator=RuleGenerator())
    assert [e.prompt for e in examples] == ["What license does Python use?",
                                            "Please explain: What license does Python use?",
                                            "In short, What license does Python use?"]
    assert examples[1].recipe == "paraphrase:llm"


def test_raft_examples_carry_gold_and_distractors_and_cite_the_gold_number():
    facts = FACTS * 10
    examples = build("raft", facts, retriever=WordOverlapRetriever(DOCS), distractors=2, seed=5)
    with_gold = [e for e in examples if e.completion.endswith("]")]
    assert 0.6 <= len(with_gold) / len(examples) <= 0.95
    for example, fact in zip(examples, facts):
        gold = DOCS[fact.doc_id]
        assert example.context == gold
        others = [p for p in example.passages if p != gold]
        assert len(others) == 2 and all(p in DOCS.values() for p in others)
        if example in with_gold:
            ref = int(example.completion.rsplit("[", 1)[1].rstrip("]"))
            assert example.passages[ref - 1] == gold
            assert example.completion == f"{fact.completion} [{ref}]"
        else:
            assert gold not in example.passages and example.completion == fact.completion
    assert "Passages:\n[1] " in examples[0].messages()[0]["content"]


def test_raft_distractors_may_come_from_the_gold_document_but_never_repeat_the_gold_passage():
    docs = {"faq/page.md#1": "Python uses the PSF License for all releases.",
            "faq/page.md#2": "Python uses indentation to group statements.",
            "faq/other.md": "Debian ships Python in the python3 package."}
    retriever = WordOverlapRetriever(docs)
    retriever.chunks = [Chunk(id=k, doc_id="faq/page.md" if "page" in k else k, text=t) for k, t in docs.items()]
    fact = Example(prompt="Which license does Python use?", completion="PSF.", doc_id="faq/page.md",
                   context="Python uses the PSF License for all releases!")
    (example,) = build("raft", [fact], retriever=retriever, distractors=2, p_no_gold=0.0)
    assert sorted(example.passages) == sorted([fact.context, docs["faq/page.md#2"], docs["faq/other.md"]])


def test_raft_fraction_without_gold_is_configurable_and_seeded():
    retriever = WordOverlapRetriever(DOCS)
    none = build("raft", FACTS, retriever=retriever, p_no_gold=1.0)
    assert all(not e.completion.endswith("]") for e in none)
    assert build("raft", FACTS, retriever=retriever, seed=3) == build("raft", FACTS, retriever=retriever, seed=3)


def test_raft_without_a_retriever_and_unknown_recipes_are_one_line_errors():
    with pytest.raises(InputError, match="needs a retriever"):
        build("raft", FACTS)
    with pytest.raises(InputError, match="unknown recipe 'rafts' \\(did you mean raft\\?\\)"):
        build("rafts", FACTS)


def test_facts_from_a_faq_corpus_offline(tmp_path):
    (tmp_path / "faq.md").write_text(
        "# FAQ\n\n## What is Zorb?\n\nZorb is a small planet with seven moons and a green sky, "
        "discovered in 2019 by the survey team.\n\n## Who runs Zorb?\n\nA council of five elected "
        "every four years by all residents of the planet, meeting in the capital.\n")
    facts = facts_from_corpus(str(tmp_path))
    assert [f.prompt for f in facts] == ["What is Zorb?", "Who runs Zorb?"]
    assert facts[0].completion.startswith("Zorb is a small planet") and facts[0].doc_id == "faq.md"


def test_facts_from_chunks_with_a_generator_parse_q_and_a_lines():
    chunks = WordOverlapRetriever(DOCS).chunks[:2]
    facts = facts_from_chunks(chunks, RuleGenerator(), per_chunk=2)
    assert [(f.prompt, f.doc_id) for f in facts] == [
        ("What does the passage say about Python?", "faq/license.md"), ("Is this about Python?", "faq/license.md"),
        ("What does the passage say about The?", "faq/gil.md"), ("Is this about Python?", "faq/gil.md")]
    assert facts[0].completion == DOCS["faq/license.md"] and facts[0].context == DOCS["faq/license.md"]
    assert parse_qa_pairs("A: orphan answer\nQ: q1\nA: a1") == [("q1", "a1")]
