"""The index the server asks: opened once, searched and answered from a pool of threads sized to the cores.

Reading is thread-safe: the store and BM25 are read-only while serving, the embedding cache keeps one SQLite
connection per thread and the answer cache serializes its own. torch's thread count is per OS thread: MiniLM and the
local generator each set their own for the calling thread (ragft.cores.torch_threads), so concurrent requests never
change another request's count. The index is never written here (single writer:
`ragft index` in its own process, under the index lock)."""
from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ragft.errors import NoIndexError, RagftError

log = logging.getLogger("ragft.server")
CONTEXT_CHARS = 700


class CoalescingEmbedder:
    """An Embedder in front of `inner` that embeds the questions of concurrent requests in one batch.

    A question is a dozen rows against all of the model's weights, so one forward pass over 8 questions costs
    little more than one: the first waiting thread embeds everything queued while the others wait, and the
    questions that arrive meanwhile form the next batch. Calls of several texts pass straight through."""

    def __init__(self, inner):
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self._cond = threading.Condition()
        self._queue: list[dict[str, Any]] = []
        self._busy = False
        self.batches: list[int] = []      # sizes of the batches embedded, for the benchmark and tests

    def __getattr__(self, name: str) -> Any:   # stats, backend, ... of the wrapped embedder
        return getattr(self.inner, name)

    def embed(self, texts):
        texts = list(texts)
        if len(texts) != 1:
            return self.inner.embed(texts)
        job: dict[str, Any] = {"text": texts[0], "done": False}
        with self._cond:
            self._queue.append(job)
            while self._busy and not job["done"]:
                self._cond.wait()
            if not job["done"]:
                self._busy = True
                batch, self._queue = self._queue, []
        if not job["done"]:
            self._run(batch)
        if "error" in job:
            raise job["error"]
        return job["vector"][None, :]

    def _run(self, batch: list[dict[str, Any]]) -> None:
        try:
            vectors = self.inner.embed([job["text"] for job in batch])
            results = [{"vector": vector} for vector in vectors]
        except Exception as error:  # noqa: BLE001 (each waiting request gets the error, as if it had embedded alone)
            results = [{"error": error}] * len(batch)
        with self._cond:
            for job, result in zip(batch, results):
                job.update(result, done=True)
            self.batches.append(len(batch))
            self._busy = False
            self._cond.notify_all()


def default_workers() -> int:
    """The cores this process may run on."""
    from ragft.cores import usable_cores

    return usable_cores()


class Asker:
    def __init__(self, index_path: str | Path, generator: str = "extractive", k: int = 5,
                 generator_options: dict[str, Any] | None = None, workers: int | None = None):
        self.index_path = Path(index_path)
        self.generator, self.k = generator, k
        self.generator_options = dict(generator_options or {})
        self.workers = workers or default_workers()
        self._executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="ragft-index")
        self._lock = threading.Lock()
        self._warm = False
        self._index = None
        self._answerer = None

    @property
    def ready(self) -> bool:
        return (self.index_path / "meta.json").is_file()

    def _open(self):
        with self._lock:
            if self._index is None:
                from ragft.rag.answering import Answerer
                from ragft.rag.engine import Index

                self._index = Index.open(self.index_path, create=False)
                self._index.embedder = CoalescingEmbedder(self._index.embedder)
                self._answerer = Answerer(self._index)
            return self._answerer

    def _ask(self, question: str, validate: str = "off"):
        """Until one ask has succeeded, asks run one at a time: the first creates the generator (a local model
        loads once, not once per waiting request); later ones run in parallel."""
        answerer = self._open()
        if self._warm:
            return answerer.ask(question, self.generator, k=self.k, stream=True, validate=validate,
                                **self.generator_options)
        with self._lock:
            answer = answerer.ask(question, self.generator, k=self.k, stream=True, validate=validate,
                                  **self.generator_options)
            self._warm = True
            return answer

    async def stream(self, question: str, validate: str = "off") -> AsyncIterator[dict[str, Any]]:
        """Events: {"type": "token", "text"}..., then {"type": "done", "citations", ...} or {"type": "error"}.
        `validate` (ragft.rag.answering): "flag" or "refuse" checks the whole answer first, sent as one piece."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()

        def put(event: dict[str, Any]) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, event)

        def work() -> None:
            try:
                answer = self._ask(question, validate)
                for piece in answer:
                    put({"type": "token", "text": piece})
                put({"type": "done", **answer_summary(answer)})
            except NoIndexError as error:
                put({"type": "error", "message": f"no index at {error.location}: run `ragft index DIR` first"})
            except RagftError as error:
                put({"type": "error", "message": str(error)})
            except Exception:
                log.exception("ask failed")
                put({"type": "error", "message": "answering failed on the server; its log has the details"})

        self._executor.submit(work)
        while True:
            event = await queue.get()
            yield event
            if event["type"] != "token":
                return

    async def ask(self, question: str, validate: str = "off") -> dict[str, Any]:
        """The whole answer at once: {"text", "citations", ...} or {"error"}."""
        pieces = []
        async for event in self.stream(question, validate):
            if event["type"] == "token":
                pieces.append(event["text"])
            elif event["type"] == "error":
                return {"error": event["message"], "text": "", "citations": []}
            else:
                return {**event, "text": "".join(pieces), "error": None}
        return {"error": "no answer", "text": "", "citations": []}

    def close(self) -> None:
        if self._index is not None:
            self._executor.submit(self._index.close).result()
            self._index = None
        self._executor.shutdown(wait=True)


def answer_summary(answer) -> dict[str, Any]:
    return {
        "citations": [{"ref": c.ref, "doc_id": c.doc_id, "title": c.title, "source": c.source,
                       "text": c.text[:CONTEXT_CHARS]} for c in answer.citations],
        "generator": answer.generator,
        "model": answer.model,
        "seconds": round(answer.timings.get("total", 0.0), 3),
        "cached": answer.cache.get("hit"),
        "injection": [flag.to_json() for flag in getattr(answer, "injection", [])],
        **({"validation": answer.validation.to_json()} if getattr(answer, "validation", None) else {}),
    }
