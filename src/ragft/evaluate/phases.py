"""Phase timings of a long job (the study): wall and CPU seconds per named phase, with the load average at its
start and end, so a slow run says where its time went and whether the machine was shared meanwhile.

CPU seconds are the process's (all its threads): on a shared machine they move less than wall time does. An
eval run's stages (ragft.evaluate.progress: index, warm-up, answering, freshness, summary) become phases of
their own by passing its progress callback through `PhaseClock.watch`."""
from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from ragft.evaluate.progress import SYNC_STAGES, EvalProgressCallback


@dataclass
class Phase:
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    load_start: float | None = None    # 1-minute load average when the phase began
    load_end: float | None = None


def load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


@dataclass
class PhaseClock:
    """`with clock.phase("train fine-tuned"): ...` or `clock.start(name)` (ending the open one); a phase
    entered twice adds up. The phases `watch` starts are named after the eval stages ("eval:answering")."""

    phases: dict[str, Phase] = field(default_factory=dict)
    _open: tuple[str, float, float] | None = None

    def start(self, name: str) -> None:
        """End the open phase (if any) and begin `name`."""
        self.stop()
        self.phases.setdefault(name, Phase(load_start=load_average()))
        self._open = (name, time.perf_counter(), time.process_time())

    def stop(self) -> None:
        if self._open is None:
            return
        name, wall, cpu = self._open
        phase = self.phases[name]
        phase.seconds += time.perf_counter() - wall
        phase.cpu_seconds += time.process_time() - cpu
        phase.load_end = load_average()
        self._open = None

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        self.start(name)
        try:
            yield
        finally:
            self.stop()

    def watch(self, callback: EvalProgressCallback, prefix: str = "eval:") -> EvalProgressCallback:
        """`callback`, also starting a phase `prefix + stage` at each eval stage's start (done == 0); the index
        sync's own events stay inside the index phase."""
        def report(stage: str, done: int, total: int, note: str) -> None:
            if done == 0 and stage not in SYNC_STAGES and (self._open is None or self._open[0] != prefix + stage):
                self.start(prefix + stage)
            callback(stage, done, total, note)
        return report

    def as_dict(self) -> dict[str, dict[str, float | None]]:
        """{phase: {seconds, cpu_seconds, load_start, load_end}} in the order the phases began (rounded)."""
        return {name: {"seconds": round(p.seconds, 3), "cpu_seconds": round(p.cpu_seconds, 3),
                       "load_start": p.load_start, "load_end": p.load_end} for name, p in self.phases.items()}
