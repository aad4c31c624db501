"""The embedded default store: LanceDB in the index folder for durability, an in-memory matrix for search.

Layout of an index folder: `lance/` (the LanceDB database, table `chunks`) and `meta.json` (index meta).
Every chunk and vector is loaded into a `VectorMatrix` at open; writes go to both, so a chunk is
searchable as soon as `upsert` returns and dense search never touches disk.
"""
from __future__ import annotations

import json
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from ragft.errors import IndexMismatchError, InputError, NotFoundError
from ragft.files import write_atomic
from ragft.rag.document import Chunk
from ragft.rag.filters import compile_where
from ragft.rag.stores.base import STORES, upsert_vectors
from ragft.rag.vectors import VectorMatrix

TABLE = "chunks"
META_FILE = "meta.json"
LANCE_DIR = "lance"
_DELETE_BATCH = 500


def _sql_list(values: Iterable[str]) -> str:
    return ", ".join("'" + value.replace("'", "''") + "'" for value in values)


def _schema(dim: int):
    import pyarrow as pa

    return pa.schema(
        [
            ("id", pa.string()),
            ("doc_id", pa.string()),
            ("text", pa.string()),
            ("title", pa.string()),
            ("heading_path", pa.list_(pa.string())),
            ("start", pa.int64()),
            ("end", pa.int64()),
            ("metadata", pa.string()),
            ("vector", pa.list_(pa.float32(), dim)),
        ]
    )


def _to_arrow(chunks: Sequence[Chunk], vectors: np.ndarray, dim: int):
    import pyarrow as pa

    flat = pa.array(np.ascontiguousarray(vectors, dtype=np.float32).ravel(), type=pa.float32())
    columns = {
        "id": [c.id for c in chunks],
        "doc_id": [c.doc_id for c in chunks],
        "text": [c.text for c in chunks],
        "title": [c.title for c in chunks],
        "heading_path": [list(c.heading_path) for c in chunks],
        "start": [c.start for c in chunks],
        "end": [c.end for c in chunks],
        "metadata": [json.dumps(c.metadata, ensure_ascii=False, default=str) for c in chunks],
        "vector": pa.FixedSizeListArray.from_arrays(flat, dim),
    }
    return pa.table(columns, schema=_schema(dim))


def _from_arrow(table) -> tuple[list[Chunk], np.ndarray]:
    columns = {name: table.column(name).to_pylist() for name in table.column_names if name != "vector"}
    dim = table.schema.field("vector").type.list_size
    vectors = table.column("vector").combine_chunks().flatten().to_numpy(zero_copy_only=False)
    chunks = [
        Chunk(
            id=columns["id"][i],
            doc_id=columns["doc_id"][i],
            text=columns["text"][i],
            title=columns["title"][i] or "",
            heading_path=tuple(columns["heading_path"][i] or ()),
            start=columns["start"][i] or 0,
            end=columns["end"][i] or 0,
            metadata=json.loads(columns["metadata"][i] or "{}"),
        )
        for i in range(table.num_rows)
    ]
    return chunks, vectors.astype(np.float32, copy=False).reshape(table.num_rows, dim)


class LanceDBStore:
    """A folder-backed Store: LanceDB table `chunks` + `meta.json`, mirrored in memory for search."""

    def __init__(self, location: str, dim: int | None = None, create: bool = True):
        self.path = Path(location.removeprefix("local://")).expanduser()
        self._db = None
        self._table = None
        self._matrix: VectorMatrix[Chunk] | None = None
        self._filters: dict[str, tuple[int, np.ndarray, set[str]]] = {}
        self._by_doc: dict[str, set[str]] = {}
        if (self.path / LANCE_DIR).exists():
            self._load()
        elif not create:
            raise NotFoundError(f"no index at {self.path}: run `ragft index DIR` first")
        if dim is not None:
            self._ensure_dim(dim)

    @property
    def dim(self) -> int | None:
        return None if self._matrix is None else self._matrix.dim

    def _connect(self):
        if self._db is None:
            import lancedb

            self._db = lancedb.connect(str(self.path / LANCE_DIR))
        return self._db

    def _load(self) -> None:
        db = self._connect()
        if TABLE not in db.list_tables().tables:
            return
        self._table = db.open_table(TABLE)
        chunks, vectors = _from_arrow(self._table.to_arrow())
        self._matrix = VectorMatrix(vectors.shape[1], capacity=len(chunks) + 1024)
        self._matrix.add([c.id for c in chunks], vectors, chunks)
        for chunk in chunks:
            self._by_doc.setdefault(chunk.doc_id, set()).add(chunk.id)

    def _ensure_dim(self, dim: int) -> None:
        if self._matrix is None:
            self._matrix = VectorMatrix(dim)
        elif self._matrix.dim != dim:
            raise IndexMismatchError(
                f"index at {self.path} holds {self._matrix.dim}-dimensional vectors, got {dim}; "
                "rebuild with --rebuild or use the embedder it was built with"
            )

    def _writable_table(self, dim: int):
        if self._table is None:
            self.path.mkdir(parents=True, exist_ok=True)
            self._table = self._connect().create_table(TABLE, schema=_schema(dim), exist_ok=True)
        return self._table

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        if not chunks:
            return
        vectors = upsert_vectors(chunks, vectors)
        self._ensure_dim(vectors.shape[1])
        table = self._writable_table(vectors.shape[1])
        existing = [c.id for c in chunks if c.id in self._matrix]
        for start in range(0, len(existing), _DELETE_BATCH):
            table.delete(f"id IN ({_sql_list(existing[start:start + _DELETE_BATCH])})")
        for chunk_id in existing:
            old = self._matrix.payload(chunk_id)
            self._by_doc.get(old.doc_id, set()).discard(chunk_id)
        table.add(_to_arrow(chunks, vectors, vectors.shape[1]))
        self._matrix.add([c.id for c in chunks], vectors, list(chunks))
        for chunk in chunks:
            self._by_doc.setdefault(chunk.doc_id, set()).add(chunk.id)

    def chunk_ids(self, doc_ids: Iterable[str]) -> list[str]:
        """Ids of the chunks of these documents (in no particular order)."""
        return [chunk_id for doc_id in doc_ids for chunk_id in self._by_doc.get(doc_id, ())]

    def delete_documents(self, doc_ids: Iterable[str]) -> int:
        ids = sorted({doc_id for doc_id in doc_ids if self._by_doc.get(doc_id)})
        if self._matrix is None or not ids:
            return 0
        doomed = self.chunk_ids(ids)
        for doc_id in ids:
            del self._by_doc[doc_id]
        for start in range(0, len(ids), _DELETE_BATCH):
            self._table.delete(f"doc_id IN ({_sql_list(ids[start:start + _DELETE_BATCH])})")
        return self._matrix.remove(doomed)

    def dense_search(
        self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        if self._matrix is None:
            return []
        keep = self._filter(where)[0] if where else None
        return self._matrix.search(vector, k, keep)

    def filter_ids(self, where: dict[str, Any] | None) -> set[str] | None:
        """Ids of the chunks `where` keeps (None = no filter); cached until the store changes."""
        if not where or self._matrix is None:
            return None if not where else set()
        return self._filter(where)[1]

    def _filter(self, where: dict[str, Any]) -> tuple[np.ndarray, set[str]]:
        key = json.dumps(where, sort_keys=True, default=str)
        cached = self._filters.get(key)
        if cached is None or cached[0] != self._matrix.version:
            mask = self._matrix.mask(compile_where(where))
            if len(self._filters) > 64:
                self._filters.clear()
            cached = self._filters[key] = (self._matrix.version, mask, self._matrix.ids_where(mask))
        return cached[1], cached[2]

    def get(self, chunk_ids: Sequence[str]) -> list[Chunk]:
        if self._matrix is None:
            return []
        found = (self._matrix.payload(chunk_id) for chunk_id in chunk_ids)
        return [chunk for chunk in found if chunk is not None]

    def chunks(self) -> Iterable[Chunk]:
        return [] if self._matrix is None else list(self._matrix.payloads())

    def count(self) -> int:
        return 0 if self._matrix is None else len(self._matrix)

    def read_meta(self) -> dict[str, Any]:
        path = self.path / META_FILE
        if not path.exists():
            return {}
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise InputError(f"{path}: unreadable index meta ({error}); rebuild with --rebuild") from None

    def write_meta(self, meta: dict[str, Any]) -> None:
        write_atomic(self.path / META_FILE, json.dumps(meta, indent=1, ensure_ascii=False))

    def compact(self, max_fragments: int = 16) -> bool:
        """Merge the small fragments many writes leave behind and drop old versions; True if it ran."""
        if self._table is None:
            return False
        if self._table.stats()["fragment_stats"]["num_fragments"] <= max_fragments:
            return False
        # Readers load the whole table at open and never read again, so no old version is still in use.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._table.optimize(cleanup_older_than=timedelta(0))
        return True


@STORES.register("local")
def open_local_store(location: str, **options) -> LanceDBStore:
    return LanceDBStore(location, **options)
