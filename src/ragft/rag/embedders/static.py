"""`static`: model2vec-style static embeddings distilled from the bundled MiniLM: a mean of token vectors.

Each vocabulary token is run once through MiniLM as the text "[CLS] token [SEP]"; the table (centred, first
principal component removed) is cached under ~/.cache/ragft/ keyed by the weight hash. Embedding a text is then
a table lookup plus a SIF-weighted mean: no transformer at query or indexing time.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ragft.errors import InputError
from ragft.files import atomic_path
from ragft.files import cache_dir as default_cache_dir
from ragft.rag.embedders.base import l2_normalise
from ragft.rag.embedders.bert import Bert
from ragft.rag.embedders.bundled import MODEL_ID, BundledModel, bundled_tokenizer, load_bundled_minilm

TABLE_VERSION = 1            # bump when the distillation recipe changes: old caches are then ignored
FIRST_WORD_ID = 1996         # BERT uncased: ids below are [PAD]/[unusedN]/specials/single characters
SIF_A = 1e-3
TABLES = ("distilled", "input")
WEIGHTINGS = ("sif", "none")


def distill_table(
    bert: Bert,
    cls_id: int,
    sep_id: int,
    token_ids: np.ndarray | None = None,
    batch_size: int = 1024,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Mean-pooled MiniLM output of the one-token text of each token (default: the whole vocabulary)."""
    token_ids = np.arange(bert.word.shape[0]) if token_ids is None else np.asarray(token_ids, dtype=np.int64)
    table = np.empty((len(token_ids), bert.hidden), dtype=np.float32)
    for start in range(0, len(token_ids), batch_size):
        ids = token_ids[start : start + batch_size]
        seqs = np.stack([np.full_like(ids, cls_id), ids, np.full_like(ids, sep_id)], axis=1)
        table[start : start + len(ids)] = bert.forward(seqs, np.ones(seqs.shape, dtype=np.float32)).mean(axis=1)
        if progress:
            progress(start + len(ids), len(token_ids))
    return table


def remove_first_component(table: np.ndarray) -> np.ndarray:
    """Centre the table and project out its dominant direction (shared by all tokens, carries no meaning)."""
    centred = table - table[FIRST_WORD_ID:].mean(axis=0)
    _, _, vt = np.linalg.svd(centred[FIRST_WORD_ID:], full_matrices=False)
    top = vt[:1]
    return (centred - (centred @ top.T) @ top).astype(np.float32)


def sif_weights(vocab: int) -> np.ndarray:
    """a / (a + p(token)) with p from Zipf's law over the (frequency-ordered) BERT word ids."""
    rank = np.maximum(np.arange(vocab) - (FIRST_WORD_ID - 1), 1)
    probability = 1.0 / (rank * np.log(vocab))
    return (SIF_A / (SIF_A + probability)).astype(np.float32)


def save_atomic(path: Path, array: np.ndarray) -> None:
    with atomic_path(path) as temp, temp.open("wb") as handle:
        np.save(handle, array)


def load_distilled_table(model: BundledModel, cache_dir: Path, progress=None) -> np.ndarray:
    path = cache_dir / f"static-{MODEL_ID}-{model.sha256[:12]}-v{TABLE_VERSION}.npy"
    if path.is_file():
        return np.load(path)
    tokenizer = bundled_tokenizer(model, None)
    bert = Bert(model.weights, model.config)
    raw = distill_table(bert, tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]"), progress=progress)
    table = remove_first_component(raw)
    save_atomic(path, table)
    return table


class StaticEmbedder:
    """L2-normalised weighted mean of per-token vectors; a text with no tokens gets the zero vector."""

    def __init__(self, table: np.ndarray, tokenizer, name: str):
        self.table = np.ascontiguousarray(table, dtype=np.float32)
        self.tokenizer = tokenizer
        self.name = name
        self.dim = int(table.shape[1])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        from scipy.sparse import csr_matrix

        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        indptr = np.zeros(len(encodings) + 1, dtype=np.int64)
        np.cumsum([len(enc.ids) for enc in encodings], out=indptr[1:])
        ids = np.fromiter((i for enc in encodings for i in enc.ids), dtype=np.int64, count=int(indptr[-1]))
        counts = csr_matrix(
            (np.ones(len(ids), dtype=np.float32), ids, indptr), shape=(len(encodings), len(self.table))
        )
        return l2_normalise(np.asarray(counts @ self.table, dtype=np.float32))


def create_static(
    table: str = "distilled", weighting: str = "sif", cache_dir: str | Path | None = None, progress=None
) -> StaticEmbedder:
    """table: "distilled" (MiniLM outputs, cached) or "input" (MiniLM's input embedding matrix, no distillation)."""
    if table not in TABLES:
        raise InputError(f"static embedder option table={table!r}: choose one of {', '.join(TABLES)}")
    if weighting not in WEIGHTINGS:
        raise InputError(f"static embedder option weighting={weighting!r}: choose one of {', '.join(WEIGHTINGS)}")
    model = load_bundled_minilm()
    if table == "distilled":
        vectors = load_distilled_table(model, Path(cache_dir) if cache_dir else default_cache_dir(), progress)
    else:
        vectors = np.asarray(model.weights["embeddings.word_embeddings.weight"], dtype=np.float32)
    if weighting == "sif":
        vectors = vectors * sif_weights(len(vectors))[:, None]
    name = f"static:{MODEL_ID}-{table}:{model.sha256[:12]}:{weighting}"
    return StaticEmbedder(vectors, bundled_tokenizer(model, None), name)
