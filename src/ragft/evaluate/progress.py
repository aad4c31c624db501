"""Progress of an eval run as a callback: the library calls `on_progress(stage, done, total, note)`; the faces draw.

A stage starts with done=0 and `note` saying what it does ("answering: 12 answers from 2 systems"); "answering"
then reports each finished answer (done 1..total, `note` the system that answered) and the study's "training" each
LoRA step of an adapter (`note` the system it is for). The index sync's own events ("indexing", "compacting":
ragft.rag.progress) pass through with an empty note. `progress=True` without a callback gets `plain_reporter()`:
one line per stage on stderr and, while answering or training, a line every tenth of the work (and at least every
30 s of it), so a CI log never goes quiet for minutes."""
from __future__ import annotations

import sys
import time
from collections.abc import Callable

from ragft.rag.progress import COMPACTING, INDEXING, terminal_reporter
from ragft.rag.progress import reporter as sync_reporter

EvalProgressCallback = Callable[[str, int, int, str], None]
INDEX, WARM_UP, ANSWERING, FRESHNESS, SUMMARY = "index", "warm-up", "answering", "freshness", "summary"
RAFT_INDEX, TRAINING = "raft-index", "training"     # the study's: its RAFT retrieval index, an adapter's LoRA steps
COUNTED = (ANSWERING, TRAINING)                     # stages that report each unit of work after their start
SYNC_STAGES = (INDEXING, COMPACTING)
PLAIN_EVERY_S = 30.0


def reporter(progress: bool, on_progress: EvalProgressCallback | None) -> EvalProgressCallback:
    """The callback a run reports to: the caller's, else the plain lines when `progress`, else none."""
    return sync_reporter(progress, on_progress, plain_reporter)


def plain_reporter(stream=None) -> EvalProgressCallback:
    """Plain lines ("ragft: answering 4/40 (rag), 12 s", "ragft: training 2/8 (hybrid), 30 s"); the sync's files as
    ragft.rag.progress draws them."""
    out = stream or sys.stderr
    sync = terminal_reporter(out)
    clock = {"start": 0.0, "last": 0.0}

    def say(text: str) -> None:
        print(f"ragft: {text}", file=out, flush=True)

    def report(stage: str, done: int, total: int, note: str) -> None:
        if stage in SYNC_STAGES:
            sync(stage, done, total)
        elif done == 0:
            clock["start"] = clock["last"] = time.monotonic()
            say(note)
        elif stage in COUNTED:
            now = time.monotonic()
            if done == total or done % max(1, total // 10) == 0 or now - clock["last"] >= PLAIN_EVERY_S:
                clock["last"] = now
                say(f"{stage} {done}/{total} ({note}), {now - clock['start']:.0f} s")
    return report
