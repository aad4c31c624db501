"""`ragft index`, `ragft search`, `ragft ask` through the real entry point, output captured."""
from __future__ import annotations

import json

import pytest

from support import run_cli


def test_index_json_reports_what_changed(tmp_path, corpus, capsys):
    index = str(tmp_path / "index")
    code, out, _ = run_cli(capsys, "index", str(corpus), "--index", index, "--embedder", "test-hashing",
                           "--chunk-tokens", "100", "--overlap", "10", "--json")
    report = json.loads(out)
    assert code == 0 and len(report["added"]) == 6 and report["failed"] == []
    code, out, _ = run_cli(capsys, "index", str(corpus), "--index", index, "--json")
    assert json.loads(out)["unchanged"] == 6 and json.loads(out)["added"] == []


def test_index_prints_a_summary_and_skipped_files(tmp_path, corpus, capsys):
    (corpus / "empty.md").write_text("")
    code, out, err = run_cli(capsys, "index", str(corpus), "--index", str(tmp_path / "i"), "--embedder", "test-hashing")
    assert code == 0 and "indexed 6 new" in out and "skipped" in err and "empty.md" in err


def test_search_json_ranks_chunks_with_scores_and_sources(indexed, capsys):
    code, out, _ = run_cli(capsys, "search", "immutable sequences heterogeneous", "--index", indexed, "-k", "3",
                           "--json")
    result = json.loads(out)
    assert code == 0 and result["mode"] == "hybrid" and len(result["hits"]) == 3
    top = result["hits"][0]
    assert top["doc_id"] == "tuples.md" and top["rank"] == 1 and set(top["scores"]) == {"dense", "bm25", "convex"}
    assert top["source"].endswith("tuples.md")


def test_search_where_and_mode_flags_reach_the_library(indexed, capsys):
    code, out, _ = run_cli(capsys, "search", "python", "--index", indexed, "--mode", "bm25",
                           "--where", "prefix=advanced/", "--json")
    hits = json.loads(out)["hits"]
    assert code == 0 and hits and all(h["doc_id"].startswith("advanced/") for h in hits)
    assert all(set(h["scores"]) == {"bm25"} for h in hits)


def test_search_fusion_flags_change_the_hybrid_scores(indexed, capsys):
    _, out, _ = run_cli(capsys, "search", "garbage collector", "--index", indexed, "-k", "1", "--json",
                        "--rrf-k", "10", "--bm25-weight", "0.5")
    top = json.loads(out)["hits"][0]
    assert top["scores"]["rrf"] == pytest.approx(1 / 11 + 0.5 / 11, abs=1e-6)
    _, out, _ = run_cli(capsys, "search", "garbage collector", "--index", indexed, "-k", "1", "--json", "--alpha", "1")
    top = json.loads(out)["hits"][0]
    assert top["scores"]["convex"] == pytest.approx(1.0) and "rrf" not in top["scores"]
    code, _, err = run_cli(capsys, "search", "gc", "--index", indexed, "--fusion", "sum")
    assert code == 1 and "unknown fusion 'sum'" in err
    code, _, err = run_cli(capsys, "search", "gc", "--index", indexed, "--alpha", "0.5", "--rrf-k", "10")
    assert code == 1 and "pick one fusion" in err


def test_search_prints_a_table_for_people(indexed, capsys):
    code, out, _ = run_cli(capsys, "search", "garbage collector", "--index", indexed, "-k", "2")
    assert code == 0 and "advanced/gc.md" in out and "hybrid search" in out


def test_search_on_a_missing_index_says_to_run_index_first(tmp_path, capsys):
    code, _, err = run_cli(capsys, "search", "anything", "--index", str(tmp_path / "nope"))
    assert code == 1
    assert err.strip() == f"error: no index at {tmp_path / 'nope'}: run `ragft index DIR` first"


def test_search_with_another_embedder_is_refused_in_one_line(indexed, capsys):
    code, _, err = run_cli(capsys, "search", "x", "--index", indexed, "--embedder", "minilm")
    assert code == 1 and err.startswith("error: index at ") and "built with embedder test-hashing" in err
    assert "Traceback" not in err


def test_bad_where_is_an_error_naming_the_flag(indexed, capsys):
    code, _, err = run_cli(capsys, "search", "x", "--index", indexed, "--where", "doc_id")
    assert code == 1 and "--where 'doc_id': expected key=value" in err


def test_ask_json_has_answer_citations_retrieved_tokens_timings_and_cache(indexed, capsys):
    code, out, _ = run_cli(capsys, "ask", "What does the global interpreter lock do?", "--index", indexed, "-k", "3",
                           "--json")
    result = json.loads(out)
    assert code == 0 and result["citations"] and result["citations"][0]["doc_id"] == "advanced/gil.md"
    assert f"[{result['citations'][0]['ref']}]" in result["answer"]
    assert len(result["retrieved"]) == 3 and result["tokens"]["input"] > 0
    assert set(result["timings"]) >= {"embed", "search", "generate", "total"}
    assert result["cache"]["hit"] is None
    code, out, _ = run_cli(capsys, "ask", "What does the global interpreter lock do?", "--index", indexed, "-k", "3",
                           "--json")
    assert json.loads(out)["cache"]["hit"] == "exact" and json.loads(out)["cache"]["hit_rate"] == 0.5


def test_ask_streams_the_answer_then_lists_sources(indexed, capsys):
    code, out, err = run_cli(capsys, "ask", "How do I create a virtual environment?", "--index", indexed)
    assert code == 0 and "[1]" in out and "venv.md" in out and "extractive" in err


def test_ask_with_an_option_the_generator_does_not_take_is_a_one_line_error(indexed, capsys):
    code, _, err = run_cli(capsys, "ask", "What is a tuple?", "--index", indexed, "--model", "gpt-x", "--no-cache")
    assert code == 1 and err.startswith("error: generator 'extractive' does not take the option(s) model")
