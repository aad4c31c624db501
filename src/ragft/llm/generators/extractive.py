"""The extractive generator: answers by quoting the retrieved sentences that best match the question, cited.

Offline, deterministic, no model. Scoring: each sentence gets the IDF-weighted share of the question's
content words it contains (IDF over all sentences of the passages), a small bonus for coming early in its
passage and for its passage ranking high, and half weight if it is itself a question (FAQ headings).
Sentences scoring under `min_relative_score` x the best are dropped; the rest are taken best first up to
`max_sentences` and the token budget, then printed passage by passage in their original order.
"""
from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from typing import Iterator

from ragft.llm.base import Generation, GenerationRequest, Passage
from ragft.llm.prompts import cited_refs
from ragft.llm.tokens import count_tokens

NO_CONTEXT_ANSWER = (
    "I don't know: no retrieved context (the extractive generator only quotes retrieved passages, "
    "so it cannot answer closed-book)."
)
NO_MATCH_ANSWER = "I don't know: none of the retrieved passages mentions the question's key words."

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have having
    he her here hers him his how i if in into is it its itself just me more most my no nor not now of off on
    once only or other our out over own same she should so some such than that the their them then there
    these they this those through to too under until up very was we were what when where which while who whom
    why will with would you your yours use used using get way ways thing things there's it's one""".split()
)

_WORD = re.compile(r"[a-z0-9]+(?:[-_.][a-z0-9]+)*")
# A sentence ends at . ! or ? followed by space and a capital/digit/quote/bracket; common abbreviations excepted.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[\"'(\[A-Z0-9])")
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "cf.", "Mr.", "Dr.", "approx.", "No.")
_RST_RULE = re.compile(r"^\s*([=\-~^*#+`:.'\"])\1{2,}\s*$")


@dataclass(frozen=True)
class Sentence:
    ref: int
    rank: int        # position of its passage in the request (0 = best retrieved)
    position: int    # index within its passage
    text: str
    words: frozenset[str]


def content_words(text: str) -> frozenset[str]:
    return frozenset(_stem(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 1)


def _stem(word: str) -> str:
    # Folding plurals is enough to match "lists"/"list"; anything stronger hurts code identifiers.
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def split_sentences(text: str) -> list[str]:
    """Paragraphs split at blank lines (rst rules and code fences dropped), then sentences at end punctuation."""
    sentences: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        lines = [line for line in paragraph.splitlines() if not _RST_RULE.match(line)]
        joined = " ".join(" ".join(lines).split())
        if joined:
            sentences.extend(_split_paragraph(joined))
    return sentences


def _split_paragraph(paragraph: str) -> list[str]:
    pieces: list[str] = []
    for piece in _SENTENCE_END.split(paragraph):
        if pieces and pieces[-1].endswith(_ABBREVIATIONS):
            pieces[-1] = f"{pieces[-1]} {piece}"
        else:
            pieces.append(piece)
    return [p.strip() for p in pieces if p.strip()]


class ExtractiveGenerator:
    name = "extractive"

    def __init__(self, max_sentences: int = 3, min_relative_score: float = 0.5):
        self.max_sentences = max_sentences
        self.min_relative_score = min_relative_score

    def generate(self, request: GenerationRequest) -> Generation:
        start = time.perf_counter()
        text = "".join(self.stream(request))
        seconds = time.perf_counter() - start
        return Generation(
            text=text,
            cited=cited_refs(text, request.passages),
            input_tokens=count_tokens(request.question) + sum(count_tokens(p.text) for p in request.passages),
            output_tokens=count_tokens(text),
            model=self.name,
            seconds=seconds,
            first_token_seconds=seconds,
        )

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        if not request.passages:
            yield NO_CONTEXT_ANSWER
            return
        chosen = self.select(request)
        if not chosen:
            yield NO_MATCH_ANSWER
            return
        for i, sentence in enumerate(chosen):
            yield f"{' ' if i else ''}{sentence.text} [{sentence.ref}]"

    def select(self, request: GenerationRequest) -> list[Sentence]:
        """The supporting sentences, in answer order (passage of the best sentence first, then by position)."""
        sentences = _dedupe(_sentences(request.passages))
        question = content_words(request.question)
        scores = _scores(sentences, question)
        best = max(scores, default=0.0)
        if best <= 0.0:
            return []
        ranked = sorted(
            (i for i, s in enumerate(scores) if s >= best * self.min_relative_score),
            key=lambda i: (-scores[i], i),
        )
        picked: list[int] = []
        budget = request.max_tokens
        for i in ranked[: self.max_sentences]:
            cost = count_tokens(sentences[i].text) + 3
            if picked and cost > budget:
                break
            picked.append(i)
            budget -= cost
        return _in_reading_order([sentences[i] for i in picked])


def _sentences(passages: tuple[Passage, ...]) -> list[Sentence]:
    return [
        Sentence(p.ref, rank, position, text, content_words(text))
        for rank, p in enumerate(passages)
        for position, text in enumerate(split_sentences(p.text))
    ]


def _dedupe(sentences: list[Sentence]) -> list[Sentence]:
    seen: set[str] = set()
    unique: list[Sentence] = []
    for sentence in sentences:
        key = " ".join(_WORD.findall(sentence.text.lower()))
        if key not in seen:
            seen.add(key)
            unique.append(sentence)
    return unique


def _scores(sentences: list[Sentence], question: frozenset[str]) -> list[float]:
    n = len(sentences)
    idf = {w: math.log(1.0 + n / (1.0 + sum(w in s.words for s in sentences))) for w in question}
    total = sum(idf.values()) or 1.0
    scores: list[float] = []
    for s in sentences:
        coverage = sum(idf[w] for w in question & s.words) / total
        if coverage == 0.0:
            scores.append(0.0)
            continue
        score = coverage + 0.1 / (1 + s.position) + 0.05 / (1 + s.rank)
        scores.append(score * (0.5 if s.text.endswith("?") else 1.0))
    return scores


def _in_reading_order(chosen: list[Sentence]) -> list[Sentence]:
    first_seen: dict[int, int] = {}
    for i, s in enumerate(chosen):
        first_seen.setdefault(s.ref, i)
    return sorted(chosen, key=lambda s: (first_seen[s.ref], s.position))


def create_extractive(**options) -> ExtractiveGenerator:
    return ExtractiveGenerator(**options)
