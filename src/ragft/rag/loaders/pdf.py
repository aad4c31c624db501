"""PDF to plain text with pypdf, one block per page, page starts kept so chunks can cite pages."""
from __future__ import annotations

import io
import logging
from contextlib import contextmanager
from pathlib import Path

from ragft.errors import InputError


def pdf_to_text(path: Path, data: bytes) -> tuple[str, str, list[list[int]]]:
    """(text, metadata title, [[offset, page number], ...]) of a PDF; InputError if it cannot be read whole."""
    if b"%PDF-" not in data[:1024]:
        raise InputError(f"{path}: not a PDF (no %PDF- header); fix its suffix or re-export it")
    if b"%%EOF" not in data[-1024:]:
        raise InputError(f"{path}: PDF is truncated (no %%EOF marker at the end); copy or export it again")
    from pypdf import PdfReader

    try:
        with _quiet_pypdf():
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted and not reader.decrypt(""):
                raise InputError(f"{path}: PDF is encrypted with a password; decrypt it first (e.g. qpdf --decrypt)")
            texts = [page.extract_text() or "" for page in reader.pages]
            title = (reader.metadata or {}).get("/Title") or ""
    except InputError:
        raise
    except Exception as exc:  # pypdf raises many types on damaged files; all mean the same to the user
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
        raise InputError(f"{path}: cannot read PDF ({detail}); repair or re-export it") from None
    parts: list[str] = []
    pages: list[list[int]] = []
    offset = 0
    for number, raw in enumerate(texts, start=1):
        text = raw.replace("\r\n", "\n").replace("\r", "\n").strip()
        if text:
            pages.append([offset, number])
            parts.append(text)
            offset += len(text) + 2
    if not parts:
        raise InputError(f"{path}: PDF has no extractable text (scanned images?); run OCR on it first")
    return "\n\n".join(parts), " ".join(str(title).split()), pages


@contextmanager
def _quiet_pypdf():
    """pypdf logs a warning for every quirk it repairs; outside a handler they would reach the terminal."""
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
