"""Q/A pairs a corpus already holds: one reading serves the eval set and the fine-tuning facts alike."""
from __future__ import annotations

import json

import pytest

from ragft.errors import InputError
from ragft.evaluate.evalset import make_evalset
from ragft.finetune.recipes import facts_from_corpus
from ragft.qa.pairs import QAPair, read_qa_pairs


def _corpus(root):
    (root / "guide").mkdir()
    (root / "guide" / "faq.md").write_text(
        "# Product FAQ\n\n## Billing\n\n### How do I get a refund?\n\nWrite to support within 30 days.\n")
    (root / "pairs.jsonl").write_text(json.dumps({"query": "What is X?", "output": "X is Y.", "tags": "x"}) + "\n")
    (root / "notes.txt").write_text("Not a Q/A file.\n")
    return root


def test_pairs_are_numbered_in_path_order_with_their_file_as_document_id(tmp_path):
    assert read_qa_pairs(_corpus(tmp_path)) == [
        QAPair("How do I get a refund?", "Write to support within 30 days.", "guide/faq.md",
               ("page:product-faq", "section:billing"), id="q0001"),
        QAPair("What is X?", "X is Y.", "pairs.jsonl", ("x",), id="q0002"),
    ]


def test_the_eval_set_and_the_fine_tuning_facts_are_the_same_pairs(tmp_path):
    corpus = _corpus(tmp_path)
    pairs = read_qa_pairs(corpus)
    items = make_evalset(corpus)
    facts = facts_from_corpus(str(corpus))
    assert [(i.id, i.question, i.reference_answer, i.relevant_ids) for i in items] == [
        (p.id, p.question, p.answer, [p.doc_id]) for p in pairs]
    assert [(f.group, f.prompt, f.completion, f.doc_id) for f in facts] == [
        (p.id, p.question, p.answer, p.doc_id) for p in pairs]


def test_a_broken_line_is_skipped_and_named_when_asked_an_error_otherwise(tmp_path):
    corpus = _corpus(tmp_path)
    (corpus / "pairs.jsonl").write_text('{"question": "Q?", "answer": "A."}\n{"question": \n')
    with pytest.raises(InputError, match=r"pairs.jsonl:2: not valid JSON"):
        read_qa_pairs(corpus)
    skipped = []
    assert [p.question for p in read_qa_pairs(corpus, skipped)] == ["How do I get a refund?", "Q?"]
    assert [where for where, _ in skipped] == [f"{corpus / 'pairs.jsonl'}:2"]
