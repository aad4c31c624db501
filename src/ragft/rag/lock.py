"""The index write lock: one writer at a time per index folder (fcntl.flock on `write.lock`); readers never take it.

A second writer waits up to `timeout` seconds, then fails with one line naming the holder's pid. The lock is
re-entrant within a process and released by the kernel when its holder dies, even on SIGKILL.
"""
from __future__ import annotations

import fcntl
import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ragft.errors import RagftError

LOCK_FILE = "write.lock"
WAIT_ENV = "RAGFT_LOCK_WAIT"
DEFAULT_WAIT_SECONDS = 30.0
_POLL_SECONDS = 0.05

_held: dict[str, int] = {}              # resolved lock path -> depth, for re-entry in this process
_guard = threading.Lock()
_thread_locks: dict[str, threading.RLock] = {}


class IndexBusyError(RagftError):
    """Another process is writing the index."""


def default_wait() -> float:
    """Seconds a writer waits for the lock: $RAGFT_LOCK_WAIT, else 30."""
    try:
        return float(os.environ.get(WAIT_ENV, DEFAULT_WAIT_SECONDS))
    except ValueError:
        return DEFAULT_WAIT_SECONDS


@contextmanager
def write_lock(index_path: str | Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the write lock of the index at `index_path` for the `with` block."""
    path = Path(index_path).resolve() / LOCK_FILE
    key = str(path)
    with _guard:
        thread_lock = _thread_locks.setdefault(key, threading.RLock())
    wait = default_wait() if timeout is None else timeout
    acquired = thread_lock.acquire(timeout=wait) if wait > 0 else thread_lock.acquire(blocking=False)
    if not acquired:
        raise _busy(path, os.getpid())
    try:
        if _held.get(key):
            _held[key] += 1
            try:
                yield
            finally:
                _held[key] -= 1
            return
        handle = _acquire(path, wait)
        _held[key] = 1
        try:
            yield
        finally:
            _held.pop(key, None)
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()
    finally:
        thread_lock.release()


def holder(index_path: str | Path) -> int | None:
    """The pid holding the write lock of this index now, None when it is free."""
    path = Path(index_path).resolve() / LOCK_FILE
    if not path.exists():
        return None
    with open(path) as handle:               # read-only: works on an index the caller cannot write
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return _pid_in(path)
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None


def _acquire(path: Path, wait: float):
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                pid = _pid_in(path)
                handle.close()
                raise _busy(path, pid) from None
            time.sleep(_POLL_SECONDS)
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def _pid_in(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _busy(path: Path, pid: int | None) -> IndexBusyError:
    who = f"pid {pid}" if pid else "another process"
    return IndexBusyError(f"index {path.parent} is being written by {who}; retry when it finishes")


def writes(method):
    """Decorate an Index write method: hold the index's write lock and refuse to write from a stale view
    (another writer changed the index since this one opened it)."""
    import functools

    @functools.wraps(method)
    def locked(index, *args, **kwargs):
        with write_lock(index.path):
            on_disk = index.store.read_meta()
            if on_disk and (on_disk.get("generation"), on_disk.get("created")) != \
                    (index.catalog.generation, index.catalog.created):
                raise IndexBusyError(
                    f"index {index.path} was changed by another writer since it was opened; open it again and retry"
                )
            return method(index, *args, **kwargs)

    return locked
