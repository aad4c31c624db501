"""JSON Lines: one document per record, `{"id"?, "text" | "content", "title"?, ...metadata}`."""
from __future__ import annotations

import hashlib
from pathlib import Path

from ragft.errors import InputError
from ragft.jsonl import parse_object
from ragft.rag.discovery import printable
from ragft.rag.document import Document
from ragft.rag.loaders.markup import markdown_headings

RESERVED_FIELDS = ("format", "headings", "pages", "line", "source")


def jsonl_documents(path: Path, doc_id: str, text: str) -> list[Document]:
    documents: list[Document] = []
    first_line: dict[str, int] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        record = _parse(path, number, line)
        key = _record_key(path, number, record)
        if key in first_line:
            raise InputError(f"{path}:{number}: duplicate id '{key}' (first on line {first_line[key]}); ids must be unique")
        first_line[key] = number
        documents.append(_document(path, f"{doc_id}#{key}", number, line, record))
    if not documents:
        raise InputError(f"{path}: no records (only blank lines); add records or remove it")
    return documents


def _parse(path: Path, number: int, line: str) -> dict:
    record = parse_object(line, f"{path}:{number}")
    body = record.get("text", record.get("content"))
    if not isinstance(body, str) or not body.strip():
        raise InputError(f"{path}:{number}: record needs a non-empty 'text' (or 'content') string")
    clash = [name for name in RESERVED_FIELDS if name in record]
    if clash:
        raise InputError(f"{path}:{number}: field '{clash[0]}' is reserved for ragft; rename it")
    return record


def _record_key(path: Path, number: int, record: dict) -> str:
    if "id" not in record:
        return str(number)
    key = record["id"]
    if isinstance(key, bool) or not isinstance(key, (str, int)) or not str(key).strip():
        raise InputError(f"{path}:{number}: 'id' must be a non-empty string or an integer")
    return str(key)


def _document(path: Path, doc_id: str, number: int, line: str, record: dict) -> Document:
    body = record.get("text", record.get("content")).replace("\r\n", "\n").replace("\r", "\n")
    headings = markdown_headings(body)
    title = record.get("title")
    if not isinstance(title, str) or not title.strip():
        title = headings[0]["title"] if headings else doc_id.rsplit("/", 1)[-1]
    extra = {k: v for k, v in record.items() if k not in ("id", "text", "content", "title")}
    return Document(
        id=doc_id,
        text=body,
        title=title.strip(),
        source=printable(path),
        content_hash=hashlib.sha256(line.encode("utf-8")).hexdigest(),
        metadata={**extra, "format": "jsonl", "line": number, "headings": headings},
    )
