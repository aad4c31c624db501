"""FAQ-shaped text: split reStructuredText, Markdown and Debian-FAQ plain text into question/answer entries.

Also owns turning RST markup into readable text, since every FAQ source we read is RST or derived from it.
"""
from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass


@dataclass(frozen=True)
class FaqEntry:
    page: str            # the page or chapter title ("Programming FAQ")
    section: str         # the enclosing section heading ("Core Language"), "" when none
    question: str
    answer: str          # cleaned answer text, without the question heading
    number: str = ""     # the section number where the source has one (Debian FAQ "3.1.2")


# --- reStructuredText -----------------------------------------------------------------------------

_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+:.])\1{2,}\s*$")
_DROP_DIRECTIVES = {
    "contents", "index", "toctree", "only", "highlight", "testsetup", "testcleanup", "sectionauthor",
    "moduleauthor", "module", "currentmodule", "include", "raw", "image", "figure", "tabularcolumns",
    "productionlist", "literalinclude", "audit-event", "impl-detail", "availability", "xxx",
    "program", "cmdoption", "envvar", "opcode", "pdbcommand", "2to3fixer",
}
_CODE_DIRECTIVES = {"code-block", "sourcecode", "code", "doctest", "testcode", "testoutput"}
_VERSION_DIRECTIVES = {"versionadded": "New in version", "versionchanged": "Changed in version",
                       "deprecated": "Deprecated since version"}


@dataclass(frozen=True)
class _Heading:
    line: int            # index of the title line
    end: int             # index of the first line after the underline
    title: str
    level: int


def _rst_headings(lines: list[str]) -> list[_Heading]:
    styles: list[tuple[str, bool]] = []
    headings = []
    for i in range(1, len(lines)):
        match = _UNDERLINE.match(lines[i])
        title = lines[i - 1].strip()
        if not match or not title or lines[i - 1][:1].isspace() or _UNDERLINE.match(lines[i - 1]):
            continue
        if len(lines[i].rstrip()) < len(title) - 1 or (i >= 2 and lines[i - 2].strip() and
                                                      lines[i - 2].strip() != lines[i].strip()):
            continue
        over = i >= 2 and lines[i - 2].strip() == lines[i].strip()
        style = (match.group(1), over)
        if style not in styles:
            styles.append(style)
        start = i - 2 if over else i - 1
        headings.append(_Heading(start, i + 1, title, styles.index(style)))
    return headings


def parse_rst_faq(text: str, questions_only: bool = True) -> list[FaqEntry]:
    """Entries of an RST FAQ page: headings ending in '?' (or, with questions_only=False, every
    heading below the page title that has text of its own) with the cleaned text under them."""
    lines = text.splitlines()
    headings = _rst_headings(lines)
    if not headings:
        return []
    page = headings[0].title if headings[0].level == 0 else ""
    entries = []
    parents: dict[int, str] = {}
    for index, heading in enumerate(headings):
        parents = {lvl: t for lvl, t in parents.items() if lvl < heading.level}
        parents[heading.level] = heading.title
        if heading.level == 0:
            continue
        stop = headings[index + 1].line if index + 1 < len(headings) else len(lines)
        answer = clean_rst("\n".join(lines[heading.end:stop]))
        if not answer or (questions_only and not heading.title.endswith("?")):
            continue
        section = next((parents[lvl] for lvl in sorted(parents, reverse=True)
                        if 0 < lvl < heading.level), "")
        entries.append(FaqEntry(page, section, _clean_inline(heading.title, code="plain"), answer))
    return entries


def rst_to_markdown(text: str) -> tuple[str, str]:
    """(title, markdown body) of a whole RST document: headings become '#' lines, markup is cleaned."""
    lines = text.splitlines()
    headings = _rst_headings(lines)
    out, cursor = [], 0
    for heading in headings:
        out.append(clean_rst("\n".join(lines[cursor:heading.line])))
        out.append("#" * min(heading.level + 1, 6) + " " + _clean_inline(heading.title, code="plain"))
        cursor = heading.end
    out.append(clean_rst("\n".join(lines[cursor:])))
    title = _clean_inline(headings[0].title, code="plain") if headings else ""
    return title, "\n\n".join(part for part in out if part).strip() + "\n"


def clean_rst(text: str) -> str:
    """RST body text to readable Markdown-ish text: directives, labels and comments resolved or dropped,
    roles and links reduced to their visible text, literal blocks kept indented."""
    lines = [ln for ln in _resolve_directives(text.splitlines()) if ln.strip() != "::"]
    lines = [re.sub(r"(\S)\s*::\s*$", r"\1:", ln) for ln in lines]
    blocks = [block if _is_code(block) else _clean_inline(block)
              for block in re.split(r"\n\s*\n", "\n".join(lines)) if block.strip()]
    body = "\n\n".join(textwrap.dedent(block).rstrip() if not _is_code(block) else block.rstrip()
                       for block in blocks)
    return textwrap.dedent(body).strip("\n").rstrip()


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _resolve_directives(lines: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.lstrip()
        if not stripped.startswith(".. ") and stripped != "..":
            out.append(line)
            i += 1
            continue
        base = _indent(line)
        block_end = i + 1
        while block_end < len(lines) and (not lines[block_end].strip() or _indent(lines[block_end]) > base):
            block_end += 1
        body = lines[i + 1:block_end]
        directive = re.match(r"\.\.\s+([\w:-]+)::\s*(.*)$", stripped)
        if directive:
            out.extend(_render_directive(directive.group(1).lower(), directive.group(2), body, base))
        i = block_end
        if out and out[-1].strip():
            out.append("")
    return out


def _render_directive(name: str, argument: str, body: list[str], base: int) -> list[str]:
    name = name.split(":")[-1]
    options_end = 0
    while options_end < len(body) and re.match(r"\s+:[\w-]+:", body[options_end]):
        options_end += 1
    content = _resolve_directives(body[options_end:])
    pad = " " * base
    if name in _DROP_DIRECTIVES:
        return []
    dedented = textwrap.dedent("\n".join(content)).splitlines()
    if name in _CODE_DIRECTIVES:
        return [""] + [pad + "    " + ln if ln.strip() else "" for ln in dedented]
    head = []
    if name in _VERSION_DIRECTIVES:
        head = [f"{pad}{_VERSION_DIRECTIVES[name]} {argument}".rstrip() + "."]
    elif argument:
        head = [pad + argument]
    return head + [pad + ln if ln.strip() else "" for ln in dedented]


_ROLE = re.compile(r":[\w:+.-]+:`([^`]+)`")
_LINK = re.compile(r"`([^`<]*?)\s*<([^`>]+)>`_{1,2}")
_REF = re.compile(r"`([^`]+)`_{1,2}")
_LITERAL = re.compile(r"``(.+?)``", re.S)


def _role_text(match: re.Match) -> str:
    inner = match.group(1)
    shown = re.match(r"^(.*?)\s*<[^<>]*>$", inner, flags=re.S)
    if shown and shown.group(1):
        return shown.group(1)
    inner = inner.lstrip("!")
    if inner.startswith("~"):
        inner = inner[1:].split(".")[-1]
    return inner


def _clean_inline(line: str, code: str = "markdown") -> str:
    line = re.sub(r":(pep|rfc):`(?:[^`<]*<)?(\d+)[^`]*`", lambda m: f"{m.group(1).upper()} {m.group(2)}", line)
    line = _ROLE.sub(lambda m: "`" + _role_text(m) + "`", line)
    line = _LINK.sub(lambda m: m.group(1) or m.group(2), line)
    line = _REF.sub(r"\1", line)
    line = _LITERAL.sub(r"`\1`", line)
    line = re.sub(r"\|(\w[\w -]*)\|", r"\1", line)
    line = re.sub(r"\\(.)", r"\1", line)
    if code == "plain":
        line = line.replace("`", "")
    return "\n".join(part.rstrip() for part in line.split("\n"))


# --- Markdown ------------------------------------------------------------------------------------

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def parse_markdown_faq(text: str) -> list[FaqEntry]:
    """Entries of a Markdown FAQ: headings ending in '?' with the text up to the next heading."""
    lines = text.splitlines()
    marks = [(i, len(m.group(1)), m.group(2)) for i, m in
             ((i, _MD_HEADING.match(line)) for i, line in enumerate(lines)) if m]
    page = next((title for _, level, title in marks if level == 1), "")
    entries, parents = [], {}
    for index, (line_no, level, title) in enumerate(marks):
        parents = {lvl: t for lvl, t in parents.items() if lvl < level}
        parents[level] = title
        stop = marks[index + 1][0] if index + 1 < len(marks) else len(lines)
        answer = "\n".join(lines[line_no + 1:stop]).strip()
        if title.endswith("?") and answer:
            section = next((parents[lvl] for lvl in sorted(parents, reverse=True)
                            if 1 < lvl < level), "")
            entries.append(FaqEntry(page, section, title, answer))
    return entries


# --- Debian FAQ plain text ---------------------------------------------------------------------

_DEBIAN_HEADING = re.compile(r"^(\d+(?:\.\d+)+)\.[ \u00a0]+(\S.*)$")
_DEBIAN_CHAPTER = re.compile(r"^(?:Chapter|Appendix) (\w+)\.[ \u00a0]+(\S.*)$")


def parse_debian_faq(text: str) -> list[FaqEntry]:
    """Every numbered section of the Debian FAQ text rendering ("3.1.2. Question?" at column 0, the
    answer indented below), questions or not; the text before a subsection belongs to its parent."""
    lines = text.replace("\u00a0", " ").splitlines()
    start = next((i for i, line in enumerate(lines) if _DEBIAN_CHAPTER.match(line)), len(lines))
    entries, chapter = [], ""
    i = start
    while i < len(lines):
        chapter_match = _DEBIAN_CHAPTER.match(lines[i])
        heading = _DEBIAN_HEADING.match(lines[i])
        if chapter_match:
            chapter = f"Chapter {chapter_match.group(1)}. {chapter_match.group(2).strip()}"
            i += 1
            continue
        if not heading:
            i += 1
            continue
        title = [heading.group(2).strip()]
        i += 1
        while i < len(lines) and lines[i].strip() and not lines[i][0].isspace():
            title.append(lines[i].strip())
            i += 1
        body = []
        while i < len(lines) and (not lines[i].strip() or lines[i][0].isspace()):
            body.append(lines[i])
            i += 1
        answer = textwrap.dedent("\n".join(body)).strip()
        answer = re.sub(r"\n[ \t]+\n", "\n\n", answer)
        if answer:
            entries.append(FaqEntry(chapter, "", " ".join(title), answer, heading.group(1)))
    return entries


# --- reference answers ---------------------------------------------------------------------------

def paragraphs(text: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n", text) if p.strip()]


def _is_code(paragraph: str) -> bool:
    lines = [ln for ln in paragraph.splitlines() if ln.strip()]
    return bool(lines) and (all(ln.startswith(("   ", "\t")) for ln in lines)
                            or lines[0].lstrip().startswith(">>>"))


def plain_text(paragraph: str) -> str:
    """One paragraph as a single line of plain prose: markup markers, bare URLs and line breaks removed."""
    text = " ".join(ln.strip() for ln in paragraph.splitlines())
    text = re.sub(r"\s*\(\s*https?:[^)]*\)", "", text)
    text = re.sub(r"^(?:[*+-]|\d+\.)\s+", "", text)
    pieces = re.split(r"(`[^`]*`)", text)
    text = "".join(piece[1:-1] if piece.startswith("`") else
                   re.sub(r"\*\*(\S.*?)\*\*|\*(\S.*?)\*", lambda m: m.group(1) or m.group(2), piece)
                   for piece in pieces)
    text = re.sub(r"\s+([.,;:!?])(?=\s|$)", r"\1", text)
    return re.sub(r"\s+", " ", text).strip()


def reference_answer(answer: str, min_words: int = 25, max_paragraphs: int = 3,
                     skip_indented: bool = True) -> str:
    """The first prose paragraph(s) of an answer: enough to hold min_words words; code (indented
    blocks, doctest) skipped unless skip_indented is False (plain-text sources indent prose too)."""
    chosen: list[str] = []
    for paragraph in paragraphs(answer):
        if skip_indented and _is_code(paragraph):
            continue
        chosen.append(plain_text(paragraph))
        if len(chosen) >= max_paragraphs or len(" ".join(chosen).split()) >= min_words:
            break
    return " ".join(chosen).strip()
