"""Finding the files to ingest: folders expanded, hidden and unsupported files skipped, stable ids."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

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


def discover(paths: Sequence[Path | str], root: Path | str | None = None) -> list[SourceFile]:
    """Every supported file under `paths`, sorted by doc_id; ids are relative to `root`
    (default: the deepest folder holding all the paths)."""
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
    found: dict[str, SourceFile] = {}
    for path in given:
        for file in _expand(path):
            source = SourceFile(file, _relative_id(file, base))
            found.setdefault(source.doc_id, source)
    return sorted(found.values(), key=lambda source: source.doc_id)


def _common_root(paths: list[Path]) -> Path:
    folders = [p.resolve() if p.is_dir() else p.resolve().parent for p in paths]
    return Path(os.path.commonpath(folders))


def _relative_id(file: Path, base: Path) -> str:
    try:
        return file.resolve().relative_to(base).as_posix()
    except ValueError:
        raise InputError(f"{file}: not under the ingest root {base}; pass a root that contains it") from None


def _expand(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    files = []
    for folder, dirs, names in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        for name in sorted(names):
            if not name.startswith(".") and format_of(name) is not None:
                files.append(Path(folder) / name)
    return files
