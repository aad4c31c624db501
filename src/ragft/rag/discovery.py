"""Finding the files to ingest: folders expanded, hidden and unsupported files skipped, stable ids.

A folder walk never stops on one bad entry: a symlink out of the root, a symlink loop, a FIFO, socket or device,
an unlistable folder is skipped with one line (when the caller collects them) and the walk goes on.
"""
from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Sequence

from ragft.errors import InputError, NotFoundError

# suffix -> format; "*.rst.txt" (Sphinx _sources) is matched before ".txt", see format_of.
FORMATS: dict[str, str] = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".rst": "rst",
    ".txt": "text",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".jsonl": "jsonl",
}
SUPPORTED_SUFFIXES: tuple[str, ...] = tuple(FORMATS)


def format_of(path: Path | str) -> str | None:
    """The format name of a file ("markdown", "rst", "text", "html", "pdf", "jsonl"), None if unsupported."""
    name = Path(path).name.lower()
    if name.endswith(".rst.txt"):
        return "rst"
    return FORMATS.get(os.path.splitext(name)[1])


@dataclass(frozen=True)
class SourceFile:
    """A file to load; doc_id is its path relative to the ingest root, in posix form."""

    path: Path
    doc_id: str

    @property
    def format(self) -> str | None:
        return format_of(self.path)


def discover(paths: Sequence[Path | str], root: Path | str | None = None,
             skipped: list[tuple[str, str]] | None = None) -> list[SourceFile]:
    """Every supported file under `paths`, sorted by doc_id; ids are relative to `root`
    (default: the deepest folder holding all the paths), made printable (see `printable`).

    A missing or unsupported path given by name, or one outside `root`, raises. Any other per-file problem
    (a symlink escaping the root, a loop, not a regular file, an unlistable folder) raises too, unless
    `skipped` is a list: then (path, one-line reason) is appended to it and the file left out."""
    given = [Path(p) for p in paths]
    for path in given:
        if not path.exists():
            raise NotFoundError(f"{path}: no such file or folder; check the path")
        if path.is_file() and format_of(path) is None:
            raise InputError(
                f"{path}: unsupported file type; supported: {', '.join(SUPPORTED_SUFFIXES)} (and .rst.txt)"
            )
    if not given:
        return []
    base = Path(root).resolve() if root is not None else _common_root(given)
    for path in given:
        _relative_id(path, base)                      # a path given by name must be under the root
    found: dict[str, SourceFile] = {}
    problems: list[tuple[str, str]] = []
    for path in given:
        for file in _expand(path, problems):
            try:
                _check_regular(file)
                source = SourceFile(file, _relative_id(file, base))
            except InputError as error:
                problems.append((printable(file), str(error)))
                continue
            first = found.setdefault(source.doc_id, source)
            if first.path != source.path and os.path.realpath(first.path) != os.path.realpath(source.path):
                clash = (f"{printable(file)}: its id {source.doc_id!r} is also the id of {printable(first.path)} "
                         "(the names differ only in unprintable characters); rename one")
                problems.append((printable(file), clash))
    if problems and skipped is None:
        raise InputError(problems[0][1])
    if skipped is not None:
        skipped.extend(problems)
    return sorted(found.values(), key=lambda source: source.doc_id)


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


def printable(path: Path | str) -> str:
    """`path` as one printable line: control characters (a newline in a file name) and bytes that are not
    UTF-8 (kept by Python as surrogates) shown as \\n, \\x.. escapes, so ids and messages stay one line."""
    text = str(path)
    if not _UNPRINTABLE.search(text):
        return text
    return _UNPRINTABLE.sub(lambda m: _escape(m.group()), text)


def _escape(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:                 # surrogateescape: an undecodable byte of the name
        return f"\\x{code - 0xDC00:02x}"
    return char.encode("unicode_escape").decode("ascii") if code < 0xD800 else f"\\u{code:04x}"


def open_regular(path: Path | str) -> BinaryIO:
    """`path` opened for reading if it is a regular file; InputError naming it otherwise. Opened without
    blocking, so a file swapped for a FIFO after discovery cannot hang the run."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        raise InputError(f"{printable(path)}: cannot read ({error.strerror or error}); check that it exists "
                         "and its permissions") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise InputError(f"{printable(path)}: not a regular file ({_kind(mode)}); remove it from the folder")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def _check_regular(file: Path) -> None:
    try:
        mode = os.stat(file).st_mode
    except OSError as error:
        what = "broken symlink" if file.is_symlink() and error.errno == errno.ENOENT else (error.strerror or str(error))
        raise InputError(f"{printable(file)}: cannot read ({what}); fix or remove it") from None
    if not stat.S_ISREG(mode):
        raise InputError(f"{printable(file)}: not a regular file ({_kind(mode)}); remove it from the folder")


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device"), (stat.S_ISDIR, "a folder")):
        if test(mode):
            return name
    return "not a plain file"


def _common_root(paths: list[Path]) -> Path:
    folders = [p.resolve() if p.is_dir() else p.resolve().parent for p in paths]
    return Path(os.path.commonpath(folders))


def _relative_id(file: Path, base: Path) -> str:
    try:
        return printable(Path(os.path.realpath(file)).relative_to(base).as_posix())
    except ValueError:
        raise InputError(f"{printable(file)}: not under the ingest root {printable(base)} (it resolves to "
                         f"{printable(os.path.realpath(file))}); pass a root that contains it") from None


def _expand(path: Path, problems: list[tuple[str, str]]) -> list[Path]:
    if not path.is_dir():
        return [path]

    def unlistable(error: OSError) -> None:
        name = printable(error.filename or path)
        problems.append((name, f"{name}: cannot list folder ({error.strerror or error}); check its permissions"))

    files = []
    for folder, dirs, names in os.walk(path, onerror=unlistable):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        for name in sorted(names):
            if not name.startswith(".") and format_of(name) is not None:
                files.append(Path(folder) / name)
    return files
