"""Shared fixtures for the RAG engine tests: a tiny deterministic embedder and a generated corpus."""
from __future__ import annotations

import hashlib
import re

import numpy as np
import pytest

from ragft.rag.embedders.base import EMBEDDERS


class HashingEmbedder:
    """Bag of hashed words (md5 buckets, signed), L2-normalised: texts sharing words are close."""

    name = "test-hashing:v1"
    dim = 64

    def embed(self, texts):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                digest = hashlib.md5(word.encode()).digest()
                out[row, digest[0] % self.dim] += 1.0 if digest[1] % 2 else -1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


EMBEDDERS.register("test-hashing")(HashingEmbedder)

TOPICS = {
    "lists": "Python lists are mutable sequences. Append adds an item to the end of a list.",
    "tuples": "Tuples are immutable sequences, often used to group heterogeneous values together.",
    "dicts": "A dictionary maps hashable keys to values; lookups by key take constant time on average.",
    "gc": "The garbage collector reclaims memory of objects caught in reference cycles.",
    "gil": "The global interpreter lock lets only one thread execute Python bytecode at a time.",
    "venv": "A virtual environment isolates installed packages per project, created with python -m venv.",
}


@pytest.fixture
def corpus(tmp_path):
    """A folder of markdown files, one topic each, under docs/ (plus a nested folder)."""
    root = tmp_path / "docs"
    (root / "advanced").mkdir(parents=True)
    for name, text in TOPICS.items():
        folder = root / "advanced" if name in ("gc", "gil") else root
        (folder / f"{name}.md").write_text(f"# About {name}\n\n{text}\n", encoding="utf-8")
    return root
