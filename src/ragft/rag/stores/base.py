"""The Store protocol and its registry; a store is chosen by one location string."""
from __future__ import annotations

from typing import Any, Iterable, Protocol, Sequence, runtime_checkable

import numpy as np

from ragft.errors import InputError
from ragft.rag.document import Chunk
from ragft.registry import Registry


@runtime_checkable
class Store(Protocol):
    """Persists chunks with their vectors; knows nothing about embedding or ranking fusion.

    The methods below `write_meta` are optional capabilities with defaults: a backend that subclasses Store
    (the built-in ones do) inherits them and overrides those it can do better."""

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None: ...

    def delete_documents(self, doc_ids: Iterable[str]) -> int: ...

    def dense_search(
        self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """Return (chunk_id, cosine similarity) best first."""
        ...

    def get(self, chunk_ids: Sequence[str]) -> list[Chunk]: ...

    def chunks(self) -> Iterable[Chunk]: ...

    def count(self) -> int: ...

    def read_meta(self) -> dict[str, Any]: ...

    def write_meta(self, meta: dict[str, Any]) -> None: ...

    # ---- optional capabilities, with defaults ----------------------------------------------------

    @property
    def dim(self) -> int | None:
        """The width of the stored vectors; None while unknown (nothing stored yet)."""
        return None

    @property
    def index_description(self) -> str:
        """How dense search runs, for stats (e.g. "exact", "IVF-PQ ...")."""
        return "exact"

    def chunk_ids(self, doc_ids: Iterable[str]) -> list[str]:
        """The ids of the chunks of these documents (default: a scan of `chunks()`)."""
        wanted = set(doc_ids)
        return [c.id for c in self.chunks() if c.doc_id in wanted]

    def compact(self) -> bool:
        """Tidy the storage after a sync (merge fragments, build an ANN index); True when it did something."""
        return False

    def close(self) -> None:
        """Release connections; the store is not used afterwards."""
        return None


def upsert_vectors(chunks: Sequence[Chunk], vectors: np.ndarray) -> np.ndarray:
    """The vectors of an upsert as float32 rows, one per chunk; a shape mismatch is refused."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != len(chunks):
        raise InputError(f"upsert: {len(chunks)} chunks but vectors of shape {vectors.shape}")
    return vectors


# Built-in backends by location scheme ("local" = a folder path), imported on first use; other packages add
# theirs through the `ragft.stores` entry points.
STORES: Registry[Store] = Registry("store", group="ragft.stores", builtins={
    "local": "ragft.rag.stores.lancedb_store:open_local_store",
    "postgresql": "ragft.rag.stores.pgvector_store:open_pgvector_store",
    "postgres": "ragft.rag.stores.pgvector_store:open_pgvector_store",
    "qdrant": "ragft.rag.stores.qdrant_store:open_qdrant_store",
    "qdrant+https": "ragft.rag.stores.qdrant_store:open_qdrant_store",
    "qdrant+local": "ragft.rag.stores.qdrant_store:open_qdrant_store",
})


def open_store(location: str, **options) -> Store:
    """Open the store a location names: a folder path (embedded default) or a URL scheme."""
    scheme = location.split("://", 1)[0] if "://" in location else "local"
    return STORES.create(scheme, location=location, **options)
