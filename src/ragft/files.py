"""Where ragft keeps files, and how it writes them: the user cache folder, atomic writes and staged folders
(readers never see half a file or folder, a crash leaves no partial one), and file and tree hashes."""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


def cache_dir() -> Path:
    """The user cache ($RAGFT_CACHE_DIR, else $XDG_CACHE_HOME/ragft, else ~/.cache/ragft): converted models,
    distilled embedding tables, built benches. Everything in it can be rebuilt."""
    root = os.environ.get("RAGFT_CACHE_DIR")
    if root:
        return Path(root)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ragft"


@contextmanager
def atomic_path(path: Path | str, suffix: str = ".tmp") -> Iterator[Path]:
    """A temp file beside `path` for the caller to write; on success it becomes `path` (mode 0644) by one rename,
    on failure it is removed. `suffix` is the temp file's ending, for writers that choose a format by it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(handle)
    temp = Path(name)
    try:
        yield temp
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_atomic(path: Path | str, text: str | bytes) -> Path:
    """Write `text` (UTF-8; bytes as they are) to a temp file beside `path`, then rename it into place (mode 0644)."""
    with atomic_path(path) as temp:
        if isinstance(text, bytes):
            temp.write_bytes(text)
        else:
            temp.write_text(text, encoding="utf-8")
    return Path(path)


def swap_in(staging: Path, target: Path) -> None:
    """Replace `target` (a folder, or nothing) by `staging` with renames only, so a reader never sees half of it."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
    os.replace(staging, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextmanager
def staged_dir(target: Path | str) -> Iterator[Path]:
    """A temp folder beside `target` to fill; on success it replaces `target` (`swap_in`), on failure it is
    removed and `target` is left as it was."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial"))
    try:
        yield temp
        swap_in(temp, target)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise


def sha256_file(path: Path | str) -> str:
    with Path(path).open("rb") as handle:
        return sha256_stream(handle)


def sha256_stream(handle: BinaryIO) -> str:
    """sha256 of what is left to read in a binary file object, read 1 MiB at a time."""
    digest = hashlib.sha256()
    for block in iter(lambda: handle.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


# Two tree hashes, both persisted (so neither can change without invalidating what was recorded with it):
def tree_sha256(root: Path, files: Iterable[Path]) -> str:
    """sha256 over each file's path relative to `root`, a NUL, then the sha256 of its bytes, in the order given:
    a bench's `tree_sha256` (bench manifests and cache keys). Prefer this one for anything new."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def corpus_sha256(folders: Sequence[Path]) -> str:
    """sha256 over each file's relative path followed directly by its bytes, files of each folder in sorted order (a
    folder entry that is a file counts as itself): a run's `corpus_sha256`, compared when a run resumes."""
    digest = hashlib.sha256()
    for folder in folders:
        files = [folder] if folder.is_file() else sorted(p for p in folder.rglob("*") if p.is_file())
        for file in files:
            digest.update(file.relative_to(folder.parent if folder.is_file() else folder).as_posix().encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()
