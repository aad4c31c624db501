"""`--store URL` on `ragft index`, `ragft search` and `ragft ask`: one URL chooses the backend."""
from __future__ import annotations

import json

import pytest

from support import run_cli


def test_index_search_and_ask_on_a_store_url(backend, tmp_path, corpus, capsys):
    index, store = str(tmp_path / "index"), backend.location
    code, out, err = run_cli(capsys, "index", str(corpus), "--index", index, "--store", store, "--embedder",
                             "test-hashing", "--json")
    assert code == 0, err
    assert len(json.loads(out)["added"]) == 6
    code, out, err = run_cli(capsys, "search", "immutable sequences", "--index", str(tmp_path / "elsewhere"),
                             "--store", store, "--json")
    assert code == 0, err
    assert json.loads(out)["hits"][0]["doc_id"] == "tuples.md"
    code, out, err = run_cli(capsys, "ask", "What does the garbage collector reclaim?", "--index", index,
                             "--store", store, "--json")
    assert code == 0, err
    assert json.loads(out)["citations"][0]["doc_id"] == "advanced/gc.md"


def test_an_unreachable_store_is_one_error_line_without_the_password(tmp_path, capsys):
    pytest.importorskip("psycopg", reason="needs the stores extra (`make install`)")
    code, out, err = run_cli(capsys, "search", "anything", "--index", str(tmp_path / "index"),
                             "--store", "postgresql://rag:s3cret@127.0.0.1:9/rag?connect_timeout=2")
    assert code == 1
    assert err.startswith("error: cannot connect to postgresql://rag:***@127.0.0.1:9/rag") and "s3cret" not in err
    assert err.count("\n") == 1
