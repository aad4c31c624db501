"""The embedding cache: vectors persisted in SQLite, keyed by sha256(embedder name + text), so unchanged
chunks and repeated queries skip the model. One connection per thread; WAL lets readers run concurrently, and the
busy timeout lets several processes (`ragft serve --processes N`) write it at once (ragft.rag.shared_sqlite)."""
from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ragft.rag.embedders.base import Embedder
from ragft.rag.shared_sqlite import connect_shared

CACHE_FILE = "embedding-cache.sqlite"
_SCHEMA = "CREATE TABLE IF NOT EXISTS embeddings (key BLOB PRIMARY KEY, vector BLOB NOT NULL)"
_LOOKUP_BATCH = 500          # stays under SQLite's limit on bound parameters


def cache_key(embedder_name: str, text: str) -> bytes:
    return hashlib.sha256(f"{embedder_name}\x00{text}".encode("utf-8")).digest()


class CachedEmbedder:
    """An Embedder in front of `inner`; `path` is the SQLite file (or a folder to hold embedding-cache.sqlite)."""

    def __init__(self, inner: Embedder, path: str | Path):
        path = Path(path)
        self.path = path / CACHE_FILE if path.is_dir() else path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.hits = 0
        self.misses = 0
        self._local = threading.local()
        self._lock = threading.Lock()
        with self._connection() as db:
            db.execute(_SCHEMA)

    @property
    def stats(self) -> dict[str, Any]:
        with self._lock:
            hits, misses = self.hits, self.misses
        total = hits + misses
        return {"hits": hits, "misses": misses, "hit_rate": round(hits / total, 4) if total else 0.0,
                "path": str(self.path)}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        keys = [cache_key(self.name, text) for text in texts]
        found = self._lookup(set(keys))
        missing = {key: text for key, text in zip(keys, texts) if key not in found}
        if missing:
            vectors = np.asarray(self.inner.embed(list(missing.values())), dtype=np.float32)
            fresh = dict(zip(missing, vectors))
            self._store(fresh)
            found.update(fresh)
        with self._lock:
            self.misses += len(missing)
            self.hits += len(texts) - len(missing)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for row, key in enumerate(keys):
            out[row] = found[key]
        return out

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    def _lookup(self, keys: set[bytes]) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        wanted = list(keys)
        db = self._connection()
        for start in range(0, len(wanted), _LOOKUP_BATCH):
            part = wanted[start : start + _LOOKUP_BATCH]
            marks = ",".join("?" * len(part))
            for key, blob in db.execute(f"SELECT key, vector FROM embeddings WHERE key IN ({marks})", part):
                if len(blob) == 4 * self.dim:          # a row of another width is not ours: recompute it
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def _store(self, vectors: dict[bytes, np.ndarray]) -> None:
        rows = [(key, np.ascontiguousarray(vector, dtype=np.float32).tobytes()) for key, vector in vectors.items()]
        with self._connection() as db:
            db.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?)", rows)

    def _connection(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = connect_shared(self.path)
            self._local.db = db
        return db
