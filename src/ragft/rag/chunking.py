"""Cutting Documents into token-bounded Chunks that follow their structure: sections, paragraphs, sentences.

The default counter (all-MiniLM-L6-v2 WordPiece) tokenizes each document once, in windows of bounded size cut
at whitespace, and reads every span's count off the token offsets. A custom counter is called once per sentence
and per overlap word, and the counts are summed: exact for tokenizers that never merge across whitespace
(WordPiece, word counts), close for BPE.

A "word" longer than MAX_WORD_CHARS characters (a minified file, a base64 blob, one giant line without spaces)
is counted as consecutive MAX_WORD_CHARS-character slices, so the tokenizer's memory never grows with the length
of one word, and a word longer than a chunk is cut into chunks of its own (reported through `notes`).
"""
from __future__ import annotations

import bisect
import hashlib
import re
import zipfile
from array import array
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterable, Sequence

from ragft.errors import InputError
from ragft.rag.document import Chunk, Document

CountTokens = Callable[[str], int]
_SpanCount = Callable[[int, int], int]

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
# Whitespace after . ! ? (or after a closing quote/bracket that follows one), or a line break before a list item.
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"')\]]))\s+|\n(?=[ \t]*(?:[-*+]|\d+[.)])\s)")
_WORD = re.compile(r"\S+")
_STRUCTURE_KEYS = ("headings", "pages")
MAX_WORD_CHARS = 100           # WordPiece's max_input_chars_per_word: a longer word is one [UNK] to the model
_GIANT_WORD = re.compile(rf"\S{{{MAX_WORD_CHARS + 1},}}")
_WINDOW_CHARS = 1 << 14        # text tokenized at once: the tokenizer keeps ~0.5 KB per token while it works
_BATCH_CHARS = 1 << 16


@dataclass(frozen=True)
class _Piece:
    start: int
    end: int
    tokens: int
    solo: bool = False          # a slice of one over-long word: it gets a chunk of its own


def chunk_document(doc: Document, *, max_tokens: int = 200, overlap: int = 32,
                   count_tokens: CountTokens | None = None, notes: list[str] | None = None) -> list[Chunk]:
    """Chunks of at most `max_tokens` tokens (default counter: the all-MiniLM-L6-v2 tokenizer, without
    special tokens), sharing up to `overlap` tokens with the previous chunk of the same section.
    Words longer than a chunk are cut into chunks of their own; `notes`, if given, gets one line saying so."""
    _check_sizes(max_tokens, overlap)
    count = _span_counter(doc.text, count_tokens)
    sections = [s for s in _sections(doc) if doc.text[s[1]:s[2]].strip()]
    if not sections and doc.text.strip():
        sections = [((), 0, len(doc.text))]
    pages = doc.metadata.get("pages") or []
    chunks: list[Chunk] = []
    ordinals: dict[tuple[str, ...], int] = {}
    cut_words: list[int] = []
    cut_chunks = 0
    for path, start, end in sections:
        packer = _Packer(doc.text, max_tokens, overlap, count)
        for piece in _pieces(doc.text, start, end, max_tokens, count, cut_words):
            packer.add(piece)
            cut_chunks += piece.solo
        for span in packer.finish():
            ordinal = ordinals.get(path, 0)
            ordinals[path] = ordinal + 1
            chunks.append(_chunk(doc, pages, path, ordinal, *span))
    if cut_words and notes is not None:
        notes.append(f"{len(cut_words)} word(s) longer than a chunk of {max_tokens} tokens (the longest "
                     f"{max(cut_words):,} characters without a space) cut into {cut_chunks} chunks of their own")
    return chunks


def chunk_documents(docs: Iterable[Document], **options) -> list[Chunk]:
    """chunk_document over many documents, in order."""
    return [chunk for doc in docs for chunk in chunk_document(doc, **options)]


def minilm_token_counter() -> CountTokens:
    """Token count of the all-MiniLM-L6-v2 WordPiece tokenizer (no [CLS]/[SEP]; its window is 256 with them)."""
    tokenizer = _minilm_tokenizer()
    return lambda text: len(tokenizer.encode(text, add_special_tokens=False).ids)


def _check_sizes(max_tokens: int, overlap: int) -> None:
    if not (isinstance(max_tokens, int) and isinstance(overlap, int) and max_tokens > overlap >= 0):
        raise InputError(
            f"chunk sizes: max_tokens must be greater than overlap, and overlap at least 0 "
            f"(got max_tokens={max_tokens!r}, overlap={overlap!r})"
        )


@lru_cache(maxsize=1)
def _minilm_tokenizer():
    from tokenizers import Tokenizer

    from ragft.rag.embedders.bundled import bundled_zip_path

    with zipfile.ZipFile(bundled_zip_path()) as archive:
        tokenizer = Tokenizer.from_str(archive.read("tokenizer.json").decode("utf-8"))
    tokenizer.no_truncation()    # tokenizer.json ships truncation at 128 and padding: both would skew counts
    tokenizer.no_padding()
    return tokenizer


def _span_counter(text: str, count_tokens: CountTokens | None) -> _SpanCount:
    """Token count of text[a:b]; the default tokenizes the document once and counts token starts in a span."""
    if count_tokens is not None:
        return lambda a, b: count_tokens(_sliced_giant_words(text[a:b]))
    starts = _token_starts(text)
    return lambda a, b: bisect.bisect_left(starts, b) - bisect.bisect_left(starts, a)


def _sliced_giant_words(span: str) -> str:
    if len(span) <= MAX_WORD_CHARS or not _GIANT_WORD.search(span):
        return span
    return _GIANT_WORD.sub(lambda m: " ".join(m.group()[i:i + MAX_WORD_CHARS]
                                             for i in range(0, len(m.group()), MAX_WORD_CHARS)), span)


def _token_starts(text: str) -> array:
    """Offsets where the WordPiece tokens of `text` start (8 bytes each), tokenized a bounded batch of windows
    at a time; whitespace cuts never change WordPiece tokens, and giant words are cut into slices."""
    tokenizer = _minilm_tokenizer()
    starts = array("q")
    batch: list[tuple[int, int]] = []
    size = 0

    def flush() -> None:
        encodings = tokenizer.encode_batch([text[a:b] for a, b in batch], add_special_tokens=False)
        for (a, _), encoding in zip(batch, encodings):
            starts.extend(a + offset for offset, _ in encoding.offsets)
        batch.clear()

    for a, b in _windows(text):
        batch.append((a, b))
        size += b - a
        if size >= _BATCH_CHARS:
            flush()
            size = 0
    if batch:
        flush()
    return starts


def _windows(text: str):
    """(start, end) spans covering `text`: at most _WINDOW_CHARS long and cut at whitespace, except giant words,
    which come as MAX_WORD_CHARS slices."""
    cursor = 0
    for match in _GIANT_WORD.finditer(text):
        yield from _cut_at_whitespace(text, cursor, match.start())
        for a in range(match.start(), match.end(), MAX_WORD_CHARS):
            yield a, min(a + MAX_WORD_CHARS, match.end())
        cursor = match.end()
    yield from _cut_at_whitespace(text, cursor, len(text))


def _cut_at_whitespace(text: str, start: int, end: int):
    while end - start > _WINDOW_CHARS:
        cut = start + _WINDOW_CHARS
        while cut > start and not text[cut].isspace():     # no giant word here: a space is <= 100 chars back
            cut -= 1
        cut = cut if cut > start else start + _WINDOW_CHARS
        yield start, cut
        start = cut
    if end > start:
        yield start, end


def _sections(doc: Document) -> list[tuple[tuple[str, ...], int, int]]:
    """(heading path, body start, body end) for the text before the first heading and under each heading."""
    headings = doc.metadata.get("headings")
    if headings is None:
        from ragft.rag.loaders.markup import markdown_headings

        headings = markdown_headings(doc.text)
    sections = []
    stack: list[tuple[int, str]] = []
    body_start, path = 0, ()
    for head in sorted(headings, key=lambda h: h["start"]):
        sections.append((path, body_start, head["start"]))
        while stack and stack[-1][0] >= head["level"]:
            stack.pop()
        stack.append((head["level"], head["title"]))
        body_start, path = head["end"], tuple(title for _, title in stack)
    sections.append((path, body_start, len(doc.text)))
    return sections


def _pieces(text: str, start: int, end: int, max_tokens: int, count: _SpanCount,
            cut_words: list[int]) -> list[_Piece]:
    """Whole paragraphs where they fit in a chunk, else their sentences (else words, else word slices);
    the length of every word cut into slices is added to `cut_words`."""
    pieces: list[_Piece] = []
    for p_start, p_end in _spans(text, start, end, _PARAGRAPH_BREAK):
        sentences = [_Piece(a, b, count(a, b)) for a, b in _spans(text, p_start, p_end, _SENTENCE_END)]
        total = sum(p.tokens for p in sentences)
        if total <= max_tokens:
            pieces.append(_Piece(p_start, p_end, total))
            continue
        for sentence in sentences:
            if sentence.tokens <= max_tokens:
                pieces.append(sentence)
            else:
                pieces.extend(_split_long(text, sentence, max_tokens, count, cut_words))
    return pieces


def _spans(text: str, start: int, end: int, separator: re.Pattern) -> list[tuple[int, int]]:
    """Non-blank spans of text[start:end] between separator matches, trimmed of surrounding whitespace."""
    spans, cursor = [], start
    for match in separator.finditer(text, start, end):
        spans.append((cursor, match.start()))
        cursor = match.end()
    spans.append((cursor, end))
    trimmed = []
    for a, b in spans:
        segment = text[a:b]
        stripped = segment.strip()
        if stripped:
            a += len(segment) - len(segment.lstrip())
            trimmed.append((a, a + len(stripped)))
    return trimmed


def _split_long(text: str, sentence: _Piece, max_tokens: int, count: _SpanCount,
                cut_words: list[int]) -> list[_Piece]:
    pieces: list[_Piece] = []
    for match in _WORD.finditer(text, sentence.start, sentence.end):
        a, b = match.span()
        tokens = count(a, b)
        if tokens <= max_tokens:
            pieces.append(_Piece(a, b, tokens))
        else:
            cut_words.append(b - a)
            pieces.extend(_slice_word(a, b, max_tokens, count))
    return pieces


def _slice_word(start: int, end: int, max_tokens: int, count: _SpanCount) -> list[_Piece]:
    """A word longer than a chunk (a long URL or path) cut at the longest prefixes that fit. Every slice of
    MAX_WORD_CHARS characters holds a token at least, so a slice never needs a longer search range."""
    pieces = []
    while start < end:
        low, high = start + 1, min(end, start + (max_tokens + 1) * MAX_WORD_CHARS)
        while low < high:
            middle = (low + high + 1) // 2
            if count(start, middle) <= max_tokens:
                low = middle
            else:
                high = middle - 1
        pieces.append(_Piece(start, low, count(start, low), solo=True))
        start = low
    return pieces


class _Packer:
    """Greedy packing of pieces into chunk spans, carrying the last words of a chunk into the next."""

    def __init__(self, text: str, max_tokens: int, overlap: int, count: _SpanCount):
        self.text, self.max_tokens, self.overlap, self.count = text, max_tokens, overlap, count
        self.spans: list[tuple[int, int]] = []
        self.pieces: list[_Piece] = []
        self.carry: list[_Piece] = []
        self.used = 0

    def add(self, piece: _Piece) -> None:
        if piece.solo:
            self._flush(carry=False)
        if piece.tokens > self.max_tokens - self.used:
            self._flush()
            while self.carry and piece.tokens > self.max_tokens - self.used:
                self.used -= self.carry.pop(0).tokens
        self.pieces.append(piece)
        self.used += piece.tokens
        if piece.solo:
            self._flush(carry=False)

    def finish(self) -> list[tuple[int, int]]:
        self._flush()
        return self.spans

    def _flush(self, carry: bool = True) -> None:
        if self.pieces:
            start, end = (self.carry or self.pieces)[0].start, self.pieces[-1].end
            self.spans.append((start, end))
            self.carry = self._trailing_words(start, end) if carry else []
        elif not carry:
            self.carry = []
        self.pieces = []
        self.used = sum(p.tokens for p in self.carry)

    def _trailing_words(self, start: int, end: int) -> list[_Piece]:
        if not self.overlap:
            return []
        words = self._last_words(start, end)
        carry: list[_Piece] = []
        budget = self.overlap
        for a, b in reversed(words):
            tokens = self.count(a, b)
            if tokens > budget:
                break
            budget -= tokens
            carry.append(_Piece(a, b, tokens))
        return carry[::-1]

    def _last_words(self, start: int, end: int) -> list[tuple[int, int]]:
        """Spans of the last `overlap` words of text[start:end], reading only as far back as needed."""
        width = 8 * self.overlap
        while True:
            window_start = max(start, end - width)
            words = [m.span() for m in _WORD.finditer(self.text, window_start, end)]
            if window_start > start:
                words = words[1:]              # the window may have cut the first word
            if len(words) >= self.overlap or window_start == start:
                return words[-self.overlap:]
            width *= 4


def _chunk(doc: Document, pages: list, path: tuple[str, ...], ordinal: int, start: int, end: int) -> Chunk:
    text = doc.text[start:end]
    text_hash = hashlib.sha1(text.encode("utf-8")).hexdigest()
    key = "\x1f".join([doc.id, "\x1e".join(path), str(ordinal), text_hash])
    metadata = {k: v for k, v in doc.metadata.items() if k not in _STRUCTURE_KEYS}
    metadata.update(source=doc.source, title=doc.title, heading_path=list(path))
    if pages:
        first, last = _page_at(pages, start), _page_at(pages, end - 1)
        metadata["page"] = first
        if last != first:
            metadata["page_end"] = last
    return Chunk(
        id=hashlib.sha1(key.encode("utf-8")).hexdigest()[:16],
        doc_id=doc.id,
        text=text,
        title=doc.title,
        heading_path=path,
        start=start,
        end=end,
        metadata=metadata,
    )


def _page_at(pages: Sequence[Sequence[int]], offset: int) -> int:
    index = bisect.bisect_right(pages, offset, key=lambda page: page[0]) - 1
    return pages[max(index, 0)][1]
