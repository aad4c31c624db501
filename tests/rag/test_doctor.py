"""`doctor`: every kind of inconsistency a kill or a bug could leave is found, and --repair restores the index."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ragft.rag import doctor
from ragft.rag.catalog import Catalog
from ragft.rag.engine import BM25_FILE, Index
from ragft.rag.stores.lancedb_store import LANCE_DIR, TABLE

RAGFT = str(Path(sys.executable).parent / "ragft")


@pytest.fixture
def index_path(tmp_path, corpus):
    path = tmp_path / "index"
    with Index.open(path, embedder="test-hashing") as index:
        index.sync([corpus], progress=False)
    return path


def _table(path):
    import lancedb

    return lancedb.connect(str(path / LANCE_DIR)).open_table(TABLE)


def _ids(path) -> list[str]:
    return sorted(_table(path).to_arrow().column("id").to_pylist())


def _edit_meta(path, change) -> None:
    meta = json.loads((path / "meta.json").read_text())
    change(meta)
    (path / "meta.json").write_text(json.dumps(meta))


def _kinds(path) -> set[str]:
    return {p.kind for p in doctor.check(path).problems}


def test_a_fresh_index_is_consistent_with_its_figures(index_path):
    report = doctor.check(index_path)
    assert report.consistent
    assert report.figures == {"rows": 6, "chunks": 6, "documents": 6, "sources": 6, "bm25_chunks": 6}


def test_chunks_written_before_a_killed_meta_write_are_orphans_and_repair_re_syncs_their_file(index_path):
    before = _ids(index_path)

    def forget(meta):
        del meta["documents"]["lists.md"], meta["sources"]["lists.md"]
    _edit_meta(index_path, forget)
    assert _kinds(index_path) == {"orphan_chunks"}
    report = doctor.repair(index_path)
    assert report.consistent and any("re-synced 1" in line for line in report.repaired)
    assert _ids(index_path) == before


def test_duplicate_rows_and_non_unit_vectors_are_found_and_repaired(index_path):
    table = _table(index_path)
    rows = table.search().where("doc_id = 'tuples.md'").to_arrow()
    table.add(rows)
    doubled = rows.to_pylist()
    for row in doubled:
        row["id"] += "-x"
        row["vector"] = list(np.asarray(row["vector"]) * 2)
    table.add(doubled)
    assert _kinds(index_path) >= {"duplicate_chunks", "bad_vectors", "chunk_count"}
    report = doctor.repair(index_path)
    assert report.consistent and report.figures["rows"] == report.figures["chunks"] == 6


def test_a_document_whose_rows_vanished_is_missing_and_repair_re_syncs_it(index_path):
    _table(index_path).delete("doc_id = 'venv.md'")
    assert "missing_chunks" in _kinds(index_path)
    assert doctor.repair(index_path).consistent
    assert len(_ids(index_path)) == 6


def test_a_bm25_file_stamped_current_but_holding_other_ids_is_rebuilt(index_path):
    from ragft.rag.bm25 import BM25Index

    meta = Catalog.from_json(json.loads((index_path / "meta.json").read_text()))
    BM25Index.build(["ghost"], ["a chunk that is not stored"]).save(index_path / BM25_FILE, meta.stamp)
    assert _kinds(index_path) == {"bm25"}
    report = doctor.repair(index_path)
    assert report.consistent and "rebuilt BM25 from the store" in report.repaired


def test_ragft_doctor_exits_1_naming_the_problem_and_says_how_to_repair(index_path):
    _edit_meta(index_path, lambda meta: meta["documents"]["tuples.md"].update(chunks=5))
    result = subprocess.run([RAGFT, "doctor", "--index", str(index_path)], capture_output=True, text=True)
    assert result.returncode == 1
    assert "chunk_count: 1 document(s) whose stored chunk count differs from meta: tuples.md" in result.stderr
    assert "run `ragft doctor --repair` to fix it" in result.stderr
    as_json = json.loads(subprocess.run([RAGFT, "doctor", "--index", str(index_path), "--json"],
                                        capture_output=True, text=True).stdout)
    assert as_json["consistent"] is False and as_json["problems"][0]["doc_ids"] == ["tuples.md"]


def test_doctor_on_a_folder_without_an_index_says_how_to_make_one(tmp_path):
    result = subprocess.run([RAGFT, "doctor", "--index", str(tmp_path / "none")], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: no index at {tmp_path / 'none'}: run `ragft index DIR` first"
