"""Staging for what finetune writes (adapters, datasets): a temp folder renamed into place on success.
The adapter manifest itself is `ragft.adapters`."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ragft import files
from ragft.errors import InputError


@contextmanager
def staged_dir(target: Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temp folder beside `target`; on success rename it into place, on failure remove it."""
    if target.exists() and not overwrite:
        raise InputError(f"{target}: already exists; choose another --out or pass --overwrite")
    with files.staged_dir(target) as tmp:
        yield tmp
