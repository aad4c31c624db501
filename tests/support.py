"""Helpers shared across test folders (on sys.path through `pythonpath` in pyproject)."""
from __future__ import annotations

import hashlib
import re

import numpy as np


class HashingEmbedder:
    """Bag of hashed words (md5 buckets, signed), L2-normalised: texts sharing words are close; deterministic
    and instant, so engine tests do not wait on MiniLM."""

    name = "test-hashing:v1"
    dim = 64

    def embed(self, texts):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                digest = hashlib.md5(word.encode()).digest()
                out[row, digest[0] % self.dim] += 1.0 if digest[1] % 2 else -1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    """`ragft ARGS` through the real entry point: (exit code, stdout, stderr); returning normally is exit 0."""
    from ragft.cli import main

    try:
        main(list(args))
        code = 0
    except SystemExit as done:
        code = int(done.code or 0)
    out, err = capsys.readouterr()
    return code, out, err
