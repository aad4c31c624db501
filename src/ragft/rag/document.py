"""Documents and the chunks they are cut into: the unit every store, search and citation works on."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Document:
    """One source file (or JSONL record) after loading: plain text plus where it came from."""

    id: str                      # stable: source path relative to the ingest root (or record id)
    text: str
    title: str = ""
    source: str = ""             # path or URL as given
    content_hash: str = ""       # sha256 of the raw bytes; drives incremental sync
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Chunk:
    """A token-bounded piece of a document, with its place in the document's structure."""

    id: str                      # stable: derived from doc_id + ordinal + text hash
    doc_id: str
    text: str
    title: str = ""
    heading_path: tuple[str, ...] = ()
    start: int = 0               # character offsets into Document.text
    end: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Hit:
    """A chunk returned by a search, with its fused score and the per-method scores behind it."""

    chunk: Chunk
    score: float
    rank: int
    scores: dict[str, float] = field(default_factory=dict)   # e.g. {"dense": .71, "bm25": 9.2}
