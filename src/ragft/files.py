"""Where ragft keeps files, and how it writes them: the user cache folder, atomic writes (readers never see
half a file, a crash leaves no partial one) and file hashes."""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def cache_dir() -> Path:
    """The user cache ($RAGFT_CACHE_DIR, else $XDG_CACHE_HOME/ragft, else ~/.cache/ragft): converted models,
    distilled embedding tables, built benches. Everything in it can be rebuilt."""
    root = os.environ.get("RAGFT_CACHE_DIR")
    if root:
        return Path(root)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ragft"


def write_atomic(path: Path | str, text: str | bytes) -> Path:
    """Write `text` (UTF-8; bytes as they are) to a temp file beside `path`, then rename it into place (mode 0644)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with (os.fdopen(handle, "wb") if isinstance(text, bytes) else os.fdopen(handle, "w", encoding="utf-8")) as out:
            out.write(text)
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


def sha256_file(path: Path | str) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
