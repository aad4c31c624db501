"""The server's Asker answers from a pool of threads: concurrent questions each get their own right answer."""
from __future__ import annotations

import asyncio
import threading

from ragft.server.asker import Asker, default_workers

from .conftest import DOCS

QUESTIONS = {
    "How do I create a virtual environment?": "venv.md",
    "What does the global interpreter lock do to threads?": "gil.md",
    "Why can tuples be dictionary keys?": "tuples.md",
}


def test_the_pool_is_sized_to_the_cores_the_process_may_use(index_path):
    asker = Asker(index_path)
    try:
        assert asker.workers == default_workers() >= 1
    finally:
        asker.close()


def test_concurrent_questions_each_get_their_own_cited_answer(index_path):
    asker = Asker(index_path, workers=4)
    seen_threads: set[str] = set()
    original = asker._ask

    def spy(question, validate="off"):
        seen_threads.add(threading.current_thread().name)
        return original(question, validate)

    asker._ask = spy
    questions = list(QUESTIONS) * 4      # 12 asks in flight at once, exact repeats included (answer cache hits)

    async def ask_all():
        return await asyncio.gather(*(asker.ask(question) for question in questions))

    try:
        answers = asyncio.run(ask_all())
    finally:
        asker.close()
    for question, answer in zip(questions, answers):
        assert answer["error"] is None, answer
        assert answer["citations"][0]["doc_id"] == QUESTIONS[question]
        assert answer["citations"][0]["title"] == DOCS[QUESTIONS[question].removesuffix(".md")][0]
        assert answer["text"]
    assert all(name.startswith("ragft-index") for name in seen_threads)


def test_concurrent_questions_are_embedded_together_with_the_same_vectors_as_alone():
    from concurrent.futures import ThreadPoolExecutor

    from ragft.testing import HashingEmbedder

    from ragft.server.asker import CoalescingEmbedder

    class Slow(HashingEmbedder):
        def embed(self, texts):
            gate.wait(5)                   # the first batch holds until every question is queued
            return super().embed(texts)

    gate = threading.Event()
    coalescing = CoalescingEmbedder(Slow())
    questions = [f"question number {i} about {word}" for i, word in enumerate(["venv", "gil", "tuples"] * 4)]
    with ThreadPoolExecutor(len(questions)) as pool:
        futures = [pool.submit(coalescing.embed, [q]) for q in questions]
        for _ in range(500):               # the first call leads (and holds); the other 11 queue behind it
            if len(coalescing._queue) == len(questions) - 1:
                break
            threading.Event().wait(0.01)
        gate.set()
        vectors = [f.result() for f in futures]
    alone = HashingEmbedder()
    for question, vector in zip(questions, vectors):
        assert vector.shape == (1, alone.dim) and (vector == alone.embed([question])).all()
    assert sum(coalescing.batches) == len(questions) and max(coalescing.batches) >= len(questions) - 1
    assert coalescing.name == alone.name
