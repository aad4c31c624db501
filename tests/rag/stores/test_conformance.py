"""Every store backend behaves alike: the same chunks back, the same filters, the same ranking as exact cosine
search (within an ANN tolerance), and everything still there after reopening."""
from __future__ import annotations

import numpy as np
import pytest

from ragft.errors import IndexMismatchError, NotFoundError
from ragft.rag.bm25 import BM25Index
from ragft.rag.document import Chunk
from ragft.rag.filters import compile_where
from ragft.rag.search import search
from ragft.rag.stores import open_store

from store_cases import make_chunks, unit_vectors

N = 120


def filled(backend, n: int = N, dim: int = 16):
    chunks, vectors = make_chunks(n), unit_vectors(n, dim)
    store = backend.open()
    store.upsert(chunks, vectors)
    return store, chunks, vectors


def exact_ids(vectors: np.ndarray, query: np.ndarray, k: int) -> list[str]:
    return [f"c{i}" for i in np.argsort(-(vectors @ query), kind="stable")[:k]]


def test_upserted_chunks_come_back_whole_from_get_and_chunks(backend):
    store, chunks, _ = filled(backend)
    assert store.count() == N
    assert store.get(["c7", "missing", "c3"]) == [chunks[7], chunks[3]]
    assert sorted(store.chunks(), key=lambda c: int(c.id[1:])) == chunks
    assert store.dim == 16


def test_upsert_replaces_a_chunk_with_the_same_id(backend):
    store, _, vectors = filled(backend, n=8)
    changed = Chunk(id="c0", doc_id="elsewhere.md", text="new text", metadata={"source": "new.md"})
    store.upsert([changed], -vectors[:1])
    assert store.count() == 8
    assert store.get(["c0"]) == [changed]
    assert store.dense_search(-vectors[0], 1)[0][0] == "c0"


def test_delete_documents_removes_their_chunks_and_counts_them(backend):
    store, chunks, vectors = filled(backend, n=20)
    assert store.delete_documents(["dir1/doc1.md", "never-indexed.md"]) == 5
    assert store.count() == 15
    survivors = {cid for cid, _ in store.dense_search(vectors[1], 20)}
    assert survivors == {c.id for c in chunks if c.doc_id != "dir1/doc1.md"}
    assert store.delete_documents([]) == 0


def test_dense_search_ranks_like_exact_cosine_within_ann_tolerance(backend):
    store, _, vectors = filled(backend)
    getattr(store, "compact", lambda: None)()        # builds pgvector's HNSW index
    for seed in range(5):
        query = unit_vectors(1, seed=100 + seed)[0]
        found = store.dense_search(query, 10)
        expected = exact_ids(vectors, query, 10)
        assert len(found) == 10
        assert len({cid for cid, _ in found} & set(expected)) >= 9
        for cid, score in found:
            assert score == pytest.approx(float(vectors[int(cid[1:])] @ query), abs=1e-4)
        assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)


WHERES = [
    {"doc_id": "dir0/doc2.md"},
    {"doc_id": ["dir0/doc0.md", "dir1/doc3.md"]},
    {"title": "Title 1"},
    {"prefix": "dir1/"},
    {"prefix": "src/dir0"},
    {"doc_id": "dir1/*"},
    {"source": "src/dir0/doc2*"},
    {"lang": "de"},
    {"page": 2},
    {"page": "1"},
    {"draft": True},
    {"missing": None, "lang": "en"},
    {"prefix": ["dir0/doc0", "dir1/doc1"], "page": [0, 1]},
]


def test_filters_keep_exactly_the_chunks_the_reference_filter_keeps(backend):
    store, chunks, vectors = filled(backend)
    ranked = exact_ids(vectors, vectors[0], N)
    for where in WHERES:
        keep = compile_where(where)
        expected = {c.id for c in chunks if keep(c)}
        assert expected, f"{where} keeps nothing, so tests nothing"
        found = store.dense_search(vectors[0], N, where=where)
        assert {cid for cid, _ in found} == expected, where
        top = store.dense_search(vectors[0], 3, where=where)
        assert [cid for cid, _ in top] == [cid for cid in ranked if cid in expected][:3], where
        filter_ids = getattr(store, "filter_ids", None)
        if filter_ids is not None:
            assert filter_ids(where) == expected, where


def test_hybrid_search_returns_the_same_hits_as_the_embedded_store(backend, tmp_path):
    store, chunks, vectors = filled(backend)
    reference = open_store(str(tmp_path / "reference"))
    reference.upsert(chunks, vectors)
    bm25 = BM25Index.build([c.id for c in chunks], [c.text for c in chunks])
    for text, seed, where in (("garbage collector thread", 1, None), ("unicode string", 2, {"prefix": "dir0/"})):
        query = unit_vectors(1, seed=seed)[0]
        ours = search(store, bm25, text, query, k=5, mode="hybrid", where=where)
        theirs = search(reference, bm25, text, query, k=5, mode="hybrid", where=where)
        assert [h.chunk for h in ours] == [h.chunk for h in theirs]
        assert [h.score for h in ours] == pytest.approx([h.score for h in theirs], abs=1e-4)


def test_chunks_vectors_and_meta_survive_reopening(backend):
    store, chunks, vectors = filled(backend, n=30)
    store.write_meta({"embedder": "static", "generation": 3, "documents": {"dir0/doc0.md": {"chunks": 8}}})
    reopened = backend.open(create=False)
    assert reopened.count() == 30
    assert reopened.get(["c7"]) == [chunks[7]]
    assert reopened.dense_search(vectors[7], 1)[0][0] == "c7"
    assert reopened.read_meta() == {"embedder": "static", "generation": 3,
                                    "documents": {"dir0/doc0.md": {"chunks": 8}}}


def test_meta_is_empty_until_written_and_overwritten_whole(backend):
    store = backend.open()
    assert store.read_meta() == {}
    store.write_meta({"a": 1, "b": [1, 2]})
    store.write_meta({"a": 2})
    assert store.read_meta() == {"a": 2}


def test_an_empty_store_answers_with_nothing(backend):
    store = backend.open()
    assert store.count() == 0
    assert store.dense_search(unit_vectors(1)[0], 5) == []
    assert store.get(["c1"]) == [] and list(store.chunks()) == []
    assert store.delete_documents(["doc"]) == 0


def test_vectors_of_another_dimension_are_refused(backend):
    store, _, _ = filled(backend, n=2)
    with pytest.raises(IndexMismatchError, match="16-dimensional"):
        store.upsert(make_chunks(1), unit_vectors(1, dim=8))


def test_opening_a_missing_store_without_create_names_the_fix(backend):
    with pytest.raises(NotFoundError, match="no index at .*: sync documents into it first"):
        backend.open(create=False)


def test_chunk_ids_lists_the_chunks_of_the_given_documents(backend):
    store, chunks, _ = filled(backend, n=12)
    chunk_ids = getattr(store, "chunk_ids", None)
    if chunk_ids is None:
        pytest.skip(f"{backend.name} has no chunk_ids fast path")
    assert sorted(chunk_ids(["dir0/doc2.md", "nope"])) == sorted(c.id for c in chunks if c.doc_id == "dir0/doc2.md")
