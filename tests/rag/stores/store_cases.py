"""Generated chunks and unit vectors shared by the store tests."""
from __future__ import annotations

import numpy as np

from ragft.rag.document import Chunk


def unit_vectors(n: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


WORDS = ("list tuple dict set garbage collector thread lock module import package venv pip wheel "
         "string bytes unicode float integer decimal").split()


def _text(i: int) -> str:
    """Six topic words and i filler words: every chunk has its own length, so BM25 never ties (a tie would be
    broken by set order in BM25, which differs between stores)."""
    return " ".join([WORDS[(i * 7 + j) % len(WORDS)] for j in range(6)] + ["pad"] * i)


def make_chunks(n: int, docs: int = 4) -> list[Chunk]:
    """Chunks across `docs` documents in two folders, with a few typed metadata fields to filter on."""
    return [
        Chunk(id=f"c{i}", doc_id=f"dir{i % 2}/doc{i % docs}.md", text=_text(i), title=f"Title {i % docs}", heading_path=("A", f"B{i}"), start=i, end=i + 5,
              metadata={"source": f"src/dir{i % 2}/doc{i % docs}.md", "page": i % 3, "draft": i % 5 == 0,
                        "lang": "en" if i % 4 else "de"})
        for i in range(n)
    ]
