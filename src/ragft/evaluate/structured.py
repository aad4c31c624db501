"""Question/answer pairs from document structure, offline and free: headings (Markdown, RST, HTML) give a
question about the section under them, definition lists (Markdown `Term` / `: definition`, RST term lines over
an indented definition, HTML <dl><dt><dd>) give "What is TERM?". Plain text has no such structure; the caller
says so when the result is thin."""
from __future__ import annotations

import re
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path

from ragft.evaluate.draft import Draft
from ragft.qa.faq import reference_answer
from ragft.rag.document import Chunk, Document

MIN_ANSWER_WORDS = 6
MAX_ANSWER_WORDS = 60
_MD_DEFINITION = re.compile(r"^(?P<term>[^\s:#>*+-][^\n]{0,80})\n(?:\n)?:[ \t]+(?P<body>.+(?:\n[ \t]+\S.*)*)", re.MULTILINE)
_RST_DEFINITION = re.compile(r"(?:^|\n\n)(?P<term>[A-Za-z`*][^\n]{0,80})\n(?P<body>(?:[ \t]{2,}\S[^\n]*\n?)+)")
_RST_NOT_TERM = re.compile(r"::\s*$|^\.\.\s|^[-*+]\s|^\d+[.)]\s|^[=~^\"'`#*+<>-]{3,}\s*$")


def structured_drafts(docs: Path | str, chunks: Sequence[Chunk]) -> list[Draft]:
    """Heading and definition-list pairs of every document under `docs`, each tied to the chunk holding its
    answer (pairs whose answer no chunk holds are left out)."""
    from ragft.rag.loaders import discover, load_all

    sources = discover([docs])
    documents = load_all(sources)
    by_doc: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        by_doc.setdefault(chunk.doc_id, []).append(chunk)
    raw = {s.doc_id: s.path for s in sources}
    drafts: list[Draft] = []
    for doc in documents:
        pairs = heading_pairs(doc) + definition_pairs(doc, raw.get(doc.id))
        for question, answer, origin in pairs:
            chunk = _holding(by_doc.get(doc.id, []), answer)
            if chunk is not None:
                drafts.append(Draft(question, answer, chunk, "multi-sentence" if origin == "heading" else "fact",
                                    f"structure:{origin}"))
    return drafts


def heading_pairs(doc: Document) -> list[tuple[str, str, str]]:
    """(question, answer, "heading") per heading with prose under it: a heading that is a question is asked
    as is, "How to X" as "How do I X?", a short title as "What is TITLE?", a longer one as what the section
    says about it."""
    headings = sorted(doc.metadata.get("headings") or [], key=lambda h: h["start"])
    pairs = []
    for position, head in enumerate(headings):
        end = headings[position + 1]["start"] if position + 1 < len(headings) else len(doc.text)
        answer = _clip(reference_answer(doc.text[head["end"]:end]))
        question = question_for_heading(head["title"], doc.title)
        if question and len(answer.split()) >= MIN_ANSWER_WORDS:
            pairs.append((question, answer, "heading"))
    return pairs


def question_for_heading(title: str, doc_title: str = "") -> str | None:
    title = re.sub(r"^\s*(?:\d+(?:\.\d+)*\.?|[A-Z]\.)\s+", "", title).strip().rstrip(":.")
    if not title or len(title.split()) > 15:
        return None
    if title.endswith("?"):
        return title
    how = re.match(r"(?i)^how (?:to|do i|do you|can i)\s+(.+)$", title)
    if how:
        return f"How do I {how.group(1)}?"
    if len(title.split()) <= 4:
        return f"What is {title}?"
    about = f" in {doc_title}" if doc_title and doc_title != title else ""
    return f"What does the section \"{title}\"{about} say?"


def definition_pairs(doc: Document, path: Path | None) -> list[tuple[str, str, str]]:
    """(What is TERM?, definition, "definition") from the document's definition lists."""
    fmt = doc.metadata.get("format")
    if fmt == "html" and path is not None:
        items = html_definitions(path.read_text(encoding="utf-8", errors="replace"))
    elif fmt == "markdown":
        items = [(m.group("term"), m.group("body")) for m in _MD_DEFINITION.finditer(doc.text)]
    elif fmt == "rst":
        items = [(m.group("term"), m.group("body")) for m in _RST_DEFINITION.finditer(doc.text)
                 if not _RST_NOT_TERM.search(m.group("term")) and not m.group("term").rstrip().endswith((".", ","))]
    else:
        items = []
    pairs = []
    for term, body in items:
        term = re.sub(r"[`*]+", "", term).strip().rstrip(":")
        answer = _clip(" ".join(body.split()))
        if term and len(term.split()) <= 8 and len(answer.split()) >= MIN_ANSWER_WORDS:
            pairs.append((f"What is {term}?", answer, "definition"))
    return pairs


class _DefinitionList(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[tuple[str, str]] = []
        self._in: str | None = None
        self._term, self._text = "", []

    def handle_starttag(self, tag, attrs):
        if tag in ("dt", "dd"):
            self._close()
            self._in, self._text = tag, []

    def handle_endtag(self, tag):
        if tag in ("dt", "dd", "dl"):
            self._close()

    def handle_data(self, data):
        if self._in:
            self._text.append(data)

    def _close(self):
        text = " ".join("".join(self._text).split())
        if self._in == "dt":
            self._term = text
        elif self._in == "dd" and self._term and text:
            self.items.append((self._term, text))
        self._in, self._text = None, []


def html_definitions(markup: str) -> list[tuple[str, str]]:
    parser = _DefinitionList()
    parser.feed(markup)
    parser.close()
    return parser.items


def _clip(text: str) -> str:
    """At most MAX_ANSWER_WORDS words, cut at a sentence end when one falls inside."""
    words = text.split()
    if len(words) <= MAX_ANSWER_WORDS:
        return text.strip()
    cut = " ".join(words[:MAX_ANSWER_WORDS])
    end = max(cut.rfind(". "), cut.rfind("? "), cut.rfind("! "))
    return cut[: end + 1] if end > 0 else cut


def _holding(chunks: Sequence[Chunk], answer: str) -> Chunk | None:
    """The chunk whose words hold the answer's opening words (markup aside)."""
    opening = " ".join(re.findall(r"[a-z0-9]+", answer.lower())[:8])
    for chunk in chunks:
        if opening and opening in " ".join(re.findall(r"[a-z0-9]+", chunk.text.lower())):
            return chunk
    return None
