"""The embedding cache: unchanged text never reaches the model twice, across runs and threads."""
from __future__ import annotations

import threading

import numpy as np

from ragft.rag.embedders import create_embedder
from ragft.rag.embedding_cache import CACHE_FILE, CachedEmbedder


class CountingEmbedder:
    """The real input-table static embedder, counting the texts it is asked to embed."""

    def __init__(self):
        self.inner = create_embedder("static", table="input")
        self.name, self.dim = self.inner.name, self.inner.dim
        self.calls: list[list[str]] = []

    def embed(self, texts):
        self.calls.append(list(texts))
        return self.inner.embed(texts)


TEXTS = ["Python lists are mutable.", "Tuples are not.", "Debian ships Python 3.11."]


def test_second_run_is_served_from_the_cache_file_with_identical_vectors(tmp_path):
    first_model = CountingEmbedder()
    first = CachedEmbedder(first_model, tmp_path / "cache.sqlite").embed(TEXTS)
    second_model = CountingEmbedder()
    cached = CachedEmbedder(second_model, tmp_path / "cache.sqlite")
    assert np.array_equal(cached.embed(TEXTS), first)
    assert second_model.calls == []
    assert cached.stats["hits"] == 3 and cached.stats["misses"] == 0


def test_only_new_texts_reach_the_model_and_order_is_kept(tmp_path):
    model = CountingEmbedder()
    cached = CachedEmbedder(model, tmp_path)
    cached.embed(TEXTS[:2])
    vectors = cached.embed([TEXTS[2], TEXTS[0], TEXTS[2]])
    assert model.calls == [TEXTS[:2], [TEXTS[2]]]
    assert np.allclose(vectors, model.inner.embed([TEXTS[2], TEXTS[0], TEXTS[2]]))
    assert cached.stats == {"hits": 2, "misses": 3, "hit_rate": 0.4, "path": str(tmp_path / CACHE_FILE)}


def test_another_embedder_name_does_not_reuse_vectors(tmp_path):
    CachedEmbedder(CountingEmbedder(), tmp_path).embed(TEXTS)
    other = CountingEmbedder()
    other.name = "static:another-model"
    CachedEmbedder(other, tmp_path).embed(TEXTS)
    assert other.calls == [TEXTS]


def test_concurrent_threads_read_and_write_without_errors(tmp_path):
    model = CountingEmbedder()
    cached = CachedEmbedder(model, tmp_path)
    cached.embed(TEXTS)
    errors: list[BaseException] = []

    def worker(n: int):
        try:
            for i in range(20):
                cached.embed(TEXTS + [f"thread {n} text {i % 5}"])
        except BaseException as error:  # surfaced below; a thread cannot fail the test itself
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert cached.stats["hits"] + cached.stats["misses"] == 3 + 4 * 20 * 4
