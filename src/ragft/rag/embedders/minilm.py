"""`minilm`: the bundled all-MiniLM-L6-v2 sentence embedder: torch when it is installed (CUDA when present),
else a numpy forward pass. Same weights and the same name either way; vectors agree to 1e-4."""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ragft.errors import InputError
from ragft.rag.embedders.base import EMBEDDERS, l2_normalise
from ragft.rag.embedders.bert import Bert, TorchBert, usable_cores
from ragft.rag.embedders.bundled import MODEL_ID, BundledModel, bundled_tokenizer, load_bundled_minilm

BACKENDS = ("auto", "torch", "numpy")
BACKEND_ENV = "RAGFT_MINILM_BACKEND"
# A batch of at most this many token slots (a question, a few short texts) runs on one torch thread: its GEMMs
# (a dozen rows against 42 MB of weights) gain nothing from a second thread, whose wake-up only adds latency
# jitter, and on a busy machine a second spinning thread made a query 7x slower (docs/benchmarks.md).
SMALL_CALL_TOKENS = 256


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[np.ndarray]:
    """Indices grouped so each batch holds texts of similar length (padding stays within a batch)."""
    order = np.argsort(np.asarray(lengths), kind="stable")
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def token_ids(tokenizer, texts: Sequence[str]) -> list[list[int]]:
    """Each text's token ids through a `bundled_tokenizer` (its own truncation), unpadded."""
    return [enc.ids for enc in tokenizer.encode_batch(list(texts))]


def pad_batch(sequences: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """(ids int64, mask float32), both (batch, longest): each sequence left-aligned, zeros after it."""
    length = max(len(seq) for seq in sequences)
    ids = np.zeros((len(sequences), length), dtype=np.int64)
    mask = np.zeros((len(sequences), length), dtype=np.float32)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)] = seq
        mask[row, : len(seq)] = 1.0
    return ids, mask


def torch_device() -> str | None:
    """'cuda' when torch sees a GPU, 'cpu' when torch is importable without one, None without torch."""
    try:
        import torch
    except ImportError:
        return None
    return "cuda" if torch.cuda.is_available() else "cpu"


def use_usable_cores() -> int:
    """torch's intra-op threads = the cores this process may use (affinity, $OMP_NUM_THREADS), not all cores."""
    import torch

    cores = usable_cores()
    if torch.get_num_threads() != cores:
        torch.set_num_threads(cores)
    return cores


class MiniLMEmbedder:
    """Mean-pooled, L2-normalised all-MiniLM-L6-v2 vectors (dim 384), truncating at 256 tokens.

    `backend`: "auto" (torch if importable, on CUDA if available, else numpy), "torch" or "numpy";
    None reads $RAGFT_MINILM_BACKEND (default auto). `model`: other weights of the same architecture (a
    fine-tuned copy, see `tuned.py`) instead of the bundled ones, named `name`."""

    def __init__(self, batch_size: int = 32, zip_path: str | Path | None = None, backend: str | None = None,
                 device: str | None = None, model: BundledModel | None = None, name: str | None = None):
        backend = backend or os.environ.get(BACKEND_ENV) or "auto"
        if backend not in BACKENDS:
            raise InputError(f"minilm backend: {backend!r} is not one of {', '.join(BACKENDS)} (option or ${BACKEND_ENV})")
        model = model or load_bundled_minilm(Path(zip_path) if zip_path else None)
        found = torch_device() if backend != "numpy" else None
        if backend == "torch" and found is None:
            raise InputError("minilm backend 'torch': torch is not installed; use backend 'numpy' or install torch")
        if found is not None:
            self.backend, self.device = "torch", device or found
            self.threads = use_usable_cores() if self.device == "cpu" else None
            self.bert = TorchBert(model.weights, model.config, self.device)
        else:
            self.backend, self.device, self.threads = "numpy", "cpu", None
            self.bert = Bert(model.weights, model.config)
        self.tokenizer = bundled_tokenizer(model, model.max_seq_length)
        self.batch_size = batch_size
        self.sha256 = model.sha256
        self.dim = self.bert.hidden
        self.name = name or f"minilm:{MODEL_ID}:{model.sha256[:12]}"

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        return token_ids(self.tokenizer, texts)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        ids = self.tokenize(texts)
        out = np.zeros((len(ids), self.dim), dtype=np.float32)
        for batch in length_sorted_batches([len(seq) for seq in ids], self.batch_size):
            out[batch] = self.embed_ids([ids[i] for i in batch])
        return out

    def embed_ids(self, sequences: list[list[int]]) -> np.ndarray:
        """One batch, padded to its own longest sequence."""
        ids, mask = pad_batch(sequences)
        if self.backend == "torch":
            threads = 1 if ids.size <= SMALL_CALL_TOKENS else self.threads
            return l2_normalise(self.bert.mean_pooled(ids, mask, threads=threads))
        hidden = self.bert.forward(ids, mask)
        pooled = np.einsum("bld,bl->bd", hidden, mask) / mask.sum(axis=1, keepdims=True)
        return l2_normalise(pooled)


@EMBEDDERS.register("minilm")
def create_minilm(batch_size: int = 32, zip_path: str | Path | None = None, backend: str | None = None,
                  device: str | None = None) -> MiniLMEmbedder:
    return MiniLMEmbedder(batch_size=batch_size, zip_path=zip_path, backend=backend, device=device)
