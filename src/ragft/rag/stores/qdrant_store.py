"""The Qdrant store: one collection of points (cosine) per index, on a Qdrant server or cluster, or local mode.

URLs:
  qdrant://HOST[:PORT]/COLLECTION           a server over HTTP (port 6333 by default)
  qdrant+https://HOST[:PORT]/COLLECTION     the same over TLS (Qdrant Cloud); the API key comes from QDRANT_API_KEY
  qdrant+local:///PATH[?collection=NAME]    qdrant-client's local mode in a folder (tests, development; exact search)
Query parameters for a server: `grpc=1` (gRPC on port 6334), `hnsw_ef` (search depth, default 128), and, used
when the collection is created: `shards`, `replication`, `write_consistency`, `on_disk=1` (vectors on disk).
The index meta is one point of the side collection `<COLLECTION>__meta`. Point ids are UUIDv5 of the chunk ids.

Filters run in Qdrant as a payload filter that keeps a superset of the chunks `where` means (Qdrant has no
string prefix match; a prefix ending in "/" uses the stored folder prefixes `_doc_dirs`/`_source_dirs`), then
each result is checked with ragft.rag.filters, fetching deeper until `k` pass.
"""
from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any, Iterable, Sequence
from urllib.parse import parse_qsl, urlsplit

import numpy as np

from ragft.errors import IndexMismatchError, InputError, MissingDependencyError, NoIndexError
from ragft.rag.document import Chunk
from ragft.rag.filters import compile_where
from ragft.rag.stores.base import Store, upsert_vectors

DEFAULT_COLLECTION = "ragft"
_NAMESPACE = uuid.UUID("5f1c3f3e-8a52-4c1e-9a37-6c0d6c2b7a10")
_PAGE = 1000
_FILTER_FIELDS = ["chunk_id", "doc_id", "title", "metadata"]


def point_id(chunk_id: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, chunk_id))


def folder_prefixes(path: str) -> list[str]:
    """'a/b/c.md' -> ['a/', 'a/b/']: the prefixes a `prefix=` filter ending in '/' can match exactly."""
    parts = path.split("/")[:-1]
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def parse_url(location: str) -> tuple[dict[str, Any], str, dict[str, str]]:
    """(QdrantClient arguments, collection name, query parameters) from a store location."""
    parts = urlsplit(location)
    params = dict(parse_qsl(parts.query))
    if parts.scheme == "qdrant+local":
        path = location.split("://", 1)[1].split("?", 1)[0]
        if not path:
            raise InputError(f"{location}: expected qdrant+local:///PATH (a folder)")
        return {"path": str(Path(path).expanduser())}, params.get("collection", DEFAULT_COLLECTION), params
    collection = parts.path.strip("/") or DEFAULT_COLLECTION
    if "/" in collection or not parts.hostname:
        raise InputError(f"{location}: expected {parts.scheme}://HOST[:PORT]/COLLECTION")
    grpc = params.get("grpc", "") in ("1", "true", "yes")
    client: dict[str, Any] = {"host": parts.hostname, "https": parts.scheme == "qdrant+https",
                              "prefer_grpc": grpc, "api_key": os.environ.get("QDRANT_API_KEY") or None}
    if parts.port:
        client["grpc_port" if grpc else "port"] = parts.port
    return client, collection, params


def _int_param(params: dict[str, str], key: str, location: str) -> int | None:
    if key not in params:
        return None
    try:
        return int(params[key])
    except ValueError:
        raise InputError(f"{location}: {key}={params[key]!r} must be an integer") from None


# ---- filters: a Qdrant pre-filter that keeps a superset, then the exact check -------------------------


def _field(key: str) -> str:
    return {"id": "chunk_id", "doc_id": "doc_id", "title": "title"}.get(key, f"metadata.{key}")


def _equal_forms(expected: Any) -> list[Any]:
    """Values a stored field may hold and still equal `expected` under filters.py (str(actual) == str(expected))."""
    text = str(expected)
    forms: list[Any] = [text]
    if isinstance(expected, bool) or text in ("True", "False"):
        forms.append(text == "True")
    else:
        for cast in (int, float):
            try:
                forms.append(cast(text))
                break
            except ValueError:
                pass
    return forms


def _value_condition(models, key: str, expected: Any):
    """A condition true for every chunk whose `key` matches `expected`, or None when Qdrant cannot narrow it."""
    if isinstance(expected, (list, tuple, set, frozenset)):
        conditions = [_value_condition(models, key, value) for value in expected]
        if not conditions or any(c is None for c in conditions):
            return None
        return models.Filter(should=conditions)
    if isinstance(expected, str) and expected.endswith("*"):
        head = expected[:-1]
        if key in ("doc_id", "source") and head.endswith("/"):
            dirs = "_doc_dirs" if key == "doc_id" else "_source_dirs"
            return models.FieldCondition(key=dirs, match=models.MatchValue(value=head))
        return None
    if expected is None:
        field = models.PayloadField(key=_field(key))
        return models.Filter(should=[models.IsNullCondition(is_null=field), models.IsEmptyCondition(is_empty=field)])
    should = []
    for form in _equal_forms(expected):
        if isinstance(form, float) and not form.is_integer():
            should.append(models.FieldCondition(key=_field(key), range=models.Range(gte=form, lte=form)))
        else:
            value = int(form) if isinstance(form, float) else form
            should.append(models.FieldCondition(key=_field(key), match=models.MatchValue(value=value)))
    return should[0] if len(should) == 1 else models.Filter(should=should)


def prefilter(where: dict[str, Any] | None):
    """(Qdrant Filter or None, narrowed): a filter keeping at least the chunks `where` keeps; narrowed=False
    when some condition could not be expressed (results are then checked in Python over a wider set)."""
    if not where:
        return None, True
    from qdrant_client import models

    must, exact = [], True
    for key, expected in where.items():
        if key == "prefix":
            prefixes = list(expected) if isinstance(expected, (list, tuple)) else [str(expected)]
            if all(p.endswith("/") for p in prefixes):
                must.append(models.Filter(should=[
                    models.FieldCondition(key=field, match=models.MatchAny(any=prefixes))
                    for field in ("_doc_dirs", "_source_dirs")
                ]))
            else:
                exact = False
            continue
        condition = _value_condition(models, key, expected)
        if condition is None:
            exact = False
        else:
            must.append(condition)
    return (models.Filter(must=must) if must else None), exact


class QdrantStore(Store):
    """A Store on a Qdrant collection; `close()` releases a local-mode folder for the next opener."""

    def __init__(self, location: str, dim: int | None = None, create: bool = True):
        try:
            from qdrant_client import QdrantClient
        except ImportError:
            raise MissingDependencyError("qdrant-client", "stores", "the Qdrant store") from None
        self.location = location
        client_args, self.collection, params = parse_url(location)
        self.meta_collection = self.collection + "__meta"
        self.hnsw_ef = _int_param(params, "hnsw_ef", location) or 128
        self._create_args = {
            "shard_number": _int_param(params, "shards", location),
            "replication_factor": _int_param(params, "replication", location),
            "write_consistency_factor": _int_param(params, "write_consistency", location),
        }
        self._on_disk = params.get("on_disk", "") in ("1", "true", "yes")
        self.local = "path" in client_args
        if self.local:
            Path(client_args["path"]).mkdir(parents=True, exist_ok=True)
        try:
            self._client = QdrantClient(**client_args)
            self._dim = self._collection_dim()
        except (RuntimeError, ValueError, OSError) as error:      # a local folder held by another client
            raise InputError(f"cannot open {location}: {error}") from None
        except Exception as error:                                 # qdrant's HTTP/gRPC errors have no common base
            raise InputError(f"cannot reach {location} ({type(error).__name__}: {error}); check the URL and "
                             "that the Qdrant server is running") from None
        if self._dim is None and not create:
            self.close()
            raise NoIndexError(location, remote=True)
        if dim is not None:
            self._ensure_dim(dim)

    # ---- setup ---------------------------------------------------------------------------------

    def _collection_dim(self) -> int | None:
        if not self._client.collection_exists(self.collection):
            return None
        return int(self._client.get_collection(self.collection).config.params.vectors.size)

    def _ensure_dim(self, dim: int) -> None:
        if self._dim is None:
            from qdrant_client import models

            extra = {k: v for k, v in self._create_args.items() if v is not None}
            self._client.create_collection(
                self.collection,
                vectors_config=models.VectorParams(size=dim, distance=models.Distance.COSINE, on_disk=self._on_disk),
                **extra,
            )
            if not self.local:        # local mode has no payload indexes (and warns about them)
                for field in ("doc_id", "chunk_id", "title", "_doc_dirs", "_source_dirs", "metadata.source"):
                    self._client.create_payload_index(self.collection, field, models.PayloadSchemaType.KEYWORD)
            self._dim = dim
        elif self._dim != dim:
            raise IndexMismatchError(
                f"index at {self.location} holds {self._dim}-dimensional vectors, got {dim}; "
                "open it with rebuild=True or the embedder it was built with"
            )

    @property
    def dim(self) -> int | None:
        return self._dim

    @property
    def index_description(self) -> str:
        return "exact (local mode)" if self.local else f"HNSW (server), hnsw_ef={self.hnsw_ef}"

    def tune(self, hnsw_ef: int) -> None:
        self.hnsw_ef = int(hnsw_ef)

    def compact(self) -> bool:
        return False          # Qdrant's optimizer merges segments and builds HNSW by itself

    # ---- the Store protocol --------------------------------------------------------------------

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        if not chunks:
            return
        from qdrant_client import models

        vectors = upsert_vectors(chunks, vectors)
        self._ensure_dim(vectors.shape[1])
        for start in range(0, len(chunks), _PAGE):
            points = [
                models.PointStruct(id=point_id(chunk.id), vector=vector.tolist(), payload=_payload(chunk))
                for chunk, vector in zip(chunks[start:start + _PAGE], vectors[start:start + _PAGE])
            ]
            self._client.upsert(self.collection, points=points, wait=True)

    def delete_documents(self, doc_ids: Iterable[str]) -> int:
        ids = sorted(set(doc_ids))
        if not ids or self._dim is None:
            return 0
        from qdrant_client import models

        selector = models.Filter(must=[models.FieldCondition(key="doc_id", match=models.MatchAny(any=ids))])
        doomed = self._client.count(self.collection, count_filter=selector, exact=True).count
        if doomed:
            self._client.delete(self.collection, points_selector=models.FilterSelector(filter=selector), wait=True)
        return doomed

    def chunk_ids(self, doc_ids: Iterable[str]) -> list[str]:
        """Ids of the chunks of these documents (in no particular order)."""
        ids = sorted(set(doc_ids))
        if not ids or self._dim is None:
            return []
        from qdrant_client import models

        selector = models.Filter(must=[models.FieldCondition(key="doc_id", match=models.MatchAny(any=ids))])
        return [payload["chunk_id"] for payload in self._scroll(selector, ["chunk_id"])]

    def dense_search(
        self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        if self._dim is None or k < 1:
            return []
        from qdrant_client import models

        query_filter, _ = prefilter(where)
        check = compile_where(where)
        params = None if self.local else models.SearchParams(hnsw_ef=max(self.hnsw_ef, k))
        query = np.asarray(vector, dtype=np.float32).reshape(-1).tolist()
        depth = k
        while True:
            points = self._client.query_points(
                self.collection, query=query, query_filter=query_filter, search_params=params, limit=depth,
                with_payload=_FILTER_FIELDS if check else ["chunk_id"],
            ).points
            kept = [p for p in points if check is None or check(_filter_view(p.payload))]
            if len(kept) >= k or len(points) < depth:
                return [(p.payload["chunk_id"], float(p.score)) for p in kept[:k]]
            depth *= 4

    def filter_ids(self, where: dict[str, Any] | None) -> set[str] | None:
        """Ids of the chunks `where` keeps (None = no filter), for BM25 with filters."""
        if not where:
            return None
        if self._dim is None:
            return set()
        query_filter, _ = prefilter(where)
        check = compile_where(where)
        return {p["chunk_id"] for p in self._scroll(query_filter, _FILTER_FIELDS) if check(_filter_view(p))}

    def get(self, chunk_ids: Sequence[str]) -> list[Chunk]:
        if self._dim is None or not chunk_ids:
            return []
        points = self._client.retrieve(self.collection, ids=[point_id(i) for i in chunk_ids], with_payload=True)
        found = {p.payload["chunk_id"]: _chunk(p.payload) for p in points}
        return [found[i] for i in chunk_ids if i in found]

    def chunks(self) -> Iterable[Chunk]:
        if self._dim is None:
            return []
        return sorted((_chunk(payload) for payload in self._scroll(None, True)), key=lambda c: c.id)

    def _scroll(self, query_filter, with_payload) -> Iterable[dict[str, Any]]:
        offset = None
        while True:
            points, offset = self._client.scroll(self.collection, scroll_filter=query_filter, limit=_PAGE,
                                                 offset=offset, with_payload=with_payload)
            yield from (p.payload for p in points)
            if offset is None:
                return

    def count(self) -> int:
        if self._dim is None:
            return 0
        return self._client.count(self.collection, exact=True).count

    def read_meta(self) -> dict[str, Any]:
        if not self._client.collection_exists(self.meta_collection):
            return {}
        points = self._client.retrieve(self.meta_collection, ids=[0], with_payload=True)
        return json.loads(points[0].payload["meta"]) if points else {}

    def write_meta(self, meta: dict[str, Any]) -> None:
        from qdrant_client import models

        if not self._client.collection_exists(self.meta_collection):
            self._client.create_collection(self.meta_collection,
                                           vectors_config=models.VectorParams(size=1, distance=models.Distance.DOT))
        text = json.dumps(meta, ensure_ascii=False, default=str)
        self._client.upsert(self.meta_collection, wait=True,
                            points=[models.PointStruct(id=0, vector=[1.0], payload={"meta": text})])

    def drop(self) -> None:
        """Remove the collection and its meta (what rebuild=True wipes)."""
        for name in (self.collection, self.meta_collection):
            if self._client.collection_exists(name):
                self._client.delete_collection(name)
        self._dim = None

    def close(self) -> None:
        self._client.close()


def _payload(chunk: Chunk) -> dict[str, Any]:
    source = str(chunk.metadata.get("source", ""))
    return {
        "chunk_id": chunk.id, "doc_id": chunk.doc_id, "text": chunk.text, "title": chunk.title,
        "heading_path": list(chunk.heading_path), "start": chunk.start, "end": chunk.end,
        "metadata": json.loads(json.dumps(chunk.metadata, ensure_ascii=False, default=str)),
        "_doc_dirs": folder_prefixes(chunk.doc_id), "_source_dirs": folder_prefixes(source),
    }


def _chunk(payload: dict[str, Any]) -> Chunk:
    return Chunk(id=payload["chunk_id"], doc_id=payload["doc_id"], text=payload.get("text", ""),
                 title=payload.get("title") or "", heading_path=tuple(payload.get("heading_path") or ()),
                 start=payload.get("start") or 0, end=payload.get("end") or 0, metadata=payload.get("metadata") or {})


def _filter_view(payload: dict[str, Any]) -> Chunk:
    """Just the fields a `where` filter reads."""
    return Chunk(id=payload["chunk_id"], doc_id=payload["doc_id"], text="", title=payload.get("title") or "",
                 metadata=payload.get("metadata") or {})


def open_qdrant_store(location: str, **options) -> QdrantStore:
    return QdrantStore(location, **options)
