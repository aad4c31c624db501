"""Eval sets: the JSONL format (one question per line), loading with line-numbered errors, and `make`
from a corpus that is already shaped as questions and answers (FAQ headings, Q/A JSONL)."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ragft.errors import InputError, NotFoundError
from ragft.files import write_atomic
from ragft.jsonl import parse_object
from ragft.qa.pairs import read_qa_pairs


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
    """Questions from a corpus already shaped as Q/A (`ragft.qa.read_qa_pairs`: FAQ headings ending in '?',
    Q/A JSONL). relevant_ids holds the corpus-relative path of the file the answer came from.

    A file or JSONL line that cannot be used raises, unless `skipped` is a list: then (path, one-line reason)
    is appended and the other files still count."""
    return [EvalItem(id=pair.id, question=pair.question, reference_answer=pair.answer, relevant_ids=[pair.doc_id],
                     tags=list(pair.tags)) for pair in read_qa_pairs(corpus_dir, skipped)]
