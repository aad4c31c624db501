"""The LanceDB store: chunks and vectors persist in the folder, search is exact, deletes are immediate."""
from __future__ import annotations

import numpy as np
import pytest

from ragft.errors import IndexMismatchError, NotFoundError
from ragft.rag.document import Chunk
from ragft.rag.stores import open_store
from ragft.rag.vectors import VectorMatrix, top_k


def unit_vectors(n: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def make_chunks(n: int, docs: int = 4) -> list[Chunk]:
    return [
        Chunk(id=f"c{i}", doc_id=f"doc{i % docs}", text=f"text {i}", title=f"Title {i % docs}",
              heading_path=("A", f"B{i}"), start=i, end=i + 5, metadata={"source": f"dir{i % 2}/doc{i % docs}.md"})
        for i in range(n)
    ]


def test_chunks_and_vectors_survive_reopening_the_folder(tmp_path):
    chunks, vectors = make_chunks(20), unit_vectors(20)
    open_store(str(tmp_path)).upsert(chunks, vectors)
    reopened = open_store(str(tmp_path))
    assert reopened.count() == 20
    assert reopened.get(["c7"]) == [chunks[7]]
    assert reopened.dense_search(vectors[7], 1)[0][0] == "c7"


def test_dense_search_ranks_exactly_by_cosine(tmp_path):
    vectors = unit_vectors(200)
    store = open_store(str(tmp_path))
    store.upsert(make_chunks(200), vectors)
    query = unit_vectors(1, seed=9)[0]
    expected = np.argsort(-(vectors @ query))[:10]
    found = store.dense_search(query, 10)
    assert [cid for cid, _ in found] == [f"c{i}" for i in expected]
    assert [round(s, 5) for _, s in found] == [round(float(vectors[i] @ query), 5) for i in expected]


def test_delete_documents_removes_their_chunks_now_and_after_reopening(tmp_path):
    vectors = unit_vectors(20)
    store = open_store(str(tmp_path))
    store.upsert(make_chunks(20), vectors)
    assert store.delete_documents(["doc1"]) == 5
    assert all(cid not in {f"c{i}" for i in range(1, 20, 4)} for cid, _ in store.dense_search(vectors[1], 20))
    assert open_store(str(tmp_path)).count() == 15


def test_upsert_replaces_a_chunk_with_the_same_id(tmp_path):
    chunks, vectors = make_chunks(4), unit_vectors(5)
    store = open_store(str(tmp_path))
    store.upsert(chunks, vectors[:4])
    changed = Chunk(id="c0", doc_id="doc0", text="new text")
    store.upsert([changed], vectors[4:5])
    assert store.count() == 4
    assert open_store(str(tmp_path)).get(["c0"])[0].text == "new text"
    assert store.dense_search(vectors[4], 1)[0][0] == "c0"


def test_where_filters_dense_search_by_doc_id_title_and_source_prefix(tmp_path):
    vectors = unit_vectors(40)
    store = open_store(str(tmp_path))
    store.upsert(make_chunks(40), vectors)
    by_doc = store.dense_search(vectors[0], 40, where={"doc_id": "doc2"})
    assert {store.get([cid])[0].doc_id for cid, _ in by_doc} == {"doc2"} and len(by_doc) == 10
    by_title = store.dense_search(vectors[0], 40, where={"title": "Title 3"})
    assert len(by_title) == 10
    by_prefix = store.dense_search(vectors[0], 40, where={"prefix": "dir1/"})
    assert {int(cid[1:]) % 2 for cid, _ in by_prefix} == {1}


def test_vectors_of_another_dimension_are_refused(tmp_path):
    store = open_store(str(tmp_path))
    store.upsert(make_chunks(2), unit_vectors(2, dim=16))
    with pytest.raises(IndexMismatchError, match="16-dimensional"):
        store.upsert(make_chunks(1), unit_vectors(1, dim=8))


def test_opening_a_missing_store_without_create_names_the_fix(tmp_path):
    with pytest.raises(NotFoundError, match="no index at .*: sync documents into it first"):
        open_store(str(tmp_path / "nothing"), create=False)


def test_meta_is_written_atomically_and_read_back(tmp_path):
    store = open_store(str(tmp_path))
    store.write_meta({"embedder": "static", "generation": 3})
    assert open_store(str(tmp_path)).read_meta() == {"embedder": "static", "generation": 3}
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_compaction_merges_fragments_and_keeps_every_row(tmp_path):
    store = open_store(str(tmp_path))
    vectors = unit_vectors(30)
    for i in range(30):
        store.upsert(make_chunks(30)[i:i + 1], vectors[i:i + 1])
    assert store.compact(max_fragments=4)
    assert open_store(str(tmp_path)).count() == 30


def test_vector_matrix_compacts_tombstones_without_losing_live_rows():
    matrix: VectorMatrix[str] = VectorMatrix(dim=16, capacity=16)
    vectors = unit_vectors(3000)
    matrix.add([f"v{i}" for i in range(3000)], vectors, [f"p{i}" for i in range(3000)])
    matrix.remove(f"v{i}" for i in range(0, 3000, 2))      # enough to trigger compaction
    assert len(matrix) == 1500
    assert matrix.search(vectors[1001], 1) == [("v1001", pytest.approx(1.0, abs=1e-5))]
    assert matrix.payload("v1001") == "p1001" and matrix.payload("v1000") is None


def test_top_k_orders_best_first_and_skips_minus_infinity():
    scores = np.array([0.5, -np.inf, 0.9, 0.5, 0.1])
    assert top_k(scores, 3).tolist() == [2, 0, 3]
    assert top_k(scores, 10).tolist() == [2, 0, 3, 4]


def test_vector_matrix_rescore_ranks_given_ids_exactly_and_skips_unknown_ones():
    matrix = VectorMatrix(16)
    vectors = unit_vectors(30)
    matrix.add([f"c{i}" for i in range(30)], vectors, list(range(30)))
    matrix.remove(["c3"])
    query = unit_vectors(1, seed=4)[0]
    found = matrix.rescore(query, ["c1", "c2", "c3", "c9", "nope", "c2"], k=2)
    expected = sorted((1, 2, 9), key=lambda i: -float(vectors[i] @ query))[:2]
    assert [cid for cid, _ in found] == [f"c{i}" for i in expected]
    assert found[0][1] == pytest.approx(float(vectors[expected[0]] @ query), abs=1e-6)
