"""The index the server asks: opened once, used from one worker thread (its caches are SQLite connections)."""
from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, AsyncIterator

from ragft.errors import RagftError

log = logging.getLogger("ragft.server")
CONTEXT_CHARS = 700


class Asker:
    def __init__(self, index_path: str | Path, generator: str = "extractive", k: int = 5,
                 generator_options: dict[str, Any] | None = None):
        self.index_path = Path(index_path)
        self.generator, self.k = generator, k
        self.generator_options = dict(generator_options or {})
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ragft-index")
        self._index = None

    @property
    def ready(self) -> bool:
        return (self.index_path / "meta.json").is_file()

    def _open(self):
        if self._index is None:
            from ragft.rag.engine import Index

            self._index = Index.open(self.index_path, create=False)
        return self._index

    async def stream(self, question: str) -> AsyncIterator[dict[str, Any]]:
        """Events: {"type": "token", "text"}..., then {"type": "done", "citations", ...} or {"type": "error"}."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()

        def put(event: dict[str, Any]) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, event)

        def work() -> None:
            try:
                answer = self._open().ask(question, self.generator, k=self.k, stream=True, **self.generator_options)
                for piece in answer:
                    put({"type": "token", "text": piece})
                put({"type": "done", **answer_summary(answer)})
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

    async def ask(self, question: str) -> dict[str, Any]:
        """The whole answer at once: {"text", "citations", ...} or {"error"}."""
        pieces = []
        async for event in self.stream(question):
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
    }
