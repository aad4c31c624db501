"""Progress of a sync as a callback: the library calls `on_progress(stage, done, total)`; the faces draw it.

Stages: "indexing" once per planned file (done 1..total), "compacting" with (0, 1) before the store compacts
and (1, 1) after. `progress=True` without a callback gets `terminal_reporter()`: one line rewritten in place on
stderr when it is a terminal, nothing otherwise (the CLI passes its own rich bar)."""
from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TypeVar

ProgressCallback = Callable[[str, int, int], None]
Callback = TypeVar("Callback", bound=Callable[..., None])   # this module's ProgressCallback or evaluate's
INDEXING, COMPACTING = "indexing", "compacting"


def reporter(progress: bool, on_progress: Callback | None, default: Callable[[], Callback] | None = None) -> Callback:
    """The callback a sync reports to: the caller's, else `default()` (`terminal_reporter()` when not given) when
    `progress`, else one that ignores every call. ragft.evaluate.progress passes its own default."""
    if on_progress is not None:
        return on_progress
    if not progress:
        return _silent
    return (default or terminal_reporter)()


def _silent(*_: object) -> None:
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
