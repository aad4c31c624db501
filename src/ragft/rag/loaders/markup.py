"""Plain-text formats (Markdown, reStructuredText, text) and the headings that give them structure."""
from __future__ import annotations

import re
from typing import Iterator

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_NOT_SETEXT_TITLE = re.compile(r"^(?: {4}|\t| {0,3}(?:[-*+>|]|\d+[.)])(?:\s|$))")   # code, list, quote, table
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_RST_ADORNMENT = re.compile(r"^([!-/:-@\[-`{-~])\1{2,}[ \t]*$")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_FRONT_TITLE = re.compile(r"^title:[ \t]*(.+?)[ \t]*$", re.M)


def heading(start: int, end: int, level: int, title: str) -> dict:
    """One heading of a document: its span in Document.text (title line plus adornment), level, text."""
    return {"start": start, "end": end, "level": level, "title": title}


def _lines(text: str) -> Iterator[tuple[int, str]]:
    offset = 0
    for line in text.split("\n"):
        yield offset, line
        offset += len(line) + 1


def split_front_matter(text: str) -> tuple[str, str]:
    """Markdown YAML front matter removed from the text, and its `title:` (or "")."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return text, ""
    title = _FRONT_TITLE.search(match.group(1))
    return text[match.end():], title.group(1).strip("'\"") if title else ""


def markdown_headings(text: str) -> list[dict]:
    """ATX (`## Title`) and setext (`Title` over `===`/`---`) headings, skipping fenced code."""
    found: list[dict] = []
    fence = ""
    last_blank = True
    candidate: tuple[int, str] | None = None     # a one-line paragraph that a setext underline would make a title
    for offset, line in _lines(text):
        opening = _FENCE.match(line)
        if fence or opening:
            if not fence:
                fence = opening.group(1)
            elif opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = ""
            candidate, last_blank = None, False
            continue
        atx = _ATX.match(line)
        if atx and (atx.group(2) or "").strip():
            found.append(heading(offset, offset + len(line), len(atx.group(1)), atx.group(2).strip()))
            candidate, last_blank = None, True
            continue
        underline = _SETEXT.match(line)
        if underline and candidate is not None:
            level = 1 if underline.group(1)[0] == "=" else 2
            found.append(heading(candidate[0], offset + len(line), level, candidate[1].strip()))
            candidate, last_blank = None, True
            continue
        blank = not line.strip()
        candidate = (offset, line) if not blank and last_blank and not _NOT_SETEXT_TITLE.match(line) else None
        last_blank = blank
    return found


def rst_headings(text: str) -> list[dict]:
    """Section titles with an underline (and optional overline) of one repeated punctuation character;
    levels follow the order in which adornment styles first appear, as docutils does."""
    lines = list(_lines(text))
    styles: list[tuple[str, bool]] = []
    found: list[dict] = []
    i = 0
    while i < len(lines):
        span = _rst_title_at(lines, i)
        if span is None:
            i += 1
            continue
        title_line, last, style = span
        if style not in styles:
            styles.append(style)
        start, end = lines[i][0], lines[last][0] + len(lines[last][1])
        found.append(heading(start, end, styles.index(style) + 1, lines[title_line][1].strip()))
        i = last + 1
    return found


def _rst_title_at(lines: list[tuple[int, str]], i: int) -> tuple[int, int, tuple[str, bool]] | None:
    """(title line, last adornment line, style) if a section title starts at line i."""
    if i > 0 and lines[i - 1][1].strip():
        return None
    line = lines[i][1]
    over = _RST_ADORNMENT.match(line)
    if over and i + 2 < len(lines):
        title, under = lines[i + 1][1], _RST_ADORNMENT.match(lines[i + 2][1])
        if under and under.group(1) == over.group(1) and title.strip() and not _RST_ADORNMENT.match(title):
            return i + 1, i + 2, (over.group(1), True)
    if over or not line.strip() or line[0].isspace() or i + 1 >= len(lines):
        return None
    under = _RST_ADORNMENT.match(lines[i + 1][1])
    if under and len(lines[i + 1][1].rstrip()) >= min(len(line.rstrip()), 4):
        return i, i + 1, (under.group(1), False)
    return None
