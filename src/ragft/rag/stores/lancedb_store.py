"""The embedded default store: LanceDB in the index folder for durability, an in-memory matrix for search.

Layout of an index folder: `lance/` (the LanceDB database, table `chunks`) and `meta.json` (index meta).
Every chunk and vector is loaded into a `VectorMatrix` at open; writes go to both, so a chunk is
searchable as soon as `upsert` returns.

Dense search is exact over the matrix up to `AnnSettings.min_rows` chunks (200k by default, where exact
search reaches p95 ~19 ms on 2 cores; 88-95 ms at 1M x 384). Past that, `compact()` (run after every sync)
builds LanceDB's IVF_HNSW_SQ index on the table and unfiltered searches go through it (p95 8.8 ms at 1M,
recall@10 0.996), re-ranked exactly on the in-memory vectors; rows written since the build are scanned
exactly by LanceDB, so freshness holds. Filtered searches stay exact over the matrix. Settings ride on the
location: `./index?ef=300&nprobes=4&refine_factor=2&ann_min_rows=200000` (docs/scale-out.md).
"""
from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar, Iterable, Sequence

import numpy as np

from ragft.errors import IndexMismatchError, InputError, NoIndexError
from ragft.files import write_atomic
from ragft.rag.document import Chunk
from ragft.rag.filters import compile_where
from ragft.rag.stores.base import Store, upsert_vectors
from ragft.rag.vectors import VectorMatrix

TABLE = "chunks"
META_FILE = "meta.json"
LANCE_DIR = "lance"
_DELETE_BATCH = 500
ANN_INDEX = "vector_idx"


@dataclass(frozen=True)
class AnnSettings:
    """When the embedded store builds its ANN index, and how deep a search through it goes.

    Chosen with benchmarks/bench_stores.py (docs/benchmarks.md, "Vector stores"): IVF partitioning is what
    loses neighbours (real MiniLM embeddings: 0.92 recall@10 probing 21% of the partitions), HNSW alone keeps
    them, so partitions are large (one per ~1M rows) and every one is probed up to ~4M rows."""

    min_rows: int = 200_000        # build the index once the table holds this many chunks
    nprobes: int = 4               # IVF partitions searched
    ef: int = 300                  # HNSW candidate list inside each partition
    refine_factor: int = 2         # re-rank k x this candidates on the in-memory vectors (exact scores)
    m: int = 16                    # HNSW graph degree (build)
    ef_construction: int = 150     # HNSW build depth
    partition_rows: int = 1 << 20  # IVF partition size (build): one partition below 2M rows
    reindex_fraction: float = 0.1  # fold unindexed rows into the index past this share of the table

    _KEYS: ClassVar[dict[str, str]] = {
        "ann_min_rows": "min_rows", "nprobes": "nprobes", "ef": "ef", "refine_factor": "refine_factor", "m": "m",
        "ef_construction": "ef_construction", "partition_rows": "partition_rows"}

    @classmethod
    def from_location(cls, location: str) -> tuple[str, "AnnSettings"]:
        """(folder, settings) from `DIR` or `DIR?ef=300&...`; an unknown or non-integer key is refused."""
        folder, _, query = location.partition("?")
        settings = cls()
        if not query:
            return folder, settings
        changes = {}
        for pair in query.split("&"):
            key, _, value = pair.partition("=")
            if key not in cls._KEYS:
                raise InputError(f"store location {location!r}: unknown option {key!r}; "
                                 f"use {', '.join(cls._KEYS)}")
            try:
                changes[cls._KEYS[key]] = int(value)
            except ValueError:
                raise InputError(f"store location {location!r}: {key}={value!r} must be an integer") from None
            if changes[cls._KEYS[key]] < (0 if key == "ann_min_rows" else 1):
                raise InputError(f"store location {location!r}: {key}={value} is out of range")
        return folder, replace(settings, **changes)

    def describe(self) -> str:
        return f"nprobes={self.nprobes}, ef={self.ef}, refine_factor={self.refine_factor}"



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


class LanceDBStore(Store):
    """A folder-backed Store: LanceDB table `chunks` + `meta.json`, mirrored in memory for search."""

    def __init__(self, location: str, dim: int | None = None, create: bool = True, ann: AnnSettings | None = None):
        folder, settings = AnnSettings.from_location(location.removeprefix("local://"))
        self.path = Path(folder).expanduser()
        self.ann = ann or settings
        self._ann_ready = False
        self._db = None
        self._table = None
        self._matrix: VectorMatrix[Chunk] | None = None
        self._filters: dict[str, tuple[int, np.ndarray, set[str]]] = {}
        self._by_doc: dict[str, set[str]] = {}
        if (self.path / LANCE_DIR).exists():
            self._load()
        elif not create:
            raise NoIndexError(str(self.path))
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
        self._ann_ready = self._ann_index() is not None
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
                "open it with rebuild=True or the embedder it was built with"
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
        if where:
            return self._matrix.search(vector, k, self._filter(where)[0])
        if self._ann_ready:
            try:
                return self._ann_search(vector, k)
            except (OSError, RuntimeError, ValueError):
                # e.g. another process compacted the table under us: the exact answer is always at hand.
                pass
        return self._matrix.search(vector, k)

    def _ann_search(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """k x refine_factor candidates from the IVF_HNSW_SQ index (8-bit scores), re-ranked exactly on the
        vectors already in memory: LanceDB's own refine step would read them from disk (3-5 ms at 1M)."""
        query = np.asarray(vector, dtype=np.float32)
        found = (self._table.search(query).distance_type("dot").limit(k * max(1, self.ann.refine_factor))
                 .nprobes(self.ann.nprobes).ef(self.ann.ef).select(["id", "_distance"])
                 .to_arrow())
        return self._matrix.rescore(query, found.column("id").to_pylist(), k)

    @property
    def index_description(self) -> str:
        if self._ann_ready:
            return f"IVF_HNSW_SQ (LanceDB; {self.ann.describe()})"
        return "exact (in-memory matrix)"

    def has_ann_index(self) -> bool:
        return self._ann_ready

    def build_index(self, force: bool = False) -> bool:
        """(Re)build the IVF_HNSW_SQ index over every row; without `force` only at `ann.min_rows` or more."""
        rows = self.count()
        if self._table is None or rows == 0 or (rows < self.ann.min_rows and not force):
            return False
        from lancedb.index import IvfHnswSq

        partitions = max(1, rows // self.ann.partition_rows)
        config = IvfHnswSq(distance_type="dot", num_partitions=partitions, m=self.ann.m,
                           ef_construction=self.ann.ef_construction)
        self._table.create_index("vector", config=config, replace=True, name=ANN_INDEX)
        self._ann_ready = True
        return True

    def _ann_index(self):
        """LanceDB's description of the ANN index (row counts included), or None when there is none."""
        return next((index for index in self._table.list_indices() if index.name == ANN_INDEX), None)

    def _ann_stale(self) -> bool:
        """True when the table has grown past the threshold without an index, or its unindexed share is large."""
        if not self._ann_ready:
            return self.count() >= self.ann.min_rows
        stats = self._ann_index()
        if stats is None:
            return True
        total = stats.num_indexed_rows + stats.num_unindexed_rows
        return stats.num_unindexed_rows > self.ann.reindex_fraction * max(total, 1)

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
            raise InputError(f"{path}: unreadable index meta ({error}); open it with rebuild=True") from None

    def write_meta(self, meta: dict[str, Any]) -> None:
        write_atomic(self.path / META_FILE, json.dumps(meta, indent=1, ensure_ascii=False))

    def compact(self, max_fragments: int = 16) -> bool:
        """Merge the small fragments many writes leave behind, drop old versions and keep the ANN index
        current (built at `ann.min_rows`, new rows folded in past `ann.reindex_fraction`); True if it ran."""
        if self._table is None:
            return False
        fragmented = self._table.stats()["fragment_stats"]["num_fragments"] > max_fragments
        stale = self._ann_stale()
        if fragmented or (stale and self._ann_ready):
            # Readers load the whole table at open and search the matrix, so no old version is in use --
            # except by ANN searches of another process, which get an hour. optimize() also indexes new rows.
            keep = timedelta(hours=1) if self._ann_ready else timedelta(0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._table.optimize(cleanup_older_than=keep)
        if stale and not self._ann_ready:
            self.build_index()          # on the merged fragments
        return fragmented or stale


def open_local_store(location: str, **options) -> LanceDBStore:
    return LanceDBStore(location, **options)
