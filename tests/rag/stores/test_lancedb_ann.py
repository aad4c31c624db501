"""The embedded store's ANN mode: past `ann_min_rows` compact() builds LanceDB's IVF_HNSW_SQ index and
unfiltered dense search goes through it; new rows stay searchable, deleted ones vanish, filters stay exact."""
from __future__ import annotations

import numpy as np
import pytest

from ragft.errors import InputError
from ragft.rag.engine import Index
from ragft.rag.stores import open_store
from ragft.rag.stores.lancedb_store import AnnSettings
from store_cases import make_chunks, unit_vectors


def clustered(n: int, dim: int = 32, clusters: int = 40, seed: int = 0) -> np.ndarray:
    """Unit vectors around a few centres, as real embeddings are (uniform noise is every ANN's worst case)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    points = centres[rng.integers(clusters, size=n)] + 0.35 * rng.normal(size=(n, dim))
    return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def ann_store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ann")
    vectors = clustered(3000)
    store = open_store(f"{folder}?ann_min_rows=2000&partition_rows=500&nprobes=6")   # 6 IVF partitions, all probed
    store.upsert(make_chunks(1500), vectors[:1500])
    assert not store.compact() or not store.has_ann_index()     # below the threshold: exact search
    store.upsert(make_chunks(3000)[1500:], vectors[1500:])
    assert store.compact() and store.has_ann_index()
    return folder, vectors


def test_below_the_threshold_search_stays_exact(tmp_path):
    store = open_store(f"{tmp_path}?ann_min_rows=100")
    store.upsert(make_chunks(50), unit_vectors(50))
    store.compact()
    assert not store.has_ann_index()
    assert store.index_description == "exact (in-memory matrix)"


def test_ann_search_finds_the_exact_neighbours_with_exact_scores(ann_store):
    folder, vectors = ann_store
    assert open_store(str(folder)).has_ann_index()     # reopened without options: the index is found on disk
    store = open_store(f"{folder}?nprobes=6")         # every partition: IVF training is not seeded
    assert store.index_description.startswith("IVF_HNSW_SQ")
    queries = clustered(50, seed=7)
    hits = 0
    for query in queries:
        found = store.dense_search(query, 10)
        exact = store._matrix.search(query, 10)
        hits += len({cid for cid, _ in found} & {cid for cid, _ in exact})
        row = int(found[0][0][1:])
        assert found[0][1] == pytest.approx(float(vectors[row] @ query), abs=1e-4)   # refined: exact score
    assert hits / (10 * len(queries)) >= 0.95


def test_rows_written_after_the_build_are_found_and_deleted_ones_are_not(ann_store, tmp_path):
    folder, vectors = ann_store
    store = open_store(str(folder))
    fresh = clustered(5, seed=99)
    store.upsert([make_chunks(3005)[3000 + i] for i in range(5)], fresh)
    assert store.dense_search(fresh[3], 1)[0][0] == "c3003"           # unindexed rows are scanned exactly
    store.delete_documents(["dir1/doc1.md"])
    assert not {cid for cid, _ in store.dense_search(vectors[1], 50)} & {"c1", "c5", "c9"}
    assert store.dense_search(vectors[2], 1)[0][0] == "c2"


def test_filtered_search_through_an_ann_store_is_exact(ann_store):
    folder, _ = ann_store
    store = open_store(str(folder))
    query = clustered(1, seed=3)[0]
    found = store.dense_search(query, 5, where={"lang": "de"})
    expected = store._matrix.search(query, 5, store._filter({"lang": "de"})[0])
    assert found == expected and all(store.get([cid])[0].metadata["lang"] == "de" for cid, _ in found)


def test_compact_folds_many_unindexed_rows_into_the_index(tmp_path):
    vectors = clustered(2600, seed=5)
    store = open_store(f"{tmp_path}?ann_min_rows=2000")
    store.upsert(make_chunks(2000), vectors[:2000])
    assert store.compact() and store.has_ann_index()
    store.upsert(make_chunks(2600)[2000:], vectors[2000:])             # 23% of the table unindexed
    assert store.compact()
    index = store._ann_index()
    assert (index.num_indexed_rows, index.num_unindexed_rows) == (2600, 0)


@pytest.mark.parametrize("location, field", [("idx?nprobes=x", "nprobes"), ("idx?probes=4", "probes"),
                                             ("idx?ef=0", "ef")])
def test_bad_ann_options_in_the_location_are_one_line_errors(tmp_path, location, field):
    with pytest.raises(InputError, match=field) as error:
        open_store(str(tmp_path / location))
    assert "\n" not in str(error.value)


def test_location_options_parse_into_settings():
    folder, settings = AnnSettings.from_location("/data/idx?nprobes=4&refine_factor=3&ann_min_rows=0&ef=50")
    assert folder == "/data/idx"
    assert (settings.nprobes, settings.refine_factor, settings.min_rows, settings.ef) == (4, 3, 0, 50)
    assert settings.partition_rows == AnnSettings().partition_rows


def test_an_index_past_the_threshold_builds_the_ann_index_on_sync_and_answers_through_it(tmp_path):
    root = tmp_path / "docs"
    root.mkdir()
    texts = [f"Document {i} is about topic {i % 7} and word{i}." for i in range(60)]
    for i, text in enumerate(texts):
        (root / f"doc{i}.md").write_text(text, encoding="utf-8")
    folder = tmp_path / "index"
    with Index.open(folder, embedder="test-hashing", store=f"{folder}?ann_min_rows=40") as index:
        index.sync([root], root=root, progress=False)
        assert index.stats()["dense_index"].startswith("IVF_HNSW_SQ")
        hits = index.search(texts[17], k=3, mode="dense")
    assert hits[0].chunk.doc_id == "doc17.md"


def test_the_first_build_runs_on_merged_fragments(tmp_path):
    store = open_store(f"{tmp_path}?ann_min_rows=20")
    vectors = clustered(30, seed=8)
    for i in range(30):                                             # one fragment per write
        store.upsert(make_chunks(30)[i:i + 1], vectors[i:i + 1])
    assert store.compact(max_fragments=4) and store.has_ann_index()
    assert store._table.stats()["fragment_stats"]["num_fragments"] == 1
    assert store.dense_search(vectors[12], 1)[0][0] == "c12"
