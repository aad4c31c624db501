"""Tuning retrieval on an eval set: sweep fusion (convex alpha, RRF k and BM25 weight), candidates, k, chunking
and embedder on the train+validation questions, choose there, and report the choice on the held-out test
questions beside the index's current settings with a paired bootstrap interval. `ragft eval tune` is the face.

How a setting is scored: each question's dense and BM25 rankings are fetched once per index at the deepest
depth the sweep needs, then every fusion setting is applied to those lists with the engine's own fusion
functions (`ragft.rag.search`), exactly as `Index.search` would rank at that depth. nDCG@10 is taken over the
top 10, recall@k over the top k (`ragft.evaluate.metrics.score_retrieval`).

Selection on train+validation: the (embedder, chunking, fusion, candidates) with the best mean nDCG@10 (ties go
to the index's current settings, evaluated first); then the smallest k whose recall@k is within K_TOLERANCE of
the best recall over the k grid (a larger k always finds more, and costs prompt tokens). Another chunking or
embedder is built as a sibling index under `<index>.tune/`, syncing the same documents; it shares the index's
embedding cache, so chunk texts unchanged by the new chunking cost no embedding. The user's index is never
rebuilt unless asked (`apply_tuning(..., rebuild=True)`).
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ragft.errors import InputError
from ragft.evaluate.evalset import EvalItem
from ragft.evaluate.metrics import score_retrieval
from ragft.evaluate.splits import Split, split
from ragft.evaluate.stats import compare_detail
from ragft.rag.search import SearchConfig, convex_fuse, rrf_fuse

ALPHAS = (0.3, 0.4, 0.5, 0.6, 0.65, 0.7, 0.8, 0.9)
RRF_KS = (10.0, 20.0, 60.0)
BM25_WEIGHTS = (0.25, 0.5, 1.0)
CANDIDATES = (50, 100, 200)
KS = (3, 5, 10)
DEFAULT_K = 5                   # the k of `ragft ask` and `ragft eval run` when none was saved
K_TOLERANCE = 0.02
MIN_QUESTIONS = 10              # below this the test split has one or two questions: no figure worth reporting
NDCG_DEPTH = 10
TUNING = "tuning"                 # progress stage of the sweep; sibling syncs report ragft.rag.progress stages

TuneProgress = Callable[[str, int, int], None]      # (stage, done, total), as ragft.rag.progress


@dataclass(frozen=True)
class TuneGrid:
    """What the sweep tries. `chunkings` and `embedders` are tried besides the index's own (each needs a sibling
    index); an empty tuple keeps the index's."""

    alphas: tuple[float, ...] = ALPHAS
    rrf_ks: tuple[float, ...] = RRF_KS
    bm25_weights: tuple[float, ...] = BM25_WEIGHTS
    candidates: tuple[int, ...] = CANDIDATES
    ks: tuple[int, ...] = KS
    chunkings: tuple[tuple[int, int], ...] = ()         # (chunk_tokens, overlap)
    embedders: tuple[Any, ...] = ()                     # registry names or Embedder objects

    def search_configs(self, base: SearchConfig | None = None) -> list[SearchConfig]:
        """`base` (the index's current settings) first, then every convex and RRF point of the grid."""
        configs = [base] if base is not None else []
        for candidates in self.candidates:
            configs += [SearchConfig(fusion="convex", alpha=alpha, candidates=candidates) for alpha in self.alphas]
            configs += [SearchConfig(fusion="rrf", rrf_k=rrf_k, weights={"dense": 1.0, "bm25": weight},
                                     candidates=candidates)
                        for rrf_k in self.rrf_ks for weight in self.bm25_weights]
        unique: list[SearchConfig] = []
        for config in configs:
            if config not in unique:
                unique.append(config)
        return unique


def describe(config: SearchConfig) -> str:
    """One short label: 'convex alpha=0.65, 100 candidates' or 'rrf k=20, bm25 weight 0.5, 100 candidates'."""
    if config.fusion == "convex":
        return f"convex alpha={config.alpha:g}, {config.candidates} candidates"
    return (f"rrf k={config.rrf_k:g}, bm25 weight {config.weights.get('bm25', 1.0):g}, "
            f"{config.candidates} candidates")


# ---- scoring a setting from rankings fetched once -------------------------------------------------------

class Rankings:
    """Each question's dense and BM25 rankings from `index` at `depth`, so every fusion setting is scored without
    searching again. Query vectors go through the index's (cached) embedder."""

    def __init__(self, index, items: Sequence[EvalItem], depth: int):
        self.items = list(items)
        self.depth = depth
        vectors = index.embedder.embed([item.question for item in self.items]) if self.items else []
        self.dense = [index.store.dense_search(np.asarray(vector, dtype=np.float32), depth, None)
                      for vector in vectors]
        self.bm25 = [index.bm25.search(item.question, depth, None) for item in self.items]
        ids = {chunk_id for ranked in self.dense + self.bm25 for chunk_id, _ in ranked}
        self.chunks = {chunk.id: chunk for chunk in index.store.get(sorted(ids))}

    def ranked(self, row: int, config: SearchConfig | None, top: int, mode: str = "hybrid") -> list:
        """The top `top` chunks of question `row`, ranked as `Index.search(k=top, mode=mode)` with `config`."""
        depth = max(top, config.candidates) if mode == "hybrid" else top
        if depth > self.depth:
            raise InputError(f"rankings were fetched at depth {self.depth}; setting needs {depth}")
        lists = {"dense": self.dense[row][:depth], "bm25": self.bm25[row][:depth]}
        if mode != "hybrid":
            order = [chunk_id for chunk_id, _ in lists[mode]]
        elif config.fusion == "rrf":
            order = [chunk_id for chunk_id, _, _ in rrf_fuse(lists, config.weights, config.rrf_k)]
        else:
            order = [chunk_id for chunk_id, _, _ in convex_fuse(lists, config.alpha)]
        return [self.chunks[chunk_id] for chunk_id in order[:top] if chunk_id in self.chunks]

    def scores(self, config: SearchConfig | None, k: int, mode: str = "hybrid") -> dict[str, np.ndarray]:
        """Per-question nDCG@10 (over the top 10) and recall@k (over the top k), in question order."""
        ndcg, recall = [], []
        for row, item in enumerate(self.items):
            top = self.ranked(row, config, max(k, NDCG_DEPTH), mode)
            ndcg.append(score_retrieval(top[:NDCG_DEPTH], item.relevant_ids, k=NDCG_DEPTH).ndcg_at_10)
            recall.append(score_retrieval(top[:k], item.relevant_ids, k=k).recall_at_k)
        return {"ndcg@10": np.asarray(ndcg), "recall@k": np.asarray(recall)}


# ---- the sweep ---------------------------------------------------------------------------------------------

@dataclass
class Setting:
    """One point of the sweep and its mean scores on the tuning (train+validation) questions."""

    embedder: str
    chunk_tokens: int
    overlap: int
    config: SearchConfig
    k: int
    ndcg: float = 0.0
    recall: float = 0.0

    @property
    def chunking(self) -> tuple[int, int]:
        return (self.chunk_tokens, self.overlap)

    def to_dict(self) -> dict[str, Any]:
        return {"embedder": self.embedder, "chunk_tokens": self.chunk_tokens, "overlap": self.overlap,
                "search": self.config.to_json(), "label": describe(self.config), "k": self.k,
                "train_ndcg@10": round(self.ndcg, 4), "train_recall@k": round(self.recall, 4)}


@dataclass
class TuneResult:
    """What `tune` found. `baseline`: the index's current settings; `best`: the overall choice; `best_current`:
    the best that keeps the index's chunking and embedder (what can be saved without a rebuild)."""

    baseline: Setting
    best: Setting
    best_current: Setting
    split: dict[str, Any]
    test: dict[str, Any]
    sweep: list[dict[str, Any]]
    planned: int
    evaluated: int
    complete: bool
    seconds: float
    embedding_cache: dict[str, Any] = field(default_factory=dict)
    indexes: list[dict[str, Any]] = field(default_factory=list)
    embedders: dict[str, Any] = field(default_factory=dict, repr=False)    # name -> the embedder tried

    @property
    def needs_rebuild(self) -> bool:
        return (self.best.embedder, self.best.chunking) != (self.baseline.embedder, self.baseline.chunking)

    def to_dict(self) -> dict[str, Any]:
        return {"baseline": self.baseline.to_dict(), "best": self.best.to_dict(),
                "best_current": self.best_current.to_dict(), "needs_rebuild": self.needs_rebuild,
                "split": self.split, "test": self.test, "planned": self.planned, "evaluated": self.evaluated,
                "complete": self.complete, "seconds": round(self.seconds, 2),
                "embedding_cache": self.embedding_cache, "indexes": self.indexes, "sweep": self.sweep}


def tuning_split(items: Sequence[EvalItem], seed: int = 0) -> Split:
    """The seeded train/validation/test split of the items that have relevant ids; refuses too few of them."""
    usable = [item for item in items if item.relevant_ids]
    if not usable:
        raise InputError("the eval set has no relevant_ids: tuning retrieval needs the gold document of each "
                         "question (make one with `ragft eval make`)")
    if len(usable) < MIN_QUESTIONS:
        raise InputError(f"only {len(usable)} questions with relevant_ids: tuning needs at least {MIN_QUESTIONS} "
                         "for a train+validation and a test split")
    return split(usable, seed=seed)


def tune(index, items: Sequence[EvalItem], docs: Sequence[str | Path] = (), *, grid: TuneGrid = TuneGrid(),
         seed: int = 0, k: int | None = None, root: str | Path | None = None, time_budget: float | None = None,
         on_progress: TuneProgress | None = None, n_resamples: int = 1000) -> TuneResult:
    """Sweep `grid` on the train+validation split of `items` over `index` (an open Index holding `docs`), choose,
    and score the choice and the index's current settings (search config, `k` or DEFAULT_K) on the test split.

    `docs`: the corpus folders, needed only to build sibling indexes for other chunkings/embedders. `time_budget`
    (seconds): stop sweeping when spent; the result says how far it got (`evaluated` of `planned`)."""
    started = time.monotonic()
    tell = on_progress or (lambda stage, done, total: None)
    parts = tuning_split(items, seed)
    tuning = parts.train + parts.validation
    test_ids = {item.id for item in parts.test}
    if test_ids & {item.id for item in tuning} or len(test_ids) != len(parts.test):
        raise InputError("question ids must be unique: the same id in the tuning and the test questions would "
                         "leak test questions into tuning")
    base_k = k or saved_k(index) or DEFAULT_K
    ks = tuple(sorted(set(grid.ks) | {base_k}))
    configs = grid.search_configs(index.config)
    name, tokens, overlap, _ = index_facts(index)
    current = Variant(name, tokens, overlap, getattr(index.embedder, "inner", index.embedder))
    variants = variants_of(grid, current)
    if len(variants) > 1 and not docs:
        raise InputError("trying other chunkings or embedders needs the corpus folders (docs) to index")
    depth = max([c.candidates for c in configs] + list(ks) + [NDCG_DEPTH])
    planned = len(variants) * len(configs)
    evaluated, complete = 0, True
    sweep: list[dict[str, Any]] = []
    best_of: dict[tuple, tuple[Setting, Rankings]] = {}
    opened_by_key: dict[tuple, Any] = {current.key: index}
    hits_before = _cache_counts(index)
    siblings, built = [], []
    try:
        for variant in variants:
            if _spent(started, time_budget) and evaluated:
                complete = False
                break
            if variant.key != current.key:
                sibling, cached = _sibling(index, variant, docs, root, on_progress)
                siblings.append((sibling, cached))
                opened_by_key[variant.key] = sibling
                built.append({"embedder": variant.name, "chunk_tokens": variant.chunk_tokens,
                              "overlap": variant.overlap, "path": str(sibling.path), "chunks": sibling.store.count(),
                              "embedding_cache": {"hits": cached.hits, "misses": cached.misses}})
            rankings = Rankings(opened_by_key[variant.key], tuning, depth)
            for config in configs:
                if _spent(started, time_budget) and evaluated:
                    complete = False
                    break
                scores = rankings.scores(config, base_k)
                setting = Setting(variant.name, variant.chunk_tokens, variant.overlap, config, base_k,
                                  float(scores["ndcg@10"].mean()), float(scores["recall@k"].mean()))
                sweep.append(setting.to_dict())
                evaluated += 1
                tell(TUNING, evaluated, planned)
                held = best_of.get(variant.key)
                if held is None or setting.ndcg > held[0].ndcg:
                    best_of[variant.key] = (setting, rankings)
            if not complete:
                break
        first = sweep[0]                # the index's own variant and settings are scored first
        baseline = Setting(current.name, current.chunk_tokens, current.overlap, index.config, base_k,
                           first["train_ndcg@10"], first["train_recall@k"])
        best_key = max(best_of, key=lambda key: (best_of[key][0].ndcg, key == current.key))
        best = _choose_k(*best_of[best_key], ks)
        best_current = best if best_key == current.key else _choose_k(*best_of[current.key], ks)
        test = _test_figures(index, opened_by_key[best_key], parts.test, baseline, best, depth, n_resamples, seed)
    finally:
        for sibling, cached in siblings:
            sibling.close()
            cached.close()
    hits_after = _cache_counts(index)
    split_info = {"seed": seed, "train": len(parts.train), "validation": len(parts.validation),
                  "test": len(parts.test), "test_ids": sorted(test_ids)}
    cache = {"sibling_hits": sum(b["embedding_cache"]["hits"] for b in built),
             "sibling_misses": sum(b["embedding_cache"]["misses"] for b in built),
             "query_hits": hits_after[0] - hits_before[0], "query_misses": hits_after[1] - hits_before[1]}
    return TuneResult(baseline, best, best_current, split_info, test, sweep, planned, evaluated, complete,
                      time.monotonic() - started, cache, built, {v.name: v.embedder for v in variants})


@dataclass(frozen=True)
class Variant:
    """An embedder and a chunking: one index of the sweep. `embedder` is a registry name or an Embedder."""

    name: str
    chunk_tokens: int
    overlap: int
    embedder: Any = field(compare=False, hash=False)

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.name, self.chunk_tokens, self.overlap)

    @property
    def label(self) -> str:
        return "-".join(str(part) for part in self.key).replace("/", "_").replace(":", "_")


def variants_of(grid: TuneGrid, current: Variant) -> list[Variant]:
    """The index's own variant first, then every other embedder x chunking of the grid."""
    embedders = [(current.name, current.embedder)] + [(_name(e), e) for e in grid.embedders]
    chunkings = [(current.chunk_tokens, current.overlap)] + [tuple(c) for c in grid.chunkings]
    for tokens, overlap in chunkings:
        if tokens < 1 or not 0 <= overlap < tokens:
            raise InputError(f"chunking {tokens}:{overlap}: need chunk_tokens >= 1 and 0 <= overlap < chunk_tokens")
    found: dict[tuple, Variant] = {}
    for name, embedder in embedders:
        for tokens, overlap in chunkings:
            variant = Variant(name, tokens, overlap, embedder)
            found.setdefault(variant.key, variant)
    return list(found.values())


def _spent(started: float, budget: float | None) -> bool:
    return budget is not None and time.monotonic() - started > budget


def _name(embedder) -> str:
    if isinstance(embedder, str):
        return embedder
    from ragft.rag.engine import _registry_name

    return _registry_name(embedder)


def scratch_dir(index_path: Path) -> Path:
    """Where sibling indexes of other chunkings/embedders go: `<index>.tune/` next to the index."""
    return index_path.parent / f"{index_path.name}.tune"


def _sibling(index, variant: Variant, docs, root, on_progress):
    """An index of `docs` with `variant`'s embedder and chunking under the scratch folder, synced (only new or
    changed files are embedded again), sharing `index`'s embedding cache; returns (index, its cached embedder)."""
    from ragft.rag.embedders import create_embedder
    from ragft.rag.embedding_cache import CachedEmbedder
    from ragft.rag.engine import EMBEDDING_CACHE_FILE, Index

    inner = create_embedder(variant.embedder) if isinstance(variant.embedder, str) else variant.embedder
    cached = CachedEmbedder(inner, index.path / EMBEDDING_CACHE_FILE)
    try:
        sibling = Index.open(scratch_dir(index.path) / variant.label, embedder=cached,
                             chunk_tokens=variant.chunk_tokens, overlap=variant.overlap, embedding_cache=False)
        try:
            sibling.sync(list(docs), root=root, progress=False, on_progress=on_progress)
        except BaseException:
            sibling.close()
            raise
    except BaseException:
        cached.close()
        raise
    return sibling, cached


def _cache_counts(index) -> tuple[int, int]:
    embedder = index.embedder
    return int(getattr(embedder, "hits", 0)), int(getattr(embedder, "misses", 0))


def _choose_k(setting: Setting, rankings: Rankings, ks: Sequence[int]) -> Setting:
    """The smallest k whose train+validation recall@k is within K_TOLERANCE of the best k's."""
    recalls = {k: float(rankings.scores(setting.config, k)["recall@k"].mean()) for k in ks}
    top = max(recalls.values())
    chosen = min(k for k, value in recalls.items() if value >= top - K_TOLERANCE)
    return replace(setting, k=chosen, recall=recalls[chosen])


def _test_figures(index, best_index, test: Sequence[EvalItem], baseline: Setting, best: Setting, depth: int,
                  n_resamples: int, seed: int) -> dict[str, Any]:
    """nDCG@10 and recall@k of the baseline and of the choice on the test questions only, with paired bootstrap
    intervals of choice - baseline."""
    base_rankings = Rankings(index, test, depth)
    best_rankings = base_rankings if best_index is index else Rankings(best_index, test, depth)
    base = base_rankings.scores(baseline.config, baseline.k)
    chosen = best_rankings.scores(best.config, best.k)
    figures: dict[str, Any] = {"questions": len(test)}
    for metric in ("ndcg@10", "recall@k"):
        detail = compare_detail(chosen[metric], base[metric], n_resamples=n_resamples, seed=seed)
        figures[metric] = {"baseline": round(detail.mean_b, 4), "tuned": round(detail.mean_a, 4),
                           "difference": round(detail.difference, 4), "low": round(detail.low, 4),
                           "high": round(detail.high, 4), "winner": {"a": "tuned", "b": "baseline"}.get(
                               detail.winner, "tie")}
    return figures


# ---- saving the choice -----------------------------------------------------------------------------------

def save_settings(index, config: SearchConfig, k: int | None, tuned: dict[str, Any] | None = None) -> None:
    """Persist the search settings in the index, so search, ask and eval open it with them."""
    index.save_search_settings(config, k=k, tuned=tuned)


def saved_k(index) -> int | None:
    """The k saved with the index (None: none saved)."""
    search = index.catalog.search
    return None if search is None else search.k


def index_facts(index) -> tuple[str, int, int, dict[str, str]]:
    """(embedder registry name, chunk_tokens, overlap, {source key: path}) of an open index."""
    catalog = index.catalog
    return (catalog.embedder, catalog.chunking.max_tokens, catalog.chunking.overlap,
            {key: source.path for key, source in catalog.sources.items() if source.path})


def apply_tuning(index, result: TuneResult, docs: Sequence[str | Path] = (), root: str | Path | None = None,
                 rebuild: bool = False, on_progress: TuneProgress | None = None):
    """Save the choice into `index` and return the (possibly reopened) index. Without `rebuild`, only settings
    that keep the index's chunking and embedder are saved (`best_current`); with it, a choice of another
    chunking or embedder rebuilds the index from `docs` first (the shared embedding cache makes that cheap)."""
    from ragft.rag.engine import Index

    setting = result.best if rebuild else result.best_current
    if rebuild and result.needs_rebuild:
        if not docs:
            raise InputError("rebuilding the index needs its corpus folders (docs)")
        path = index.path
        index.close()
        index = Index.open(path, embedder=result.embedders.get(setting.embedder, setting.embedder), rebuild=True,
                           chunk_tokens=setting.chunk_tokens, overlap=setting.overlap)
        index.sync(list(docs), root=root, progress=False, on_progress=on_progress)
    tuned = {"tuned_at": time.time(), "split_seed": result.split["seed"], "test": result.test,
             "train_ndcg@10": round(setting.ndcg, 4), "complete": result.complete}
    save_settings(index, setting.config, setting.k, tuned)
    return index


def index_root(index) -> Path | None:
    """The folder the index's document ids are relative to, read from its recorded sources (None if unknown)."""
    for doc_id, where in index_facts(index)[3].items():
        path = Path(where)
        parts = Path(doc_id).parts
        if len(path.parts) > len(parts) and path.parts[-len(parts):] == parts:
            return Path(*path.parts[:-len(parts)])
    return None


# ---- the whole job, as `ragft eval tune` runs it ---------------------------------------------------------

@dataclass
class TuneOutcome:
    """`tune_index`'s answer: the sweep's result, what was saved (None: nothing, a dry run), whether the index
    was rebuilt, and the chunking/embedder change a rebuild would bring when one was chosen but not applied."""

    result: TuneResult
    index: str
    origin: str
    saved: dict[str, Any] | None
    rebuilt: bool
    rebuild_needed: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "questions": self.origin, "saved": self.saved, "rebuilt": self.rebuilt,
                "rebuild_needed": self.rebuild_needed, **self.result.to_dict()}


def load_tuning_questions(evalset: str | Path | None = None, docs: Sequence[str | Path] = (),
                          bench: str | None = None, bench_source: str | Path | None = None,
                          bench_cache: str | Path | None = None, distractors: int | None = None):
    """(items, corpus folders, origin) of an eval set with its --docs folders, or of a built-in bench."""
    from ragft.evaluate.evalset import load_evalset
    from ragft.evaluate.questions import bench_questions, corpus_folders

    if (evalset is None) == (bench is None):
        raise InputError("give either an eval set (--evalset FILE --docs DIR) or a built-in bench (--bench NAME)")
    if bench is not None:
        loaded = bench_questions([bench], bench_cache, bench_source, distractors)
        return loaded.items, loaded.corpus_dirs, loaded.origin
    folders = corpus_folders(docs)
    return load_evalset(evalset), folders, str(evalset)


def tune_index(index_path: str | Path, items: Sequence[EvalItem], docs: Sequence[str | Path], origin: str, *,
               grid: TuneGrid = TuneGrid(), seed: int = 0, k: int | None = None, time_budget: float | None = None,
               dry_run: bool = False, rebuild: bool = False, on_progress: TuneProgress | None = None,
               embedder: Any = None) -> TuneOutcome:
    """Open the index at `index_path`, check the questions' gold ids point into it, `tune`, and (unless
    `dry_run`) save the choice: `best_current` as is, or `best` after a rebuild when `rebuild` is set."""
    from ragft.errors import NoIndexError, NotFoundError
    from ragft.evaluate.questions import check_relevant_ids
    from ragft.rag.engine import Index

    try:
        index = Index.open(index_path, embedder=embedder, create=False)
    except NoIndexError:
        import shlex

        root = f" --root {shlex.quote(str(docs[0]))}" if len(docs) == 1 else ""
        folders = " ".join(shlex.quote(str(folder)) for folder in docs) or "DOCS"
        raise NotFoundError(f"no index at {index_path}: index the corpus first with `ragft index {folders}{root} "
                            f"--index {shlex.quote(str(index_path))}`, then tune it") from None
    try:
        check_relevant_ids(items, origin, index)
        root = index_root(index)
        if root is None or not all(_inside(Path(folder), root) for folder in docs):
            root = Path(docs[0]) if len(docs) == 1 else None     # sync's own default for several folders
        result = tune(index, items, docs, grid=grid, seed=seed, k=k, root=root, time_budget=time_budget,
                      on_progress=on_progress)
        saved, rebuilt = None, False
        if not dry_run:
            rebuilt = rebuild and result.needs_rebuild
            index = apply_tuning(index, result, docs, root, rebuild=rebuild, on_progress=on_progress)
            chosen = result.best if rebuilt else result.best_current
            saved = {"search": chosen.config.to_json(), "k": chosen.k}
        change = None
        if result.needs_rebuild and not rebuilt:
            change = {"embedder": result.best.embedder, "chunk_tokens": result.best.chunk_tokens,
                      "overlap": result.best.overlap, "from": {"embedder": result.baseline.embedder,
                                                                "chunk_tokens": result.baseline.chunk_tokens,
                                                                "overlap": result.baseline.overlap}}
        return TuneOutcome(result, str(index_path), origin, saved, rebuilt, change)
    finally:
        index.close()


def grid_from_text(alphas: str | None = None, rrf_ks: str | None = None, bm25_weights: str | None = None,
                   candidates: str | None = None, ks: str | None = None, chunkings: str | None = None,
                   embedders: str | None = None) -> TuneGrid:
    """A TuneGrid from comma-separated flag values ("0.5,0.7"; chunkings "200:32,400:64"); None keeps the default."""
    def numbers(flag: str, text: str | None, kind, default):
        if text is None:
            return default
        try:
            values = tuple(kind(part) for part in text.split(",") if part.strip())
        except ValueError:
            raise InputError(f"{flag}: expected comma-separated numbers, got {text!r}") from None
        if not values:
            raise InputError(f"{flag}: give at least one value")
        return values

    pairs: tuple[tuple[int, int], ...] = ()
    if chunkings:
        try:
            pairs = tuple((int(a), int(b)) for a, b in (part.split(":") for part in chunkings.split(",") if part))
        except ValueError:
            raise InputError(f"--chunkings: expected TOKENS:OVERLAP pairs such as 200:32,400:64, got {chunkings!r}") \
                from None
    grid = TuneGrid(alphas=numbers("--alphas", alphas, float, ALPHAS),
                    rrf_ks=numbers("--rrf-ks", rrf_ks, float, RRF_KS),
                    bm25_weights=numbers("--bm25-weights", bm25_weights, float, BM25_WEIGHTS),
                    candidates=numbers("--candidates", candidates, int, CANDIDATES),
                    ks=numbers("--ks", ks, int, KS), chunkings=pairs,
                    embedders=tuple(e.strip() for e in (embedders or "").split(",") if e.strip()))
    for value in grid.candidates + grid.ks:
        if value < 1:
            raise InputError(f"--candidates/--ks: values must be >= 1, got {value}")
    grid.search_configs()                   # SearchConfig's own checks (alpha in [0, 1], rrf_k >= 0)
    return grid


def _inside(path: Path, root: Path) -> bool:
    path, root = path.resolve(), root.resolve()
    return path == root or root in path.parents
