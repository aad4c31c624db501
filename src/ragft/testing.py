"""Test helpers for ragft's own tests and for plugin authors: a deterministic, instant embedder.

Use it in a test with the registry's context manager, so nothing global outlives the test:

    with EMBEDDERS.registered("test-hashing", HashingEmbedder):
        Index.open(path, embedder="test-hashing")
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np


class HashingEmbedder:
    """Bag of hashed words (md5 buckets, signed), L2-normalised: texts sharing words are close; deterministic
    and instant, so engine tests do not wait on MiniLM. Subclass it to change `name` or `dim`."""

    name = "test-hashing:v1"
    dim = 64

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                digest = hashlib.md5(word.encode()).digest()
                out[row, digest[0] % self.dim] += 1.0 if digest[1] % 2 else -1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
