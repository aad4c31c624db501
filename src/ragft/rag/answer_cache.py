"""The answer cache: exact and near-duplicate questions answered without retrieval or generation.

Entries live in SQLite in the index folder (or in memory), keyed by the answering setup (generator, k,
mode, filters) and the index generation: any change to the index makes every older entry stale.
Near-duplicates: the best cached question of the same setup with cosine >= threshold.
"""
from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ragft.errors import InputError
from ragft.rag.shared_sqlite import connect_shared

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    normalized TEXT NOT NULL, setup TEXT NOT NULL, generation INTEGER NOT NULL,
    question TEXT NOT NULL, vector BLOB, answer TEXT NOT NULL, created REAL NOT NULL,
    PRIMARY KEY (normalized, setup, generation)
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


def normalize_question(question: str) -> str:
    """Case, spacing and trailing punctuation do not make a different question."""
    return re.sub(r"\s+", " ", question).strip().lower().rstrip("?!. ")


@dataclass(frozen=True)
class CacheHit:
    kind: str                 # "exact" or "near"
    question: str             # the cached question that matched
    similarity: float
    answer: dict[str, Any]


class AnswerCache:
    """Exact + near-duplicate answer cache; `path=None` keeps it in memory only."""

    def __init__(self, path: Path | None = None, threshold: float | None = 0.95):
        if threshold is not None and not 0.0 < threshold <= 1.0:
            raise InputError(f"cache threshold: must be in (0, 1], got {threshold}")
        self.threshold = threshold
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        # Shared by the server's threads and an eval's answering threads (--concurrency), one statement at a
        # time under self._lock: SQLite alone serializes calls, not statements, so one thread's write could run
        # inside another's unfinished SELECT, and with another process writing the file (`ragft serve
        # --processes N`) that read-then-write transaction fails at once with 'database is locked' instead of
        # waiting. Between processes: WAL and a busy timeout (ragft.rag.shared_sqlite).
        self._lock = threading.Lock()
        if path is None:
            self._db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        else:
            self._db = connect_shared(path, isolation_level=None, check_same_thread=False)
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _run(self, sql: str, values: tuple = (), rows: bool = False) -> Any:
        """One statement, finished (every row read) before another thread's may start: its rows, or its cursor's
        rowcount."""
        with self._lock:
            cursor = self._db.execute(sql, values)
            try:
                return cursor.fetchall() if rows else cursor.rowcount
            finally:
                cursor.close()

    def exact(self, question: str, setup: str, generation: int) -> CacheHit | None:
        found = self._run(
            "SELECT question, answer FROM answers WHERE normalized=? AND setup=? AND generation=?",
            (normalize_question(question), setup, generation), rows=True,
        )
        row = found[0] if found else None
        return None if row is None else CacheHit("exact", row[0], 1.0, json.loads(row[1]))

    def near(self, vector: np.ndarray, setup: str, generation: int) -> CacheHit | None:
        if self.threshold is None:
            return None
        rows = self._run(
            "SELECT question, vector, answer FROM answers WHERE setup=? AND generation=? AND vector IS NOT NULL",
            (setup, generation), rows=True,
        )
        if not rows:
            return None
        query = np.asarray(vector, dtype=np.float32).ravel()
        matrix = np.stack([np.frombuffer(row[1], dtype=np.float32) for row in rows])
        if matrix.shape[1] != query.shape[0]:
            return None
        similarities = matrix @ query
        best = int(np.argmax(similarities))
        if similarities[best] < self.threshold:
            return None
        return CacheHit("near", rows[best][0], float(similarities[best]), json.loads(rows[best][2]))

    def put(
        self, question: str, vector: np.ndarray | None, setup: str, generation: int, answer: dict[str, Any]
    ) -> None:
        blob = None if vector is None else np.asarray(vector, dtype=np.float32).ravel().tobytes()
        self._run(
            "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?, ?)",
            (normalize_question(question), setup, generation, question, blob, json.dumps(answer), time.time()),
        )

    def invalidate(self, current_generation: int) -> int:
        """Drop entries made at any other index generation; returns how many went."""
        return self._run("DELETE FROM answers WHERE generation != ?", (current_generation,))

    def count(self, hit: bool) -> None:
        self._bump("lookups")
        if hit:
            self._bump("hits")

    def _bump(self, name: str) -> None:
        self._run("INSERT INTO counters VALUES (?, 1) ON CONFLICT(name) DO UPDATE SET value = value + 1", (name,))

    def stats(self) -> dict[str, Any]:
        counters = dict(self._run("SELECT name, value FROM counters", rows=True))
        lookups, hits = counters.get("lookups", 0), counters.get("hits", 0)
        entries = self._run("SELECT COUNT(*) FROM answers", rows=True)[0][0]
        return {
            "entries": entries,
            "lookups": lookups,
            "hits": hits,
            "hit_rate": round(hits / lookups, 4) if lookups else 0.0,
            "threshold": self.threshold,
        }
