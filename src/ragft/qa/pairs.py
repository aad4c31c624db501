"""Q/A pairs from a corpus already shaped as questions and answers: Markdown/RST headings ending in '?' (the text
under each heading is the answer) and JSONL records with question and answer fields. Eval sets
(`ragft.evaluate.evalset.make_evalset`) and fine-tuning facts (`ragft.finetune.recipes.facts_from_corpus`) are
both made from them."""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from ragft.errors import InputError, NotFoundError
from ragft.jsonl import BadLine, parse_value
from ragft.qa.faq import FaqEntry, parse_markdown_faq, parse_rst_faq, reference_answer
from ragft.rag.discovery import printable

QA_SUFFIXES = (".jsonl", ".md", ".markdown", ".rst", ".rst.txt")
_QUESTION_KEYS = ("question", "query", "prompt", "instruction")
_ANSWER_KEYS = ("answer", "reference_answer", "response", "output", "completion")


@dataclass(frozen=True)
class QAPair:
    """One question the corpus answers; `doc_id` is the corpus-relative path of its file (the document id the
    RAG engine gives it), `id` its place in the corpus (q0001, q0002, ...)."""

    question: str
    answer: str
    doc_id: str
    tags: tuple[str, ...] = ()
    id: str = ""


def read_qa_pairs(corpus_dir: Path | str, skipped: list[tuple[str, str]] | None = None) -> list[QAPair]:
    """The Q/A pairs of every file under `corpus_dir` (or of one file), in path order.

    A file or JSONL line that cannot be used (not UTF-8, unreadable, broken JSON) raises, unless `skipped` is a
    list: then (path, one-line reason) is appended and the other files still count."""
    root = Path(corpus_dir)
    if not root.exists():
        raise NotFoundError(f"{root}: no such corpus folder or file; check the path")
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file()
                                                  and not any(part.startswith(".") for part in p.parts))
    base = root.parent if root.is_file() else root
    problems: list[tuple[str, str]] = []
    found: list[QAPair] = []
    for file in files:
        doc_id = printable(file.relative_to(base).as_posix())
        try:
            found.extend(_pairs_from_file(file, doc_id, problems))
        except InputError as error:
            problems.append((printable(file), printable(str(error))))
    if problems and skipped is None:
        raise InputError(problems[0][1])
    if skipped is not None:
        skipped.extend(problems)
    if not found:
        raise InputError(f"{root}: found no questions; expected Markdown/RST headings ending in '?' "
                         "or JSONL lines with 'question' and 'answer' fields")
    return [replace(pair, id=f"q{n:04d}") for n, pair in enumerate(found, start=1)]


def _pairs_from_file(file: Path, doc_id: str, problems: list[tuple[str, str]]) -> list[QAPair]:
    name = file.name.lower()
    if not name.endswith(QA_SUFFIXES):
        return []
    text = _read_text(file)
    if name.endswith(".jsonl"):
        return _pairs_from_jsonl(file, text, doc_id, problems)
    entries = parse_markdown_faq(text) if name.endswith((".md", ".markdown")) else parse_rst_faq(text)
    return [_pair_from_entry(entry, doc_id) for entry in entries]


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


def _pair_from_entry(entry: FaqEntry, doc_id: str) -> QAPair:
    tags = [f"page:{slug(entry.page)}"] if entry.page else []
    if entry.section:
        tags.append(f"section:{slug(entry.section)}")
    return QAPair(entry.question, reference_answer(entry.answer) or entry.answer.strip(), doc_id, tuple(tags))


def _pairs_from_jsonl(file: Path, text: str, doc_id: str, problems: list[tuple[str, str]]) -> list[QAPair]:
    """Q/A records of a JSONL file; records without question/answer strings are not questions and are passed
    over (as Markdown headings without '?' are); a broken line is listed in `problems` and skipped."""
    pairs = []
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
        tags = tuple(str(t) for t in tags) if isinstance(tags, list) else (str(tags),)
        pairs.append(QAPair(question.strip(), answer.strip(), doc_id, tags))
    return pairs


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
