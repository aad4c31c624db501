"""Turning a backend's event stream (text pieces, then one Usage) into `stream()` pieces or a Generation."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Iterator, Union

from ragft.llm.base import Generation, GenerationRequest
from ragft.llm.prompts import cited_refs
from ragft.llm.tokens import count_tokens


@dataclass(frozen=True)
class Usage:
    input_tokens: int | None = None     # None = the backend did not say; counted with ragft.llm.tokens instead
    output_tokens: int | None = None
    model: str = ""


Event = Union[str, Usage]


def text_pieces(events: Iterator[Event]) -> Iterator[str]:
    for event in events:
        if isinstance(event, str) and event:
            yield event


def collect(events: Iterator[Event], request: GenerationRequest, prompt_text: str, model: str) -> Generation:
    """Drain `events` into a Generation, timing the first piece and the whole run."""
    start = time.perf_counter()
    first: float | None = None
    pieces: list[str] = []
    usage = Usage()
    for event in events:
        if isinstance(event, Usage):
            usage = event
        elif event:
            first = time.perf_counter() - start if first is None else first
            pieces.append(event)
    text = "".join(pieces)
    return Generation(
        text=text,
        cited=cited_refs(text, request.passages),
        input_tokens=usage.input_tokens if usage.input_tokens is not None else count_tokens(prompt_text),
        output_tokens=usage.output_tokens if usage.output_tokens is not None else count_tokens(text),
        model=usage.model or model,
        seconds=time.perf_counter() - start,
        first_token_seconds=first,
    )


class StopScanner:
    """Cuts streamed text at the first stop sequence, holding back what could still become one.

    Trailing whitespace is also held back and dropped at the end, so the emitted pieces join to a stripped answer.
    """

    def __init__(self, stops: tuple[str, ...]):
        self.stops = tuple(s for s in stops if s)
        self._buffer = ""
        self._started = False
        self.stopped = False

    def feed(self, piece: str) -> str:
        if self.stopped:
            return ""
        self._buffer += piece
        if not self._started:
            self._buffer = self._buffer.lstrip()
            self._started = bool(self._buffer)
        cut = min((i for i in (self._buffer.find(s) for s in self.stops) if i >= 0), default=-1)
        if cut >= 0:
            self.stopped = True
            out, self._buffer = self._buffer[:cut].rstrip(), ""
            return out
        safe = len(self._buffer) - self._longest_partial_stop()
        safe = len(self._buffer[:safe].rstrip())
        out, self._buffer = self._buffer[:safe], self._buffer[safe:]
        return out

    def finish(self) -> str:
        out, self._buffer = ("" if self.stopped else self._buffer.rstrip()), ""
        return out

    def _longest_partial_stop(self) -> int:
        for size in range(min(len(self._buffer), max((len(s) for s in self.stops), default=1) - 1), 0, -1):
            tail = self._buffer[-size:]
            if any(s.startswith(tail) for s in self.stops):
                return size
        return 0
