"""`Index`: sync mirrors folders by content hash, add is immediately searchable, mismatches are refused,
answers cite their chunks and are cached until the index changes."""
from __future__ import annotations

import json

import pytest

from ragft.errors import IndexMismatchError, NotFoundError
from ragft.rag.bm25 import BM25Index
from ragft.rag.catalog import Catalog
from ragft.rag.document import Document
from ragft.rag.embedders.base import EMBEDDERS
from ragft.rag.engine import BM25_FILE, Index
from ragft.testing import HashingEmbedder


def open_index(path, **options):
    return Index.open(path, embedder=options.pop("embedder", "test-hashing"), **options)


def top_doc(index, query, mode="hybrid", **options):
    hits = index.search(query, k=3, mode=mode, **options)
    return hits[0].chunk.doc_id if hits else None


def test_sync_indexes_a_folder_and_search_finds_the_right_chunk(tmp_path, corpus):
    with open_index(tmp_path / "index") as index:
        report = index.sync([corpus], progress=False)
        assert sorted(report.added) == ["advanced/gc.md", "advanced/gil.md", "dicts.md", "lists.md",
                                        "tuples.md", "venv.md"]
        assert report.failed == [] and report.chunks_total == index.store.count() >= 6
        for mode in ("hybrid", "dense", "bm25"):
            assert top_doc(index, "immutable sequences heterogeneous values", mode) == "tuples.md"
        hit = index.search("garbage collector reference cycles", k=1)[0]
        assert hit.chunk.metadata["source"].endswith("gc.md") and set(hit.scores) == {"dense", "bm25", "convex"}


def test_second_sync_skips_unchanged_files_by_content_hash(tmp_path, corpus):
    with open_index(tmp_path / "index") as index:
        first = index.sync([corpus], progress=False)
    with open_index(tmp_path / "index") as index:
        second = index.sync([corpus], progress=False)
        assert second.unchanged == 6 and not second.changed and second.chunks_added == 0
        assert second.generation == first.generation


def test_sync_reindexes_a_changed_file_and_forgets_its_old_text(tmp_path, corpus):
    with open_index(tmp_path / "index") as index:
        index.sync([corpus], progress=False)
        (corpus / "lists.md").write_text("# Lists\n\nSlicing a list with a negative step reverses it.\n")
        report = index.sync([corpus], progress=False)
        assert report.updated == ["lists.md"] and report.unchanged == 5
        assert top_doc(index, "negative step reverses", "bm25") == "lists.md"
        assert all(h.chunk.doc_id != "lists.md" for h in index.search("append item end", k=10, mode="bm25"))


def test_sync_removes_documents_whose_file_was_deleted(tmp_path, corpus):
    with open_index(tmp_path / "index") as index:
        index.sync([corpus], progress=False)
        (corpus / "advanced" / "gil.md").unlink()
        report = index.sync([corpus], progress=False)
        assert report.removed == ["advanced/gil.md"]
        assert all(h.chunk.doc_id != "advanced/gil.md" for h in index.search("interpreter lock thread", k=10))
    with open_index(tmp_path / "index") as index:
        assert "advanced/gil.md" not in index.catalog.documents


def test_syncing_one_folder_keeps_documents_indexed_from_another(tmp_path, corpus):
    other = tmp_path / "notes"
    other.mkdir()
    (other / "release.md").write_text("# Release\n\nThe release train leaves every second Tuesday.\n")
    with open_index(tmp_path / "index") as index:
        index.sync([corpus], root=tmp_path, progress=False)
        index.sync([other], root=tmp_path, progress=False)
        index.sync([corpus], root=tmp_path, progress=False)
        assert top_doc(index, "release train tuesday", "bm25") == "notes/release.md"


def test_bad_files_are_reported_and_skipped_while_the_rest_indexes(tmp_path, corpus):
    (corpus / "binary.md").write_bytes(b"\x00\xff\xfe\x00garbage\x00" * 20)
    (corpus / "empty.txt").write_text("")
    with open_index(tmp_path / "index") as index:
        report = index.sync([corpus], progress=False)
        failed = {path.rsplit("/", 1)[-1] for path, _ in report.failed}
        assert failed == {"binary.md", "empty.txt"}
        assert len(report.added) == 6 and top_doc(index, "dictionary hashable keys") == "dicts.md"


def test_added_document_is_searchable_as_soon_as_add_returns(tmp_path, corpus):
    with open_index(tmp_path / "index") as index:
        index.sync([corpus], progress=False)
        index.add([Document(id="news/zorblax.md", text="The zorblax module frobnicates widgets nightly.",
                            title="Zorblax")])
        assert top_doc(index, "zorblax frobnicates widgets") == "news/zorblax.md"
    with open_index(tmp_path / "index") as index:       # and it was persisted
        assert top_doc(index, "zorblax frobnicates widgets", "bm25") == "news/zorblax.md"


def test_remove_takes_documents_out_of_search_until_sync_finds_their_file_again(tmp_path, corpus):
    with open_index(tmp_path / "index") as index:
        index.sync([corpus], progress=False)
        assert index.remove(["dicts.md", "not-there.md"]) >= 1
        assert all(h.chunk.doc_id != "dicts.md" for h in index.search("dictionary keys values", k=10))
        assert index.sync([corpus], progress=False).added == ["dicts.md"]     # its file is still there


def test_where_filters_search_by_doc_id_and_path_prefix(tmp_path, corpus):
    with open_index(tmp_path / "index") as index:
        index.sync([corpus], progress=False)
        hits = index.search("python", k=10, where={"prefix": "advanced/"})
        assert hits and {h.chunk.doc_id for h in hits} <= {"advanced/gc.md", "advanced/gil.md"}
        assert {h.chunk.doc_id for h in index.search("python", k=10, where={"doc_id": "venv.md"})} == {"venv.md"}


def test_index_built_with_another_embedder_is_refused(tmp_path, corpus):
    with open_index(tmp_path / "index") as index:
        index.sync([corpus], progress=False)
    with pytest.raises(IndexMismatchError) as error:
        Index.open(tmp_path / "index", embedder="minilm")
    assert str(error.value) == (f"index at {tmp_path / 'index'} was built with embedder test-hashing; "
                                "open it with rebuild=True or embedder=test-hashing")


class WiderHashing(HashingEmbedder):
    name = "test-hashing-wide:v1"
    dim = 96


def test_rebuild_lets_an_index_change_embedder(tmp_path, corpus):
    with open_index(tmp_path / "index") as index:
        index.sync([corpus], progress=False)
    with EMBEDDERS.registered("test-hashing-wide", WiderHashing), \
            Index.open(tmp_path / "index", embedder="test-hashing-wide", rebuild=True) as index:
        assert index.store.count() == 0
        index.sync([corpus], progress=False)
        assert index.stats()["dim"] == 96 and top_doc(index, "virtual environment packages") == "venv.md"


def test_rebuilding_reuses_the_embedding_cache_for_unchanged_text(tmp_path, corpus):
    with open_index(tmp_path / "index") as index:
        first = index.sync([corpus], progress=False)
    assert first.embedding_cache["misses"] == first.chunks_added and first.embedding_cache["hits"] == 0
    with open_index(tmp_path / "index", rebuild=True) as index:
        again = index.sync([corpus], progress=False)
    assert again.chunks_added == first.chunks_added and again.embedding_cache["hits"] == first.chunks_added


def test_changed_chunking_is_refused(tmp_path, corpus):
    with open_index(tmp_path / "index", chunk_tokens=120, overlap=16) as index:
        index.sync([corpus], progress=False)
    with pytest.raises(IndexMismatchError, match="chunk_tokens=120 overlap=16; open it with rebuild=True or those values"):
        open_index(tmp_path / "index", chunk_tokens=200)
    with open_index(tmp_path / "index") as index:      # unspecified = as recorded
        assert index.stats()["chunking"] == {"max_tokens": 120, "overlap": 16}


def test_opening_a_missing_index_without_create_says_how_to_make_one(tmp_path):
    with pytest.raises(NotFoundError, match="no index at .*: sync documents into it first"):
        Index.open(tmp_path / "none", create=False)


def test_bm25_is_saved_after_sync_and_rebuilt_when_stale(tmp_path, corpus):
    with open_index(tmp_path / "index") as index:
        index.sync([corpus], progress=False)
        assert BM25Index.load(tmp_path / "index" / BM25_FILE, index.catalog.stamp) is not None
    index = open_index(tmp_path / "index")
    index.add([Document(id="late.md", text="Quokkas smile for cameras.")])
    meta = Catalog.from_json(json.loads((tmp_path / "index" / "meta.json").read_text()))
    assert BM25Index.load(tmp_path / "index" / BM25_FILE, meta.stamp) is None   # not closed: stale
    with open_index(tmp_path / "index") as reopened:
        assert top_doc(reopened, "quokkas smile", "bm25") == "late.md"


def test_ask_answers_with_numbered_citations_mapping_to_retrieved_chunks(tmp_path, corpus):
    with open_index(tmp_path / "index") as index:
        index.sync([corpus], progress=False)
        answer = index.ask("What does the global interpreter lock do?", generator="extractive", k=3)
        assert "[1]" in answer.text or "[2]" in answer.text or "[3]" in answer.text
        assert answer.citations and answer.citations[0].doc_id == "advanced/gil.md"
        for citation in answer.citations:
            assert answer.hits[citation.ref - 1].chunk.id == citation.chunk_id
            assert f"[{citation.ref}]" in answer.text
        assert set(answer.timings) >= {"embed", "search", "generate", "total"}
        assert answer.input_tokens > 0 and answer.output_tokens > 0 and answer.cache["hit"] is None


def test_repeated_and_near_duplicate_questions_are_served_from_the_cache(tmp_path, corpus):
    with open_index(tmp_path / "index", cache_threshold=0.85) as index:
        index.sync([corpus], progress=False)
        first = index.ask("What does the global interpreter lock do?")
        exact = index.ask("what does the global interpreter lock do")
        near = index.ask("What does the global interpreter lock do, exactly?")
        other = index.ask("How do I create a virtual environment?")
        assert exact.cache["hit"] == "exact" and exact.text == first.text
        assert [c.chunk_id for c in exact.citations] == [c.chunk_id for c in first.citations]
        assert exact.input_tokens == 0 and exact.cache["saved_input_tokens"] == first.input_tokens
        assert near.cache["hit"] == "near" and near.cache["similarity"] >= 0.85
        assert other.cache["hit"] is None
        assert other.cache["lookups"] == 4 and other.cache["hits"] == 2 and other.cache["hit_rate"] == 0.5


def test_cached_answers_are_invalidated_when_the_index_changes(tmp_path, corpus):
    with open_index(tmp_path / "index") as index:
        index.sync([corpus], progress=False)
        index.ask("What are tuples?")
        index.add([Document(id="tuples-2.md", text="Named tuples give tuple fields names.")])
        assert index.ask("What are tuples?").cache["hit"] is None
    with open_index(tmp_path / "index") as index:       # the new answer survives reopening
        assert index.ask("What are tuples?").cache["hit"] == "exact"


def test_streamed_answer_pieces_join_to_its_text_and_fill_citations(tmp_path, corpus):
    with open_index(tmp_path / "index") as index:
        index.sync([corpus], progress=False)
        answer = index.ask("How do virtual environments isolate packages?", stream=True, use_cache=False)
        pieces = list(answer)
        assert len(pieces) >= 1 and "".join(pieces) == answer.text != ""
        assert answer.citations and answer.tokens_estimated and "first_token" in answer.timings


def test_stats_report_sizes_settings_and_caches(tmp_path, corpus):
    with open_index(tmp_path / "index") as index:
        index.sync([corpus], progress=False)
        stats = index.stats()
    assert stats["documents"] == 6 and stats["chunks"] >= 6 and stats["embedder"] == "test-hashing"
    assert stats["search"]["fusion"] == "convex" and stats["search"]["alpha"] == 0.65 and stats["answer_cache"]["entries"] == 0


@pytest.mark.slow
def test_real_minilm_index_answers_a_paraphrased_question(tmp_path, corpus):
    with Index.open(tmp_path / "index", embedder="minilm") as index:
        index.sync([corpus], progress=False)
        assert top_doc(index, "How can each project keep its own installed libraries?", "dense") == "venv.md"
        assert index.stats()["embedder"] == "minilm"
    with Index.open(tmp_path / "index") as index:       # the recorded embedder is used by default
        assert index.embedder.dim == 384
