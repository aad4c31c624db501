"""Loading source files into Documents: bytes checked and decoded here, one module per format."""
from __future__ import annotations

import hashlib
import os

from ragft.errors import InputError
from ragft.rag.discovery import SUPPORTED_SUFFIXES, SourceFile, discover, format_of, open_regular, printable
from ragft.rag.document import Document

__all__ = ["SUPPORTED_SUFFIXES", "SourceFile", "discover", "format_of", "load", "load_all", "max_file_bytes"]

MAX_FILE_MB_ENV = "RAGFT_MAX_FILE_MB"
DEFAULT_MAX_FILE_MB = 50


def max_file_bytes() -> int:
    """The largest file ingest reads: $RAGFT_MAX_FILE_MB megabytes (default 50); bigger files are refused."""
    try:
        return int(float(os.environ.get(MAX_FILE_MB_ENV, DEFAULT_MAX_FILE_MB)) * 2**20)
    except ValueError:
        raise InputError(f"{MAX_FILE_MB_ENV}={os.environ[MAX_FILE_MB_ENV]!r}: give a number of megabytes") from None


def load(source: SourceFile) -> list[Document]:
    """The documents in one file (one per file; one per record for JSONL); InputError naming the file if
    it is unreadable, empty, binary, not UTF-8, a damaged or encrypted PDF, or has a malformed JSONL line."""
    kind = source.format
    if kind is None:
        raise InputError(f"{source.path}: unsupported file type; supported: {', '.join(SUPPORTED_SUFFIXES)}")
    data = _read(source)
    if kind == "pdf":
        from ragft.rag.loaders.pdf import pdf_to_text

        text, title, pages = pdf_to_text(source.path, data)
        return [_document(source, data, text, title, kind, [], pages=pages)]
    text = _decode(source, data)
    if kind == "jsonl":
        from ragft.rag.loaders.jsonl import jsonl_documents

        return jsonl_documents(source.path, source.doc_id, text)
    if kind == "html":
        from ragft.rag.loaders.html import html_to_text

        text, title, headings = html_to_text(text)
        if not text.strip():
            raise InputError(f"{source.path}: HTML page has no visible text; remove it or check its markup")
        return [_document(source, data, text, title, kind, headings)]
    from ragft.rag.loaders import markup

    title = ""
    if kind == "markdown":
        text, title = markup.split_front_matter(text)
        headings = markup.markdown_headings(text)
    else:
        headings = markup.rst_headings(text) if kind == "rst" else []
    return [_document(source, data, text, title, kind, headings)]


def load_all(sources: list[SourceFile]) -> list[Document]:
    """Every document of every source, in order."""
    return [document for source in sources for document in load(source)]


def _read(source: SourceFile) -> bytes:
    """The file's bytes, read once from one open handle: the size is checked on that handle (a file swapped or
    grown after discovery is judged as it is read), and a FIFO or socket put in its place is refused, not
    waited on."""
    limit = max_file_bytes()
    with open_regular(source.path) as handle:
        try:
            size = os.fstat(handle.fileno()).st_size
            data = handle.read(limit + 1) if size <= limit else b""
        except OSError as exc:
            raise InputError(f"{printable(source.path)}: cannot read ({exc.strerror or exc}); check the path "
                             "and permissions") from None
    if size > limit or len(data) > limit:
        size = max(size, len(data))
        raise InputError(f"{source.path}: {size / 2**20:.3g} MB is over the {limit / 2**20:.3g} MB limit per "
                         f"file; split it, or raise {MAX_FILE_MB_ENV}")
    if not data.strip():
        raise InputError(f"{source.path}: file is empty; add text or remove it")
    return data


def _decode(source: SourceFile, data: bytes) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise InputError(f"{source.path}: text is UTF-16; re-save it as UTF-8")
    if b"\x00" in data:
        raise InputError(f"{source.path}: looks binary (contains NUL bytes), not {source.format} text; remove it or fix its suffix")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{source.path}: invalid UTF-8 at byte {exc.start}; re-save it as UTF-8") from None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise InputError(f"{source.path}: file is empty; add text or remove it")
    return text


def _document(source: SourceFile, data: bytes, text: str, title: str, kind: str,
              headings: list[dict], **extra) -> Document:
    title = title or (headings[0]["title"] if headings else "") or _stem(source)
    return Document(
        id=source.doc_id,
        text=text,
        title=title,
        source=printable(source.path),
        content_hash=hashlib.sha256(data).hexdigest(),
        metadata={"format": kind, "headings": headings, **extra},
    )


def _stem(source: SourceFile) -> str:
    name = source.path.name
    for suffix in (".rst.txt", *SUPPORTED_SUFFIXES):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name
