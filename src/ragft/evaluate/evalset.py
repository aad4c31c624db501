"""Eval sets: the JSONL format (one question per line), loading with line-numbered errors, and `make`
from a corpus that is already shaped as questions and answers (FAQ headings, Q/A JSONL)."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ragft.errors import InputError, NotFoundError
from ragft.evaluate.faq import (
    FaqEntry,
    parse_markdown_faq,
    parse_rst_faq,
    reference_answer,
)
from ragft.files import write_atomic
from ragft.jsonl import BadLine, parse_object, parse_value
from ragft.rag.discovery import printable


class EvalItem(BaseModel):
    """One evaluation question; relevant_ids are document ids (corpus-relative paths) or chunk ids."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    reference_answer: str
    relevant_ids: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)


def load_evalset(path: Path | str) -> list[EvalItem]:
    """Read an eval-set JSONL file; a bad line fails with `file:line: what is wrong`."""
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"{path}: no such eval set; create one with `ragft eval make CORPUS`")
    items: list[EvalItem] = []
    seen: dict[str, int] = {}
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            item = _parse_line(path, number, line)
            if item.id in seen:
                raise InputError(f"{path}:{number}: id '{item.id}' already used on line {seen[item.id]}; "
                                 "ids must be unique")
            seen[item.id] = number
            items.append(item)
    if not items:
        raise InputError(f"{path}: the eval set is empty; add one JSON object per line")
    return items


def _parse_line(path: Path, number: int, line: str) -> EvalItem:
    record = parse_object(line, f"{path}:{number}")
    record.setdefault("id", f"q{number}")
    try:
        return EvalItem.model_validate(record)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "line"
        raise InputError(f"{path}:{number}: field '{field}': {first['msg']}") from None


def save_evalset(items: Iterable[EvalItem], path: Path | str) -> Path:
    """Write items as JSONL atomically (temp file + rename)."""
    text = "".join(item.model_dump_json() + "\n" for item in items)
    return write_atomic(Path(path), text)


# --- make: questions from a Q/A-shaped corpus ----------------------------------------------------

def make_evalset(corpus_dir: Path | str, skipped: list[tuple[str, str]] | None = None) -> list[EvalItem]:
    """Questions from a corpus already shaped as Q/A: Markdown/RST headings ending in '?' (the text under
    each heading is the answer) and JSONL records with question + answer fields. relevant_ids holds the
    corpus-relative path of the file the answer came from (the document id the RAG engine gives it).

    A file or JSONL line that cannot be used (not UTF-8, unreadable, broken JSON, no question/answer) raises,
    unless `skipped` is a list: then (path, one-line reason) is appended and the other files still count."""
    root = Path(corpus_dir)
    if not root.exists():
        raise NotFoundError(f"{root}: no such corpus folder or file; check the path")
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file()
                                                  and not any(part.startswith(".") for part in p.parts))
    base = root.parent if root.is_file() else root
    problems: list[tuple[str, str]] = []
    items: list[EvalItem] = []
    for file in files:
        doc_id = printable(file.relative_to(base).as_posix())
        try:
            items.extend(_items_from_file(file, doc_id, len(items), problems))
        except InputError as error:
            problems.append((printable(file), printable(str(error))))
    if problems and skipped is None:
        raise InputError(problems[0][1])
    if skipped is not None:
        skipped.extend(problems)
    if not items:
        raise InputError(f"{root}: found no questions; expected Markdown/RST headings ending in '?' "
                         "or JSONL lines with 'question' and 'answer' fields")
    return items


def _items_from_file(file: Path, doc_id: str, start: int, problems: list[tuple[str, str]]) -> list[EvalItem]:
    name = file.name.lower()
    if not name.endswith((".jsonl", ".md", ".markdown", ".rst", ".rst.txt")):
        return []
    text = _read_text(file)
    if name.endswith(".jsonl"):
        return _items_from_jsonl(file, text, doc_id, start, problems)
    if name.endswith((".md", ".markdown")):
        entries = parse_markdown_faq(text)
    else:
        entries = parse_rst_faq(text, questions_only=True)
    return [_item_from_entry(entry, doc_id, start + offset) for offset, entry in enumerate(entries)]


def _read_text(file: Path) -> str:
    from ragft.rag.discovery import open_regular

    try:
        with open_regular(file) as handle:
            data = handle.read()
    except OSError as error:
        raise InputError(f"{printable(file)}: cannot read ({error.strerror or error}); skipped") from None
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        raise InputError(f"{printable(file)}: invalid UTF-8 at byte {error.start}; re-save it as UTF-8") from None


def _item_from_entry(entry: FaqEntry, doc_id: str, ordinal: int) -> EvalItem:
    tags = [f"page:{slug(entry.page)}"] if entry.page else []
    if entry.section:
        tags.append(f"section:{slug(entry.section)}")
    return EvalItem(id=f"q{ordinal + 1:04d}", question=entry.question,
                    reference_answer=reference_answer(entry.answer) or entry.answer.strip(),
                    relevant_ids=[doc_id], tags=tags)


_QUESTION_KEYS = ("question", "query", "prompt", "instruction")
_ANSWER_KEYS = ("answer", "reference_answer", "response", "output", "completion")


def _items_from_jsonl(file: Path, text: str, doc_id: str, start: int,
                      problems: list[tuple[str, str]]) -> list[EvalItem]:
    """Q/A records of a JSONL file; records without question/answer strings are not questions and are passed
    over (as Markdown headings without '?' are); a broken line is listed in `problems` and skipped."""
    items = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{printable(file)}:{number}"
        try:
            record = parse_value(line, where)
        except BadLine as error:
            problems.append((where, str(error)))
            continue
        question = next((record[k] for k in _QUESTION_KEYS if isinstance(record, dict) and record.get(k)), None)
        answer = next((record[k] for k in _ANSWER_KEYS if isinstance(record, dict) and record.get(k)), None)
        if not (isinstance(question, str) and question.strip() and isinstance(answer, str) and answer.strip()):
            continue
        tags = record.get("tags", [])
        items.append(EvalItem(id=f"q{start + len(items) + 1:04d}", question=question.strip(),
                              reference_answer=answer.strip(), relevant_ids=[doc_id],
                              tags=[str(t) for t in tags] if isinstance(tags, list) else [str(tags)]))
    return items


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
