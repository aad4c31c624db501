"""The answer and embedding caches are written by several processes at once (`ragft serve --processes N`):
two processes of 4 threads each, opening the same fresh files together and reading and writing the same and
different rows, all succeed."""
from __future__ import annotations

import multiprocessing
import sqlite3
import traceback

import numpy as np

from ragft.rag.answer_cache import AnswerCache
from ragft.rag.embedding_cache import CachedEmbedder
from ragft.testing import HashingEmbedder

ROWS = 150
THREADS = 4


def _write(folder: str, worker: int, start, errors) -> None:
    """One server process: THREADS answering threads sharing its caches, as the server's pool does."""
    from concurrent.futures import ThreadPoolExecutor
    from pathlib import Path

    try:
        start.wait(timeout=30)           # both open the fresh files at the same moment
        answers = AnswerCache(Path(folder) / "answers.sqlite")
        embedder = CachedEmbedder(HashingEmbedder(), Path(folder) / "embeddings.sqlite")
        answers.invalidate(1)

        def ask(row: int) -> None:
            question = f"shared question {row}" if row % 2 else f"question {row} of worker {worker}"
            vector = np.full(4, row, dtype=np.float32)
            answers.near(vector / np.linalg.norm(vector) if row else vector, "setup", 1)
            if answers.exact(question, "setup", 1) is None:
                answers.put(question, vector, "setup", 1, {"text": f"answer {row}", "worker": worker})
            answers.count(hit=row % 3 == 0)
            embedder.embed([question, f"text {row} of worker {worker}"])

        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(ask, range(ROWS)))
        answers.close()
        embedder.close()
    except Exception:                     # noqa: BLE001 (reported to the test, which fails on it)
        errors.put(f"worker {worker}: {traceback.format_exc()}")


def test_two_processes_write_the_same_caches_at_once_without_locking_errors(tmp_path):
    context = multiprocessing.get_context("fork")
    start, errors = context.Barrier(2), context.Queue()
    workers = [context.Process(target=_write, args=(str(tmp_path), worker, start, errors)) for worker in (0, 1)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=120)
    found = [errors.get() for _ in range(errors.qsize())] if not errors.empty() else []
    assert found == [] and [process.exitcode for process in workers] == [0, 0]

    shared, own = ROWS // 2, ROWS - ROWS // 2
    with sqlite3.connect(tmp_path / "answers.sqlite") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT COUNT(*) FROM answers").fetchone()[0] == shared + 2 * own
        assert dict(db.execute("SELECT name, value FROM counters"))["lookups"] == 2 * ROWS
    with sqlite3.connect(tmp_path / "embeddings.sqlite") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0] == shared + 2 * own + 2 * ROWS


def test_a_cache_in_memory_stays_in_memory():
    cache = AnswerCache(None)
    cache.put("q", None, "setup", 1, {"text": "a"})
    assert cache.exact("Q?", "setup", 1).answer == {"text": "a"}
