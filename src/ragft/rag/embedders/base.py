"""The Embedder protocol and its registry."""
from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

import numpy as np

from ragft.registry import Registry


@runtime_checkable
class Embedder(Protocol):
    name: str        # identity recorded in an index, e.g. "minilm:all-MiniLM-L6-v2:<sha256[:12]>"
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return float32 vectors of shape (len(texts), dim), L2-normalised."""
        ...


# Built-in backends, imported on first use; other packages add theirs through the `ragft.embedders` entry points.
EMBEDDERS: Registry[Embedder] = Registry("embedder", group="ragft.embedders", builtins={
    "minilm": "ragft.rag.embedders.minilm:create_minilm",
    "static": "ragft.rag.embedders.static:create_static",
    "openai": "ragft.rag.embedders.openai:create_openai",
    "sentence-transformers": "ragft.rag.embedders.sentence_transformers:create_sentence_transformers",
    "tuned": "ragft.rag.embedders.tuned:create_tuned",
})


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, as float32; all-zero rows stay zero."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


def create_embedder(name: str, **options) -> Embedder:
    """A registry name, or a folder path (not a registry name): a tuned embedder (`ragft finetune retriever`)."""
    if name not in EMBEDDERS and _is_folder_reference(name):
        return EMBEDDERS.create("tuned", path=name, **options)
    return EMBEDDERS.create(name, **options)


def embedder_reference(name: str) -> str:
    """What an index records for `name`: the name itself, or a folder path made absolute (so the index reopens
    with it from any working directory)."""
    if name not in EMBEDDERS and _is_folder_reference(name):
        from pathlib import Path

        return str(Path(name).expanduser().resolve())
    return name


def _is_folder_reference(name: str) -> bool:
    """A `--embedder` value meant as a folder rather than a registry name."""
    import os
    from pathlib import Path

    return "/" in name or os.sep in name or name.startswith((".", "~")) or Path(name).is_dir()
