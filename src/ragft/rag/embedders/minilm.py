"""`minilm`: the bundled all-MiniLM-L6-v2 sentence embedder, run in numpy (no torch needed)."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from ragft.rag.embedders.base import EMBEDDERS, l2_normalise
from ragft.rag.embedders.bert import Bert
from ragft.rag.embedders.bundled import MODEL_ID, bundled_tokenizer, load_bundled_minilm


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[np.ndarray]:
    """Indices grouped so each batch holds texts of similar length (padding stays within a batch)."""
    order = np.argsort(np.asarray(lengths), kind="stable")
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


class MiniLMEmbedder:
    """Mean-pooled, L2-normalised all-MiniLM-L6-v2 vectors (dim 384), truncating at 256 tokens."""

    def __init__(self, batch_size: int = 32, zip_path: str | Path | None = None):
        model = load_bundled_minilm(Path(zip_path) if zip_path else None)
        self.bert = Bert(model.weights, model.config)
        self.tokenizer = bundled_tokenizer(model, model.max_seq_length)
        self.batch_size = batch_size
        self.sha256 = model.sha256
        self.dim = self.bert.hidden
        self.name = f"minilm:{MODEL_ID}:{model.sha256[:12]}"

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        return [enc.ids for enc in self.tokenizer.encode_batch(list(texts))]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        ids = self.tokenize(texts)
        out = np.zeros((len(ids), self.dim), dtype=np.float32)
        for batch in length_sorted_batches([len(seq) for seq in ids], self.batch_size):
            out[batch] = self.embed_ids([ids[i] for i in batch])
        return out

    def embed_ids(self, sequences: list[list[int]]) -> np.ndarray:
        length = max(len(seq) for seq in sequences)
        ids = np.zeros((len(sequences), length), dtype=np.int64)
        mask = np.zeros((len(sequences), length), dtype=np.float32)
        for row, seq in enumerate(sequences):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1.0
        hidden = self.bert.forward(ids, mask)
        pooled = np.einsum("bld,bl->bd", hidden, mask) / mask.sum(axis=1, keepdims=True)
        return l2_normalise(pooled)


@EMBEDDERS.register("minilm")
def create_minilm(batch_size: int = 32, zip_path: str | Path | None = None) -> MiniLMEmbedder:
    return MiniLMEmbedder(batch_size=batch_size, zip_path=zip_path)
