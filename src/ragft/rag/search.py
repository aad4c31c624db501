"""Ranking: dense (store), BM25 and hybrid search, fused by a convex combination of scores or by RRF.

convex (default): each method's scores are min-max normalised over the `candidates` it returned, then
alpha * dense + (1 - alpha) * bm25; a chunk a method did not return gets 0 for that method.
rrf: sum over methods m of weight_m / (rrf_k + rank_m), rank starting at 1; a chunk a method did not
return contributes nothing for that method.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Mapping, Sequence

import numpy as np

from ragft.errors import InputError
from ragft.rag.bm25 import BM25Index
from ragft.rag.document import Hit
from ragft.rag.filters import compile_where
from ragft.rag.stores.base import Store

MODES = ("hybrid", "dense", "bm25")
FUSIONS = ("convex", "rrf")
_PARALLEL_FROM = 20_000
_EXECUTOR = None


def _executor():
    global _EXECUTOR
    if _EXECUTOR is None:
        from concurrent.futures import ThreadPoolExecutor

        _EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ragft-bm25")
    return _EXECUTOR


@dataclass(frozen=True)
class SearchConfig:
    """Hybrid fusion settings; `candidates` = depth taken from each method.

    Defaults (convex, alpha=0.65, candidates=100) were first picked on the Python FAQ bench alone, then
    re-chosen by cross-validation over both built-in benches (benchmarks/bench_fusion_crossval.py; docs/
    benchmarks.md, "Fusion defaults by cross-validation"): the same point has the best worst-bench gain over
    dense of the 66 convex/RRF settings tried, and tuned on either bench it gains on the other's held-out
    questions. Rank-only RRF let BM25's misses push dense's right answers down. rrf_k=60 is Cormack et al.
    (2009). `ragft eval tune` fits them to a team's own eval set."""

    fusion: str = "convex"
    alpha: float = 0.65          # convex: weight of dense; BM25 gets 1 - alpha
    rrf_k: float = 60.0          # rrf only
    weights: Mapping[str, float] = field(default_factory=lambda: {"dense": 1.0, "bm25": 1.0})   # rrf only
    candidates: int = 100

    def __post_init__(self):
        if self.fusion not in FUSIONS:
            raise InputError(f"fusion: unknown fusion {self.fusion!r}; choose one of: {', '.join(FUSIONS)}")
        if not 0 <= self.alpha <= 1:
            raise InputError(f"alpha: must be between 0 and 1, got {self.alpha}")
        if self.candidates < 1:
            raise InputError(f"candidates: must be at least 1, got {self.candidates}")
        if self.rrf_k < 0:
            raise InputError(f"rrf_k: must be >= 0, got {self.rrf_k}")
        unknown = set(self.weights) - {"dense", "bm25"}
        if unknown:
            raise InputError(f"weights: unknown method(s) {sorted(unknown)}; use 'dense' and 'bm25'")

    def to_json(self) -> dict[str, Any]:
        """The one JSON form of these settings (meta.json's "search", Index.stats, `eval tune --json`, the eval
        run's retrieval settings): {"fusion", "alpha", "rrf_k", "weights", "candidates"}, values as given."""
        return {"fusion": self.fusion, "alpha": self.alpha, "rrf_k": self.rrf_k, "weights": dict(self.weights),
                "candidates": self.candidates}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SearchConfig:
        """The settings in `data` (a `to_json` dict, or one holding more, e.g. saved search settings with their
        `k`): its SearchConfig keys are read, a missing one takes the default, other keys are the caller's."""
        known = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        if "weights" in known:
            known["weights"] = dict(known["weights"])
        return cls(**known)


def rrf_fuse(
    rankings: Mapping[str, Sequence[tuple[str, float]]],
    weights: Mapping[str, float],
    rrf_k: float = 60.0,
) -> list[tuple[str, float, dict[str, float]]]:
    """Fuse ranked (id, score) lists by weighted RRF; returns (id, fused score, per-method scores) best first."""
    def contribution(method: str, ranked: Sequence[tuple[str, float]]):
        weight = float(weights.get(method, 1.0))
        return lambda rank, score: weight / (rrf_k + rank)

    return _fuse(rankings, contribution)


def convex_fuse(
    rankings: Mapping[str, Sequence[tuple[str, float]]],
    alpha: float = 0.65,
) -> list[tuple[str, float, dict[str, float]]]:
    """Fuse ranked (id, score) lists by alpha * dense + (1 - alpha) * bm25 of scores min-max normalised per
    list (a list whose scores are all equal normalises to 1); returns as `rrf_fuse` does."""
    def contribution(method: str, ranked: Sequence[tuple[str, float]]):
        weight = alpha if method == "dense" else 1.0 - alpha
        low = min((score for _, score in ranked), default=0.0)
        span = max((score for _, score in ranked), default=0.0) - low
        return lambda rank, score: weight * ((score - low) / span if span > 0 else 1.0)

    return _fuse(rankings, contribution)


def _fuse(rankings, contribution) -> list[tuple[str, float, dict[str, float]]]:
    """Sum each method's contribution(rank, score) per id. Ties are broken by the best rank an id got in
    any method, then by id, so output is deterministic."""
    fused: dict[str, float] = {}
    best_rank: dict[str, int] = {}
    method_scores: dict[str, dict[str, float]] = {}
    for method, ranked in rankings.items():
        add = contribution(method, ranked)
        for rank, (item_id, score) in enumerate(ranked, start=1):
            fused[item_id] = fused.get(item_id, 0.0) + add(rank, score)
            best_rank[item_id] = min(best_rank.get(item_id, rank), rank)
            method_scores.setdefault(item_id, {})[method] = score
    order = sorted(fused, key=lambda i: (-fused[i], best_rank[i], i))
    return [(item_id, fused[item_id], method_scores[item_id]) for item_id in order]


def search(
    store: Store,
    bm25: BM25Index,
    query: str,
    query_vector: np.ndarray | None,
    k: int = 10,
    mode: str = "hybrid",
    where: dict[str, Any] | None = None,
    config: SearchConfig = SearchConfig(),
) -> list[Hit]:
    """Top-k chunks for a query by `mode`; `query_vector` is needed for dense and hybrid."""
    if mode not in MODES:
        raise InputError(f"mode: unknown search mode {mode!r}; choose one of: {', '.join(MODES)}")
    if k < 1:
        raise InputError(f"k: must be at least 1, got {k}")
    depth = k if mode != "hybrid" else max(k, config.candidates)
    if mode != "bm25" and query_vector is None:
        raise InputError(f"mode {mode!r} needs a query vector (an embedder)")
    rankings: dict[str, list[tuple[str, float]]] = {}
    lexical = None
    if mode in ("bm25", "hybrid"):
        keep = _keep_ids(store, where)
        if mode == "hybrid" and len(bm25) >= _PARALLEL_FROM:
            # The dense product is memory-bound numpy that releases the GIL: score BM25 meanwhile.
            lexical = _executor().submit(bm25.search, query, depth, keep)
        else:
            rankings["bm25"] = bm25.search(query, depth, keep)
    if mode in ("dense", "hybrid"):
        rankings["dense"] = store.dense_search(query_vector, depth, where)
    if lexical is not None:
        rankings["bm25"] = lexical.result()
    if mode != "hybrid":
        ranked = [(i, s, {mode: s}) for i, s in rankings[mode]]
    else:
        if config.fusion == "rrf":
            fused = rrf_fuse(rankings, config.weights, config.rrf_k)
        else:
            fused = convex_fuse(rankings, config.alpha)
        ranked = [(i, s, {**scores, config.fusion: s}) for i, s, scores in fused]
    return _to_hits(store, ranked[:k])


def _keep_ids(store: Store, where: dict[str, Any] | None):
    predicate = compile_where(where)
    if predicate is None:
        return None
    filter_ids = getattr(store, "filter_ids", None)      # optional fast path (cached id set)
    if filter_ids is not None:
        return filter_ids(where)

    def keep(chunk_id: str) -> bool:
        found = store.get([chunk_id])
        return bool(found) and predicate(found[0])

    return keep


def _to_hits(store: Store, ranked: list[tuple[str, float, dict[str, float]]]) -> list[Hit]:
    chunks = {chunk.id: chunk for chunk in store.get([item_id for item_id, _, _ in ranked])}
    hits = []
    for item_id, score, scores in ranked:
        chunk = chunks.get(item_id)
        if chunk is not None:
            hits.append(Hit(chunk=chunk, score=score, rank=len(hits) + 1, scores=scores))
    return hits
