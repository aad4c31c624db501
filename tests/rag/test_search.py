"""BM25 scoring, convex and reciprocal rank fusion, and hybrid search on a case where dense and BM25 disagree."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from ragft.errors import InputError
from ragft.rag.bm25 import BM25Index, tokenize
from ragft.rag.document import Chunk
from ragft.rag.search import SearchConfig, convex_fuse, rrf_fuse, search
from ragft.rag.stores import open_store

CORPUS = {
    "a": "Lists are mutable sequences; lists grow.",
    "b": "Tuples are immutable sequences.",
    "c": "A dictionary maps keys to values.",
    "d": "Strings are immutable sequences of characters, like tuples.",
    "e": "The garbage collector frees memory.",
}


def reference_bm25(query: str, docs: dict[str, str], k1=1.5, b=0.75) -> dict[str, float]:
    tokens = {i: tokenize(t) for i, t in docs.items()}
    avgdl = sum(len(t) for t in tokens.values()) / len(tokens)
    scores = {}
    for doc_id, words in tokens.items():
        total = 0.0
        for term in set(tokenize(query)):
            df = sum(term in t for t in tokens.values())
            tf = words.count(term)
            if tf:
                idf = math.log(1 + (len(tokens) - df + 0.5) / (df + 0.5))
                total += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(words) / avgdl))
        if total > 0:
            scores[doc_id] = total
    return scores


def test_tokenizer_lowercases_splits_on_non_alphanumerics_and_drops_stopwords():
    assert tokenize("The os.path module, IS it FAST?") == ["os", "path", "module", "fast"]


def test_tokenizer_folds_plurals_only():
    assert tokenize("lists entries classes status glass uses running") == [
        "list", "entry", "classe", "status", "glass", "use", "running"]


def test_bm25_scores_match_the_okapi_formula():
    index = BM25Index.build(list(CORPUS), list(CORPUS.values()))
    expected = reference_bm25("immutable sequences tuples", CORPUS)
    found = dict(index.search("immutable sequences tuples", 10))
    assert found.keys() == expected.keys()
    for doc_id, score in expected.items():
        assert found[doc_id] == pytest.approx(score, rel=1e-5)
    assert index.search("immutable sequences tuples", 1)[0][0] == "b"


def test_bm25_after_incremental_adds_and_removes_equals_a_fresh_build():
    incremental = BM25Index(merge_at=2)
    incremental.add(["a", "b", "x"], [CORPUS["a"], CORPUS["b"], "temporary tuples text"])
    incremental.add(["c", "d"], [CORPUS["c"], CORPUS["d"]])
    incremental.remove(["x"])
    incremental.add(["e"], [CORPUS["e"]])
    fresh = BM25Index.build(list(CORPUS), list(CORPUS.values()))
    for query in ("immutable sequences", "tuples", "memory keys values"):
        got, want = incremental.search(query, 10), fresh.search(query, 10)
        assert [i for i, _ in got] == [i for i, _ in want]
        assert [s for _, s in got] == pytest.approx([s for _, s in want], rel=1e-5)


def test_bm25_keep_restricts_candidates():
    index = BM25Index.build(list(CORPUS), list(CORPUS.values()))
    assert [i for i, _ in index.search("immutable", 10, keep=lambda i: i != "b")] == ["d"]
    assert [i for i, _ in index.search("immutable", 10, keep={"b", "c", "gone"})] == ["b"]


def test_bm25_saved_file_loads_back_only_with_its_stamp(tmp_path):
    index = BM25Index.build(list(CORPUS), list(CORPUS.values()))
    index.save(tmp_path / "bm25.npz", stamp="gen-1")
    loaded = BM25Index.load(tmp_path / "bm25.npz", stamp="gen-1")
    assert loaded.search("immutable sequences", 5) == index.search("immutable sequences", 5)
    assert BM25Index.load(tmp_path / "bm25.npz", stamp="gen-2") is None
    assert BM25Index.load(tmp_path / "bm25.npz", stamp="gen-1", k1=1.2) is None


def test_rrf_adds_weighted_reciprocal_ranks():
    fused = rrf_fuse({"dense": [("x", 0.9), ("y", 0.8)], "bm25": [("y", 7.0), ("z", 3.0)]},
                     {"dense": 1.0, "bm25": 2.0}, rrf_k=10)
    scores = {i: s for i, s, _ in fused}
    assert scores == pytest.approx({"x": 1 / 11, "y": 1 / 12 + 2 / 11, "z": 2 / 12})
    assert [i for i, _, _ in fused] == ["y", "z", "x"]
    assert fused[0][2] == {"dense": 0.8, "bm25": 7.0}


def test_convex_fusion_weights_min_max_normalised_scores_by_alpha():
    fused = convex_fuse({"dense": [("x", 0.9), ("y", 0.7), ("z", 0.5)],
                         "bm25": [("y", 8.0), ("w", 4.0), ("x", 2.0)]}, alpha=0.6)
    scores = {i: s for i, s, _ in fused}
    assert scores == pytest.approx({"x": 0.6, "y": 0.6 * 0.5 + 0.4, "w": 0.4 * (2 / 6), "z": 0.0})
    assert [i for i, _, _ in fused] == ["y", "x", "w", "z"]
    assert fused[0][2] == {"dense": 0.7, "bm25": 8.0}


def test_convex_fusion_scores_a_list_of_equal_scores_as_one_and_skips_an_empty_list():
    fused = convex_fuse({"dense": [("x", 0.3)], "bm25": []}, alpha=0.65)
    assert fused == [("x", pytest.approx(0.65), {"dense": 0.3})]


def RRF():
    return SearchConfig(fusion="rrf")


def disagreement_store(tmp_path):
    """Dense prefers B, BM25 prefers A; C is second in both. Query vector = e0."""
    dim = 8
    angles = {"B": 1.0, "C": 0.8, "D": 0.6, "E": 0.5, "F": 0.4, "A": 0.0}
    texts = {
        "A": "jaguar speed: a jaguar reaches a top speed of 80 km/h",
        "B": "big cats of south america hunt at dusk",
        "C": "the jaguar is a large cat of the americas; its speed is notable among cats of the rainforest",
        "D": "rainforest animals", "E": "predators and prey", "F": "wildlife photography",
    }
    chunks, vectors = [], []
    for name, cos in angles.items():
        vector = np.zeros(dim, dtype=np.float32)
        vector[0], vector[1] = cos, math.sqrt(1 - cos * cos)
        chunks.append(Chunk(id=name, doc_id=f"doc-{name}", text=texts[name]))
        vectors.append(vector)
    store = open_store(str(tmp_path))
    store.upsert(chunks, np.stack(vectors))
    bm25 = BM25Index.build([c.id for c in chunks], [c.text for c in chunks])
    query_vector = np.eye(dim, dtype=np.float32)[0]
    return store, bm25, query_vector


def test_hybrid_ranks_first_the_chunk_both_methods_rank_well_when_they_disagree(tmp_path):
    store, bm25, qv = disagreement_store(tmp_path)
    dense = [h.chunk.id for h in search(store, bm25, "jaguar speed", qv, k=3, mode="dense")]
    lexical = [h.chunk.id for h in search(store, bm25, "jaguar speed", qv, k=3, mode="bm25")]
    hybrid = search(store, bm25, "jaguar speed", qv, k=3, mode="hybrid", config=RRF())
    assert dense[0] == "B" and lexical[0] == "A"
    assert [h.chunk.id for h in hybrid] == ["C", "A", "B"]
    top = hybrid[0]
    assert top.scores["rrf"] == pytest.approx(2 / 62) and top.score == top.scores["rrf"]
    assert top.scores["dense"] == pytest.approx(0.8) and top.scores["bm25"] > 0
    assert [h.rank for h in hybrid] == [1, 2, 3]


def test_default_hybrid_adds_alpha_weighted_normalised_dense_and_bm25_scores(tmp_path):
    store, bm25, qv = disagreement_store(tmp_path)
    hybrid = search(store, bm25, "jaguar speed", qv, k=4)
    # Dense cosines B 1.0 ... A 0.0 normalise to themselves; BM25 returns only A (1) and C (0).
    assert [h.chunk.id for h in hybrid] == ["B", "C", "D", "A"]
    assert [h.score for h in hybrid] == pytest.approx([0.65, 0.65 * 0.8, 0.65 * 0.6, 0.35])
    assert hybrid[0].scores == {"dense": pytest.approx(1.0), "convex": pytest.approx(0.65)}
    assert set(hybrid[3].scores) == {"dense", "bm25", "convex"}


def test_convex_alpha_moves_the_ranking_between_bm25_and_dense(tmp_path):
    store, bm25, qv = disagreement_store(tmp_path)
    lexical_heavy = SearchConfig(alpha=0.2)
    assert [h.chunk.id for h in search(store, bm25, "jaguar speed", qv, k=2, config=lexical_heavy)] == ["A", "B"]
    dense_only = SearchConfig(alpha=1.0)
    assert [h.chunk.id for h in search(store, bm25, "jaguar speed", qv, k=3, config=dense_only)] == ["B", "C", "D"]


def test_hybrid_weights_and_rrf_k_change_the_rrf_fusion(tmp_path):
    store, bm25, qv = disagreement_store(tmp_path)
    dense_only = SearchConfig(fusion="rrf", weights={"dense": 1.0, "bm25": 0.0})
    assert [h.chunk.id for h in search(store, bm25, "jaguar speed", qv, k=2, config=dense_only)] == ["B", "C"]
    lexical_heavy = SearchConfig(fusion="rrf", rrf_k=1, weights={"dense": 1.0, "bm25": 3.0})
    assert search(store, bm25, "jaguar speed", qv, k=1, config=lexical_heavy)[0].chunk.id == "A"


def test_search_applies_where_to_both_methods(tmp_path):
    store, bm25, qv = disagreement_store(tmp_path)
    hits = search(store, bm25, "jaguar speed", qv, k=5, where={"doc_id": ["doc-A", "doc-D"]})
    assert sorted(h.chunk.id for h in hits) == ["A", "D"]


def test_unknown_mode_and_bad_k_are_refused(tmp_path):
    store, bm25, qv = disagreement_store(tmp_path)
    with pytest.raises(InputError, match="unknown search mode 'sparse'"):
        search(store, bm25, "q", qv, mode="sparse")
    with pytest.raises(InputError, match="k: must be at least 1"):
        search(store, bm25, "q", qv, k=0)
    with pytest.raises(InputError, match="unknown method"):
        SearchConfig(weights={"splade": 1.0})
    with pytest.raises(InputError, match="unknown fusion 'sum'"):
        SearchConfig(fusion="sum")
    with pytest.raises(InputError, match="alpha: must be between 0 and 1"):
        SearchConfig(alpha=1.5)


def test_search_config_json_round_trips_and_reads_only_its_own_keys():
    configs = [SearchConfig(), SearchConfig(alpha=0.3, candidates=20),
               SearchConfig(fusion="rrf", rrf_k=20.0, weights={"dense": 1.0, "bm25": 0.5}, candidates=50)]
    for config in configs:
        data = config.to_json()
        assert json.loads(json.dumps(data)) == data
        assert SearchConfig.from_json(data) == config
        assert SearchConfig.from_json({**data, "k": 3, "tuned": {"by": "ragft eval tune"}}) == config
    assert configs[2].to_json() == {"fusion": "rrf", "alpha": 0.65, "rrf_k": 20.0,
                                    "weights": {"dense": 1.0, "bm25": 0.5}, "candidates": 50}
    data = configs[2].to_json()
    data["weights"]["bm25"] = 9.0                       # a copy: editing the JSON leaves the config alone
    assert configs[2].weights["bm25"] == 0.5 and SearchConfig.from_json(data).weights["bm25"] == 9.0
    assert SearchConfig.from_json({}) == SearchConfig()
    assert SearchConfig.from_json({"alpha": 0.4}) == SearchConfig(alpha=0.4)
    with pytest.raises(InputError, match="alpha: must be between 0 and 1"):
        SearchConfig.from_json({"alpha": 2})
