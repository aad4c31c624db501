"""HTML to plain text with its headings: scripts, styles, navigation and page chrome dropped.

Event-driven (stdlib html.parser), so deeply nested markup costs no recursion. Besides <nav> and friends,
elements marked as navigation by ARIA role or by the chrome classes of Sphinx and DocBook output
(sidebars, tables of contents, header links) are dropped.
"""
from __future__ import annotations

from html.parser import HTMLParser

from ragft.rag.loaders.markup import heading

_SKIPPED = {"script", "style", "nav", "noscript", "template", "svg", "iframe", "footer", "object"}
_SKIPPED_ROLES = {"navigation", "search", "contentinfo", "banner"}
_SKIPPED_CLASSES = {"headerlink", "toc", "navheader", "navfooter", "sphinxsidebar", "related", "footer"}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BLOCKS = {
    "p", "div", "section", "article", "main", "aside", "header", "li", "ul", "ol", "dl", "dt", "dd",
    "table", "thead", "tbody", "tfoot", "tr", "blockquote", "pre", "figure", "figcaption", "form",
    "fieldset", "address", "details", "summary", "hr", "caption", "body",
}
_CELLS = {"td", "th"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, int]] = []        # (text, heading level or 0)
        self.title = ""
        self._buffer: list[str] = []
        self._skip_tag = ""           # the element being dropped, and how deep its own tag is nested
        self._skip = 0
        self._pre = 0
        self._level = 0
        self._in_head = False
        self._in_title = False

    def handle_starttag(self, tag: str, attrs) -> None:
        if self._skip:
            self._skip += tag == self._skip_tag
            return
        if _is_chrome(tag, attrs):
            self._skip_tag, self._skip = tag, 1
        elif tag == "head":
            self._in_head = True
        elif tag == "title" and not self.title:      # <svg><title> never gets here: svg is skipped
            self._in_title = True
        elif tag == "br":
            self._buffer.append("\n")
        elif tag in _CELLS:
            self._buffer.append(" ")
        elif tag in _HEADINGS:
            self._flush()
            self._level = _HEADINGS[tag]
        elif tag in _BLOCKS:
            self._in_head = False
            self._flush()
            self._pre += tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        if self._skip:
            self._skip -= tag == self._skip_tag
            return
        if tag == "head":
            self._in_head = False
        elif tag == "title":
            self._in_title = False
        elif tag in _HEADINGS:
            self._flush()
            self._level = 0
        elif tag in _BLOCKS:
            self._flush()
            self._pre = max(0, self._pre - (tag == "pre"))

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip and not self._in_head:
            self._buffer.append(data if self._pre else data.replace("\n", " "))   # only <br> breaks lines

    def close(self) -> None:
        super().close()
        self._flush()

    def _flush(self) -> None:
        raw = "".join(self._buffer)
        self._buffer = []
        if self._pre:
            text = raw.strip("\n").rstrip()
        else:
            lines = (" ".join(line.split()) for line in raw.split("\n"))
            text = "\n".join(line for line in lines if line)
        if text.strip():
            self.blocks.append((" ".join(text.split()) if self._level else text, self._level))


def _is_chrome(tag: str, attrs: list[tuple[str, str | None]]) -> bool:
    if tag in _SKIPPED:
        return True
    if tag in _VOID:           # no end tag would ever stop the skipping
        return False
    values = dict(attrs)
    classes = set((values.get("class") or "").split())
    return values.get("role") in _SKIPPED_ROLES or bool(classes & _SKIPPED_CLASSES)


def html_to_text(markup: str) -> tuple[str, str, list[dict]]:
    """(text, <title>, headings) of an HTML page; blocks are separated by blank lines."""
    collector = _TextCollector()
    collector.feed(markup)
    collector.close()
    parts: list[str] = []
    headings: list[dict] = []
    offset = 0
    for text, level in collector.blocks:
        if level:
            headings.append(heading(offset, offset + len(text), level, text))
        parts.append(text)
        offset += len(text) + 2
    return "\n\n".join(parts), " ".join(collector.title.split()), headings
