"""A SQLite file that several processes write at once (the caches of `ragft serve --processes N`, an eval's
workers): WAL, so readers never block the writer, and a busy timeout, so a writer waits for the other instead
of failing with 'database is locked'."""
from __future__ import annotations

import sqlite3
import time
from pathlib import Path

BUSY_TIMEOUT_S = 30.0


def connect_shared(path: str | Path, timeout: float = BUSY_TIMEOUT_S, **options) -> sqlite3.Connection:
    """A connection to `path` in WAL mode with a `timeout`-second busy handler; `options` go to sqlite3.connect.

    Switching a new file to WAL needs the file to itself for a moment, and SQLite answers a racing opener's
    `PRAGMA journal_mode=WAL` with SQLITE_BUSY at once rather than through the busy handler: retried here
    until `timeout`. A file already in WAL mode (the usual case) switches nothing."""
    db = sqlite3.connect(str(path), timeout=timeout, **options)
    deadline = time.monotonic() + timeout
    while True:
        try:
            if db.execute("PRAGMA journal_mode=WAL").fetchone()[0].lower() == "wal":
                return db
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error):
                db.close()
                raise
        if time.monotonic() > deadline:
            db.close()
            raise sqlite3.OperationalError(f"{path}: could not switch to WAL mode within {timeout:.0f} s")
        time.sleep(0.01)
