"""`Draft`: a question and reference answer drawn from one chunk, before an eval set's filters judge it."""
from __future__ import annotations

from dataclasses import dataclass

from ragft.rag.document import Chunk


@dataclass(frozen=True)
class Draft:
    question: str
    answer: str
    chunk: Chunk
    kind: str
    origin: str                      # "llm:<generator>" or "structure:<heading|definition>"
