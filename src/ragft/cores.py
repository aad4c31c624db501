"""The CPU cores a ragft process may use, how many of them other processes are keeping busy, and torch's
intra-op threads set per calling thread.

torch's CPU build (OpenMP + MKL) keeps the intra-op thread count per OS thread: `torch.set_num_threads` sets the
calling thread's OpenMP/MKL count and a process-wide default that a thread adopts at its FIRST torch call. So two
server threads that each set their own count do not disturb each other, but a thread that never sets one inherits
whatever count happened to be the default when it first touched torch (another thread's, mid-generation). Every
ragft torch block therefore states its own count through `torch_threads`, and puts the default back afterwards.
"""
from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

LOADAVG = "/proc/loadavg"
OWN_TASKS = "/proc/self/task"


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity), capped by $OMP_NUM_THREADS when that is set."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:    # not Linux
        cores = os.cpu_count() or 1
    limit = os.environ.get("OMP_NUM_THREADS", "")
    return max(1, min(cores, int(limit))) if limit.isdigit() and int(limit) > 0 else max(1, cores)


def busy_elsewhere(loadavg: str | None = None, samples: int = 5, own: int = 1) -> int:
    """How many cores other tasks keep busy now: the runnable tasks (the 4th field of /proc/loadavg,
    "running/total") minus this process's own running threads (the one reading, and torch's OpenMP workers, which
    spin for a while after each op: right after a model load they made an idle 2-core machine look half busy, so
    the study trained on 1 thread), the median of `samples` reads 10 ms apart. The instant count, not the 1-minute
    load average, which lags and counts this process's own work of the last minute. 0 where /proc/loadavg cannot
    be read. `loadavg`, `own`: the file's text and this process's running threads, for tests (then read once)."""
    reads = [(loadavg, own)] if loadavg is not None else _read_loadavg(samples)
    counts = sorted(running - mine for text, mine in reads if (running := _running(text)) is not None)
    return max(0, counts[len(counts) // 2]) if counts else 0


def _read_loadavg(samples: int) -> list[tuple[str, int]]:
    """(/proc/loadavg's text, this process's running threads) `samples` times, 10 ms apart."""
    reads = []
    for number in range(max(1, samples)):
        if number:
            time.sleep(0.01)
        try:
            with open(LOADAVG) as handle:
                reads.append((handle.read(), own_running_threads()))
        except OSError:
            return reads
    return reads


def own_running_threads() -> int:
    """This process's threads in state R (running or runnable) now, at least 1 (the caller)."""
    running = 0
    try:
        tasks = os.listdir(OWN_TASKS)
    except OSError:
        return 1
    for task in tasks:
        try:
            with open(f"{OWN_TASKS}/{task}/stat") as handle:
                state = handle.read().rsplit(")", 1)[1].split()[0]    # the name in (...) may hold spaces
        except (OSError, IndexError):
            continue
        running += state == "R"
    return max(1, running)


def _running(text: str) -> int | None:
    try:
        return int(text.split()[3].split("/")[0])
    except (IndexError, ValueError):
        return None


def free_cores(loadavg: str | None = None) -> int:
    """The usable cores other tasks are not keeping busy (at least 1): 2 on an idle 2-core machine, 1 while
    another process keeps one of them busy."""
    cores = usable_cores()
    return max(1, min(cores, cores - busy_elsewhere(loadavg)))


@contextmanager
def torch_threads(torch: Any, threads: int | None) -> Iterator[None]:
    """The calling thread's torch intra-op thread count set to `threads` for the block, then put back
    (None: left as it is). Safe to use from several threads at once: the count is per OS thread."""
    previous = torch.get_num_threads()
    if threads and threads != previous:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)
