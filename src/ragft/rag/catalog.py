"""`Catalog`: what an index knows about itself, persisted as meta.json — embedder, chunking, generation,
the source files and documents it holds, and the search settings saved for it.

Stores keep the catalog as the JSON-able dict `Catalog.to_json()` gives (`Store.write_meta`/`read_meta`);
`Catalog.from_json` reads it back. Keys this version does not know (written by a newer ragft, or by hand)
are kept in each entry's `extra` and written back unchanged, so an older and a newer ragft can share a folder.

meta.json, format 1 (every key written by ragft 0.x; `search` only once settings were saved):
  format, embedder (registry name), embedder_id, dim, chunking {max_tokens, overlap}, generation, created,
  updated, sources {key: {path, hash, chunking, doc_ids}}, documents {doc_id: {title, source, hash, chunks,
  source_key}}, search {fusion, alpha, rrf_k, weights, candidates, k, tuned}.
"""
from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Self

from ragft.errors import InputError
from ragft.rag.document import Document
from ragft.rag.search import SearchConfig

FORMAT = 1
DEFAULT_K = 10          # Index.search's k when neither the caller nor the saved search settings give one


def _split(cls, data: Mapping[str, Any], what: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the keys `cls` declares, the others) of one JSON object."""
    if not isinstance(data, Mapping):
        raise InputError(f"index meta: {what} must be a JSON object, got {type(data).__name__}; "
                         "open the index with rebuild=True")
    names = {f.name for f in fields(cls)} - {"extra"}
    return ({k: v for k, v in data.items() if k in names}, {k: v for k, v in data.items() if k not in names})


class _Entry:
    """`from_json` for a dataclass whose fields are its JSON keys; the keys it does not declare go to `extra`."""

    _what = "an entry"            # named in the error for a value that is not a JSON object

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        known, extra = _split(cls, data, cls._what)
        return cls(**known, extra=extra)


@dataclass(frozen=True)
class Chunking(_Entry):
    """How documents are cut into chunks (tokens per chunk, tokens shared by neighbours)."""

    _what = "chunking"
    max_tokens: int = 200
    overlap: int = 32
    extra: Mapping[str, Any] = field(default_factory=dict)   # a newer chunking key: compares unequal, as it should

    def to_json(self) -> dict[str, Any]:
        return {"max_tokens": self.max_tokens, "overlap": self.overlap, **self.extra}


@dataclass
class SourceEntry(_Entry):
    """A source file the index mirrors: its path, content hash, the chunking it was indexed with, its documents."""

    _what = "a source"
    path: str | None = None
    hash: str = ""
    chunking: Chunking | None = None
    doc_ids: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "hash": self.hash,
                "chunking": None if self.chunking is None else self.chunking.to_json(),
                "doc_ids": list(self.doc_ids), **self.extra}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SourceEntry:
        entry = super().from_json(data)
        if entry.chunking is not None:
            entry.chunking = Chunking.from_json(entry.chunking)
        entry.doc_ids = list(entry.doc_ids or ())
        return entry


@dataclass
class DocumentEntry(_Entry):
    """A document in the index: its title, source, content hash, chunk count and the source file it came
    from (`source_key`; None for documents added without a file)."""

    _what = "a document"
    title: str = ""
    source: str = ""
    hash: str = ""
    chunks: int = 0
    source_key: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "source": self.source, "hash": self.hash, "chunks": self.chunks,
                "source_key": self.source_key, **self.extra}


@dataclass(frozen=True)
class SearchSettings(_Entry):
    """Search settings saved with an index (`Index.save_search_settings`): the fields of SearchConfig, the `k`
    Index.search uses when its caller gives none (None: DEFAULT_K), and `tuned`, free-form provenance
    (e.g. {"by": "ragft eval tune", "eval_set": ..., "test_ndcg": ...}; None when set by hand)."""

    _what = "search"
    fusion: str = SearchConfig.fusion
    alpha: float = SearchConfig.alpha
    rrf_k: float = SearchConfig.rrf_k
    weights: Mapping[str, float] = field(default_factory=lambda: dict(SearchConfig().weights))
    candidates: int = SearchConfig.candidates
    k: int | None = None
    tuned: dict[str, Any] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        self.config()                                          # SearchConfig's checks, one-line InputErrors
        if self.k is not None and (isinstance(self.k, bool) or not isinstance(self.k, int) or self.k < 1):
            raise InputError(f"search settings: k must be a whole number >= 1, got {self.k!r}")
        if self.tuned is not None and not isinstance(self.tuned, Mapping):
            raise InputError(f"search settings: tuned must be a JSON object or None, got {type(self.tuned).__name__}")

    @classmethod
    def from_config(cls, config: SearchConfig, k: int | None = None,
                    tuned: Mapping[str, Any] | None = None) -> SearchSettings:
        return cls(**config.to_json(), k=k, tuned=None if tuned is None else dict(tuned))

    def config(self) -> SearchConfig:
        return SearchConfig.from_json(vars(self))

    def to_json(self) -> dict[str, Any]:
        return {**self.config().to_json(), "k": self.k, "tuned": self.tuned, **self.extra}


@dataclass
class Catalog:
    """The typed meta.json of an index. The engine edits it only through the methods below, then commits it
    (`commit` bumps the generation, which invalidates cached answers) and writes `to_json()` to its store."""

    embedder: str                                  # the registry name the index was opened with
    embedder_id: str                               # the embedder's own name (model + version)
    dim: int
    chunking: Chunking
    format: int = FORMAT
    generation: int = 0
    created: float = 0.0
    updated: float = 0.0
    sources: dict[str, SourceEntry] = field(default_factory=dict)
    documents: dict[str, DocumentEntry] = field(default_factory=dict)
    search: SearchSettings | None = None           # None: SearchConfig's defaults
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def new(cls, embedder: str, embedder_id: str, dim: int, chunking: Chunking) -> Catalog:
        now = time.time()
        return cls(embedder, embedder_id, dim, chunking, created=now, updated=now)

    # ---- the JSON boundary (Store.read_meta / write_meta) -----------------------------------------------

    def to_json(self) -> dict[str, Any]:
        data = {
            "format": self.format, "embedder": self.embedder, "embedder_id": self.embedder_id, "dim": self.dim,
            "chunking": self.chunking.to_json(), "generation": self.generation, "created": self.created,
            "updated": self.updated,
            "sources": {key: source.to_json() for key, source in self.sources.items()},
            "documents": {doc_id: doc.to_json() for doc_id, doc in self.documents.items()},
        }
        if self.search is not None:
            data["search"] = self.search.to_json()
        return {**data, **self.extra}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Catalog:
        """The catalog in a store's meta dict; InputError (one line) when it is not one."""
        known, extra = _split(cls, data, "meta.json")
        missing = [name for name in ("embedder", "embedder_id", "dim") if name not in known]
        if missing:
            raise InputError(f"index meta: missing {', '.join(missing)}; open the index with rebuild=True")
        try:
            known["chunking"] = Chunking.from_json(known.get("chunking") or {})
            known["sources"] = {k: SourceEntry.from_json(v) for k, v in _object(known, "sources").items()}
            known["documents"] = {k: DocumentEntry.from_json(v) for k, v in _object(known, "documents").items()}
            if known.get("search") is not None:
                known["search"] = _search(known["search"])
            return cls(**known, extra=extra)
        except TypeError as error:                 # a known key of the wrong JSON type
            raise InputError(f"index meta: malformed ({error}); open the index with rebuild=True") from None

    # ---- edits the engine makes ----------------------------------------------------------------------

    @property
    def stamp(self) -> str:
        """Changes with every commit and every rebuild: what a persisted BM25 must match to be current."""
        return f"{self.created}:{self.generation}"

    def commit(self) -> None:
        self.generation += 1
        self.updated = time.time()

    def is_current(self, key: str, digest: str) -> bool:
        """True when source `key` was indexed from content `digest` with this index's chunking."""
        known = self.sources.get(key)
        return known is not None and known.hash == digest and known.chunking == self.chunking

    def doc_ids_of(self, key: str) -> list[str]:
        known = self.sources.get(key)
        return list(known.doc_ids) if known else []

    def record_document(self, doc: Document, chunks: int) -> None:
        """(Re)list `doc` with its chunk count; it belongs to no source until `record_source` names it."""
        digest = doc.content_hash or hashlib.sha256(doc.text.encode()).hexdigest()
        self.documents[doc.id] = DocumentEntry(doc.title, doc.source, digest, chunks)

    def record_source(self, key: str, path: str, digest: str, doc_ids: Iterable[str]) -> None:
        """Source file `key` (at `path`, content `digest`) was indexed into the already recorded `doc_ids`."""
        doc_ids = list(doc_ids)
        self.sources[key] = SourceEntry(path, digest, self.chunking, doc_ids)
        for doc_id in doc_ids:
            self.documents[doc_id].source_key = key

    def forget_source(self, key: str) -> SourceEntry | None:
        return self.sources.pop(key, None)

    def forget_documents(self, doc_ids: Iterable[str]) -> None:
        for doc_id in doc_ids:
            self.documents.pop(doc_id, None)

    def unlist_documents(self, doc_ids: Iterable[str]) -> None:
        """Take `doc_ids` out of their sources' lists; a source left with no documents is forgotten."""
        gone = set(doc_ids)
        for key, source in list(self.sources.items()):
            source.doc_ids = [d for d in source.doc_ids if d not in gone]
            if not source.doc_ids:
                del self.sources[key]

    def search_config(self) -> SearchConfig | None:
        """The saved search settings as a SearchConfig; None when none were saved."""
        return None if self.search is None else self.search.config()


def _search(data: Mapping[str, Any]) -> SearchSettings:
    try:
        return SearchSettings.from_json(data)
    except InputError as error:
        raise InputError(f"index meta: saved search settings: {error}; delete the \"search\" entry of meta.json "
                         "to search with the defaults") from None


def _object(known: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = known.get(key) or {}
    if not isinstance(value, Mapping):
        raise InputError(f"index meta: {key} must be a JSON object; open the index with rebuild=True")
    return value
