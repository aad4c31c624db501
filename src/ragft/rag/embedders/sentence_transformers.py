"""`sentence-transformers`: any local sentence-transformers model folder, if that package is installed."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from ragft.errors import InputError, MissingDependencyError, NotFoundError, RagftError
from ragft.files import sha256_file

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


class MissingSentenceTransformersError(MissingDependencyError):
    def __init__(self):
        RagftError.__init__(
            self,
            "the sentence-transformers embedder needs the package 'sentence-transformers': install CPU torch first "
            "(`pip install torch==2.13.0`, as the Makefile does), then `pip install sentence-transformers==6.2.0`",
        )


def weights_sha256(folder: Path) -> str:
    for name in WEIGHT_FILES:
        path = folder / name
        if path.is_file():
            return sha256_file(path)
    raise NotFoundError(f"{folder}: no {' or '.join(WEIGHT_FILES)}; pass model=PATH of a sentence-transformers folder")


class SentenceTransformersEmbedder:
    def __init__(self, model, folder: Path, batch_size: int):
        self.model = model
        self.batch_size = batch_size
        self.dim = int(model.get_sentence_embedding_dimension())
        self.name = f"sentence-transformers:{folder.name}:{weights_sha256(folder)[:12]}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self.model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)


def create_sentence_transformers(model: str | Path | None = None, batch_size: int = 32, device: str = "cpu"):
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise MissingSentenceTransformersError() from None
    if not model:
        raise InputError("the sentence-transformers embedder needs model=PATH (a local model folder; no downloads)")
    folder = Path(model).expanduser()
    if not (folder / "modules.json").is_file() and not (folder / "config.json").is_file():
        raise NotFoundError(f"{folder}: not a sentence-transformers model folder (no modules.json or config.json)")
    loaded = SentenceTransformer(str(folder), device=device, local_files_only=True)
    return SentenceTransformersEmbedder(loaded, folder, batch_size)
