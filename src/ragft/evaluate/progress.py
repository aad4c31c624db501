"""Progress of a long run, terminal or not: one plain line per stage on stderr, and while answering a live bar
on a terminal or a plain line every tenth of the work (and at least every 30 s of it) when stderr is a file or
a CI log, so nothing goes quiet for minutes."""
from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

PLAIN_EVERY_S = 30.0


def stage(enabled: bool, text: str) -> None:
    if enabled:
        print(f"ragft: {text}", file=sys.stderr, flush=True)


@contextmanager
def counter(enabled: bool, total: int, label: str) -> Iterator[Callable[[str], None]]:
    """advance(name) once per finished item."""
    if not enabled or total == 0:
        yield lambda name: None
        return
    if not sys.stderr.isatty():
        yield _plain(total, label)
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[system]}"),
                  TimeRemainingColumn(), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total, system="")
        yield lambda name: bar.update(task, advance=1, system=name)


def _plain(total: int, label: str) -> Callable[[str], None]:
    start = last = time.monotonic()
    done = 0
    step = max(1, total // 10)

    def advance(name: str) -> None:
        nonlocal done, last
        done += 1
        now = time.monotonic()
        if done == total or done % step == 0 or now - last >= PLAIN_EVERY_S:
            last = now
            print(f"ragft: {label} {done}/{total} ({name}), {now - start:.0f} s", file=sys.stderr, flush=True)
    return advance
