"""The RAG engine on each store backend: `Index.open(path, store=URL)` syncs, searches and forgets files the
same way, and a second machine (another index folder) opening the same URL sees the same index."""
from __future__ import annotations

from ragft.rag.engine import Index


def open_index(path, backend, **options):
    backend.close()                      # a local Qdrant folder admits one client at a time
    index = Index.open(path, embedder="test-hashing", store=backend.location, **options)
    backend._open.append(index.store)
    return index


def test_an_index_on_any_store_syncs_searches_and_forgets_deleted_files(backend, tmp_path, corpus):
    with open_index(tmp_path / "index", backend) as index:
        report = index.sync([corpus], progress=False)
        assert len(report.added) == 6 and report.chunks_total == index.store.count()
        for mode in ("hybrid", "dense", "bm25"):
            assert index.search("immutable sequences heterogeneous values", k=3, mode=mode)[0].chunk.doc_id \
                == "tuples.md"
        assert {h.chunk.doc_id for h in index.search("thread lock", k=10, where={"prefix": "advanced/"})} \
            <= {"advanced/gc.md", "advanced/gil.md"}
        (corpus / "advanced" / "gil.md").unlink()
        assert index.sync([corpus], progress=False).removed == ["advanced/gil.md"]
        assert all(h.chunk.doc_id != "advanced/gil.md" for h in index.search("interpreter lock thread", k=10))


def test_another_folder_opening_the_same_store_sees_the_same_index(backend, tmp_path, corpus):
    with open_index(tmp_path / "first", backend) as index:
        index.sync([corpus], progress=False)
        documents, total = dict(index.catalog.documents), index.store.count()
    with open_index(tmp_path / "second", backend, create=False) as other:
        assert other.catalog.documents == documents and other.store.count() == total
        assert other.search("garbage collector reference cycles", k=1, mode="bm25")[0].chunk.doc_id \
            == "advanced/gc.md"


def test_rebuild_empties_the_store(backend, tmp_path, corpus):
    with open_index(tmp_path / "index", backend) as index:
        index.sync([corpus], progress=False)
    with open_index(tmp_path / "index", backend, rebuild=True) as index:
        assert index.store.count() == 0 and index.catalog.documents == {}
