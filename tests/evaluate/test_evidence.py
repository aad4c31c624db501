"""Gold document texts for the shared hallucination evidence, read from the corpus folders of a run."""
from __future__ import annotations

import json

from ragft.evaluate.evidence import GoldDocuments


def test_gold_ids_resolve_to_their_documents_text_in_the_real_bench_corpus(python_faq_bench):
    item = next(q for q in python_faq_bench.questions if q.question == "Can I delete Python?")
    gold = GoldDocuments([python_faq_bench.corpus_dir])
    texts = gold.texts(item.relevant_ids)
    assert list(texts) == item.relevant_ids
    assert "That depends on where Python came from." in texts[item.relevant_ids[0]]
    # the reference is the start of the gold answer; the document holds more of it
    assert len(texts[item.relevant_ids[0]]) > len(item.reference_answer)


def test_records_anchors_and_missing_ids(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "page.md").write_text("# Page\n\nThe page says lists are mutable.\n")
    (tmp_path / "qa.jsonl").write_text("".join(json.dumps({"id": str(i), "text": f"record {i} text"}) + "\n"
                                               for i in range(3)))
    gold = GoldDocuments([tmp_path])
    texts = gold.texts(["qa.jsonl#1", "docs/page.md#lists", "qa.jsonl", "docs/missing.md", "../etc/passwd"])
    assert texts["qa.jsonl#1"] == "record 1 text"                      # one record of a JSONL file
    assert "lists are mutable" in texts["docs/page.md#lists"]          # an anchor: the whole page
    assert texts["qa.jsonl"] == "record 0 text\n\nrecord 1 text\n\nrecord 2 text"   # the file: every record
    assert "docs/missing.md" not in texts and "../etc/passwd" not in texts


def test_without_corpus_folders_there_is_no_gold_text():
    gold = GoldDocuments([])
    assert not gold.available and gold.texts(["faq/a.md"]) == {}
