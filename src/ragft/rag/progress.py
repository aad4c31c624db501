"""Progress of a sync as a callback: the library calls `on_progress(stage, done, total)`; the faces draw it.

Stages: "indexing" once per planned file (done 1..total), "compacting" with (0, 1) before the store compacts
and (1, 1) after. `progress=True` without a callback gets `terminal_reporter()`: one line rewritten in place on
stderr when it is a terminal, nothing otherwise (the CLI passes its own rich bar)."""
from __future__ import annotations

import sys
from typing import Callable

ProgressCallback = Callable[[str, int, int], None]
INDEXING, COMPACTING = "indexing", "compacting"


def reporter(progress: bool, on_progress: ProgressCallback | None) -> ProgressCallback:
    """The callback a sync reports to: the caller's, else the plain terminal one when `progress`, else none."""
    if on_progress is not None:
        return on_progress
    return terminal_reporter() if progress else _silent


def _silent(stage: str, done: int, total: int) -> None:
    return None


def terminal_reporter(stream=None) -> ProgressCallback:
    """A plain in-place line on a terminal ("indexing 12/40 files", "compacting the store"), no output elsewhere."""
    out = stream or sys.stderr
    if not out.isatty():
        return _silent
    shown = [0]

    def show(text: str) -> None:
        out.write("\r" + text.ljust(shown[0]))
        out.flush()
        shown[0] = len(text)

    def report(stage: str, done: int, total: int) -> None:
        if stage == COMPACTING and done < total:
            show("compacting the store")
        elif stage == INDEXING and done < total:
            show(f"indexing {done}/{total} files")
        else:                                     # a stage finished: clear the line
            show("")
            out.write("\r")
            out.flush()
    return report
