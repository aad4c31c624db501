"""The in-memory float32 matrix behind exact dense search: rows appended in place, deletions tombstoned.

Exact search is one matrix-vector product plus argpartition (a few ms at 100k x 384); stores keep their
vectors durable elsewhere and mirror them here so search never touches disk.
"""
from __future__ import annotations

from typing import Generic, Iterable, Sequence, TypeVar

import numpy as np

T = TypeVar("T")


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest finite scores, best first (ties broken by lower index)."""
    n = scores.shape[0]
    if k <= 0 or n == 0:
        return np.empty(0, dtype=np.int64)
    candidates = np.argpartition(scores, n - k)[n - k :] if k < n else np.arange(n)
    candidates = candidates[np.isfinite(scores[candidates])]
    order = np.lexsort((candidates, -scores[candidates]))
    return candidates[order]


class VectorMatrix(Generic[T]):
    """Rows of (id, vector, payload); `add` replaces an id's row, `remove` tombstones it."""

    def __init__(self, dim: int, capacity: int = 1024):
        self.dim = dim
        self._matrix = np.zeros((max(capacity, 16), dim), dtype=np.float32)
        self._ids: list[str | None] = []
        self._payloads: list[T | None] = []
        self._row_of: dict[str, int] = {}
        self._dead: set[int] = set()
        self.version = 0          # bumped on every change; lets callers cache masks

    def __len__(self) -> int:
        return len(self._row_of)

    def __contains__(self, item_id: str) -> bool:
        return item_id in self._row_of

    def ids(self) -> list[str]:
        return list(self._row_of)

    def payload(self, item_id: str) -> T | None:
        row = self._row_of.get(item_id)
        return None if row is None else self._payloads[row]

    def payloads(self) -> Iterable[T]:
        return (p for p in self._payloads if p is not None)

    def add(self, ids: Sequence[str], vectors: np.ndarray, payloads: Sequence[T]) -> None:
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(ids), self.dim)
        self.remove(i for i in ids if i in self._row_of)
        start = len(self._ids)
        self._reserve(start + len(ids))
        self._matrix[start : start + len(ids)] = vectors
        for offset, (item_id, payload) in enumerate(zip(ids, payloads)):
            self._ids.append(item_id)
            self._payloads.append(payload)
            self._row_of[item_id] = start + offset
        self.version += 1

    def remove(self, ids: Iterable[str]) -> int:
        removed = 0
        for item_id in list(ids):
            row = self._row_of.pop(item_id, None)
            if row is not None:
                self._dead.add(row)
                self._ids[row] = None
                self._payloads[row] = None
                self._matrix[row] = 0.0
                removed += 1
        self.version += 1
        if len(self._dead) > max(1024, len(self._ids) // 4):
            self._compact()
        return removed

    def search(self, query: np.ndarray, k: int, keep: np.ndarray | None = None) -> list[tuple[str, float]]:
        """Best k (id, dot product) for a query vector; `keep` is a boolean mask over rows (see `mask`)."""
        used = len(self._ids)
        if used == 0:
            return []
        scores = self._matrix[:used] @ np.asarray(query, dtype=np.float32).reshape(self.dim)
        if keep is not None:
            # Select the kept rows rather than masking the rest with -inf: argpartition crawls on many ties.
            rows = np.flatnonzero(keep[:used])
            return [(self._ids[rows[i]], float(scores[rows[i]])) for i in top_k(scores[rows], k)]
        if self._dead:
            scores[np.fromiter(self._dead, dtype=np.int64, count=len(self._dead))] = -np.inf
        return [(self._ids[row], float(scores[row])) for row in top_k(scores, k)]

    def rescore(self, query: np.ndarray, ids: Sequence[str], k: int) -> list[tuple[str, float]]:
        """Best k of these ids by exact dot product with the query (ids not held here are skipped)."""
        rows = np.fromiter((self._row_of[i] for i in dict.fromkeys(ids) if i in self._row_of), dtype=np.int64)
        if rows.size == 0:
            return []
        scores = self._matrix[rows] @ np.asarray(query, dtype=np.float32).reshape(self.dim)
        return [(self._ids[rows[i]], float(scores[i])) for i in top_k(scores, k)]

    def mask(self, predicate) -> np.ndarray:
        """A boolean mask over rows: True where the row is alive and `predicate(payload)` holds."""
        return np.fromiter(
            (p is not None and predicate(p) for p in self._payloads), dtype=bool, count=len(self._payloads)
        )

    def ids_where(self, keep: np.ndarray) -> set[str]:
        return {self._ids[row] for row in np.flatnonzero(keep)}

    def _reserve(self, rows: int) -> None:
        if rows <= self._matrix.shape[0]:
            return
        grown = np.zeros((max(rows, self._matrix.shape[0] * 2), self.dim), dtype=np.float32)
        grown[: len(self._ids)] = self._matrix[: len(self._ids)]
        self._matrix = grown

    def _compact(self) -> None:
        live = [row for row in range(len(self._ids)) if row not in self._dead]
        self._matrix[: len(live)] = self._matrix[live]
        self._ids = [self._ids[row] for row in live]
        self._payloads = [self._payloads[row] for row in live]
        self._row_of = {item_id: row for row, item_id in enumerate(self._ids)}
        self._dead.clear()
