"""Parallel ingestion on one machine: embedding spread over worker processes, results written to any store.

`ParallelEmbedder` is an Embedder (same name, dim and vectors as the one it wraps) whose `embed` splits each
batch over a pool of processes, each holding its own copy of the model; `ingest` syncs folders into an index
(embedded folder or a store URL) with it. Beyond one machine the same split runs on a cluster (Ray Data) or
a provider's batch API: see docs/scale-out.md.
"""
from __future__ import annotations

import multiprocessing
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from ragft.errors import InputError

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_worker_embedder = None


def _start_worker(name: str, options: dict[str, Any]) -> None:
    global _worker_embedder
    from ragft.rag.embedders import create_embedder

    _worker_embedder = create_embedder(name, **options)


def _describe() -> tuple[str, int]:
    return _worker_embedder.name, _worker_embedder.dim


def _embed_shard(texts: list[str]) -> np.ndarray:
    return np.asarray(_worker_embedder.embed(texts), dtype=np.float32)


@contextmanager
def _threads_per_worker(threads: int) -> Iterator[None]:
    """Workers inherit the environment when spawned: give each `threads` BLAS threads, not one per core."""
    saved = {var: os.environ.get(var) for var in _THREAD_VARS}
    os.environ.update({var: str(threads) for var in _THREAD_VARS if saved[var] is None})
    try:
        yield
    finally:
        for var, value in saved.items():
            if value is None:
                os.environ.pop(var, None)


class ParallelEmbedder:
    """A registry embedder run in `workers` processes; `embed` keeps the order of the texts."""

    def __init__(self, embedder: str, workers: int = 2, min_shard: int = 16, **options: Any):
        if workers < 1:
            raise InputError(f"workers: must be at least 1, got {workers}")
        self.workers = workers
        self.min_shard = min_shard
        threads = max(1, (os.cpu_count() or 1) // workers)
        with _threads_per_worker(threads):
            self._pool = multiprocessing.get_context("spawn").Pool(
                workers, initializer=_start_worker, initargs=(embedder, options))
        self.name, self.dim = self._pool.apply(_describe)
        self.stats = {"calls": 0, "texts": 0, "seconds": 0.0, "workers": workers}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        started = time.perf_counter()
        shards = max(1, min(self.workers, len(texts) // self.min_shard))
        bounds = np.linspace(0, len(texts), shards + 1).astype(int)
        parts = self._pool.map(_embed_shard, [texts[a:b] for a, b in zip(bounds[:-1], bounds[1:])])
        self.stats["calls"] += 1
        self.stats["texts"] += len(texts)
        self.stats["seconds"] = round(self.stats["seconds"] + time.perf_counter() - started, 4)
        return np.vstack(parts)

    def close(self) -> None:
        self._pool.close()
        self._pool.join()

    def __enter__(self) -> "ParallelEmbedder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def ingest(
    paths: Sequence[str | Path],
    index: str | Path,
    *,
    store: str | None = None,
    embedder: str = "minilm",
    workers: int = 2,
    root: str | Path | None = None,
    progress: bool = False,
):
    """Sync `paths` into the index at `index` (its store: `store` URL or the embedded folder), embedding with
    `workers` processes. Returns the engine's SyncReport; the index is the same as a one-process sync makes."""
    from ragft.rag.engine import Index

    with ParallelEmbedder(embedder, workers=workers) as parallel:
        with Index.open(index, embedder=parallel, store=store, embedding_cache=False) as opened:
            return opened.sync(list(paths), root=root, progress=progress)
