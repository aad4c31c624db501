"""Text keys shared by the layers above: word folding for comparing texts, the leakage check that keeps eval
questions out of training data, and matching a training fact to the chunks an eval set was drawn from.

Distinct names for distinct normalisations: `words`/`word_key` (lower-cased runs of letters and digits),
`question_key` (the same, keeping "c" and "c++" apart); the SQuAD answer normalisation is
`ragft.evaluate.metrics.normalize_answer`, the answer cache's is `ragft.rag.answer_cache.normalize_question`."""
from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal, Sequence

from ragft.errors import InputError

DEFAULT_JACCARD = 0.8


def words(text: str) -> list[str]:
    """Lower-cased runs of letters and digits."""
    return re.findall(r"[a-z0-9]+", text.lower())


def word_key(text: str) -> str:
    """`words` joined by single spaces: two texts that differ only in case, spacing or punctuation match."""
    return " ".join(words(text))


def question_key(text: str) -> str:
    """`word_key` for questions, keeping "c" and "c++" (and "c#") apart."""
    return " ".join(re.findall(r"[a-z0-9]+(?:\+\+|#)?", text.lower()))


# --- eval chunks ------------------------------------------------------------------------------------

def chunk_key(text: str) -> str:
    """A chunk's identity across re-chunking runs: sha1 of its lower-cased words."""
    return hashlib.sha1(word_key(text).encode()).hexdigest()


def drawn_from_eval_chunks(context: str | None, chunk_texts: Sequence[str]) -> bool:
    """A training fact drawn from an eval chunk: its context is that chunk, or holds it, or sits inside it."""
    if not context or not chunk_texts:
        return False
    mine = word_key(context)
    for text in chunk_texts:
        theirs = word_key(text)
        if theirs and (mine == theirs or theirs in mine or (len(mine) > 80 and mine in theirs)):
            return True
    return False


# --- leakage ---------------------------------------------------------------------------------------

def _text_of(item: Any) -> str:
    """The question text of an eval item, a plain string, or a training record (question/prompt/messages)."""
    if isinstance(item, str):
        return item
    record = item if isinstance(item, dict) else getattr(item, "__dict__", {})
    for key in ("question", "prompt", "instruction", "input"):
        if isinstance(record.get(key), str):
            return record[key]
    messages = record.get("messages")
    if isinstance(messages, list):
        return " ".join(m.get("content", "") for m in messages if isinstance(m, dict) and m.get("role") == "user")
    raise InputError(f"cannot find the question in training record {str(item)[:60]!r}: "
                     "expected a 'question', 'prompt', 'instruction', 'input' or user 'messages' field")


def _id_of(item: Any, index: int) -> str:
    if isinstance(item, dict):
        return str(item["id"]) if item.get("id") is not None else f"#{index}"
    return str(item.id) if isinstance(getattr(item, "id", None), str) else f"#{index}"


@dataclass(frozen=True)
class Leak:
    test_id: str
    train_id: str
    kind: Literal["exact", "contained", "near-duplicate"]
    similarity: float
    test_question: str
    train_text: str


@dataclass(frozen=True)
class LeakageReport:
    leaks: list[Leak] = field(default_factory=list)
    threshold: float = DEFAULT_JACCARD
    test_count: int = 0
    train_count: int = 0

    @property
    def ok(self) -> bool:
        return not self.leaks

    def summary(self) -> str:
        if self.ok:
            return f"no leakage: {self.test_count} test questions vs {self.train_count} training records"
        first = self.leaks[0]
        leaked = len({leak.test_id for leak in self.leaks})
        return (f"{leaked} of {self.test_count} test questions appear in the training data "
                f"(first: test '{first.test_id}' ~ train '{first.train_id}', {first.kind}, "
                f"similarity {first.similarity:.2f}); remove them from training or from the test split")


def check_leakage(train_items: Sequence[Any], test_items: Sequence[Any],
                  threshold: float = DEFAULT_JACCARD) -> LeakageReport:
    """Every (test, train) pair where the test question is the training question after normalisation,
    is contained in the training text, or shares >= threshold of tokens (Jaccard)."""
    train = [(_id_of(item, i), _text_of(item)) for i, item in enumerate(train_items)]
    train_norm = [question_key(text) for _, text in train]
    train_tokens = [set(norm.split()) for norm in train_norm]
    by_token: dict[str, list[int]] = defaultdict(list)
    for index, tokens in enumerate(train_tokens):
        for token in tokens:
            by_token[token].append(index)
    exact = {norm: index for index, norm in reversed(list(enumerate(train_norm)))}
    leaks = []
    for t_index, item in enumerate(test_items):
        question = _text_of(item)
        norm = question_key(question)
        tokens = set(norm.split())
        if not tokens:
            continue
        test_id = _id_of(item, t_index)
        if norm in exact:
            j = exact[norm]
            leaks.append(Leak(test_id, train[j][0], "exact", 1.0, question, train[j][1]))
            continue
        shared: dict[int, int] = defaultdict(int)
        for token in tokens:
            for j in by_token.get(token, ()):
                shared[j] += 1
        best = None
        for j, count in shared.items():
            similarity = count / len(tokens | train_tokens[j])
            contained = count == len(tokens) and f" {norm} " in f" {train_norm[j]} "
            kind = "contained" if contained else "near-duplicate"
            rank = (contained, similarity)
            if (contained or similarity >= threshold) and (best is None or rank > best[0]):
                best = (rank, kind, similarity, j)
        if best:
            _, kind, similarity, j = best
            leaks.append(Leak(test_id, train[j][0], kind, similarity, question, train[j][1]))
    return LeakageReport(leaks, threshold, len(test_items), len(train_items))


def assert_no_leakage(train_items: Sequence[Any], test_items: Sequence[Any],
                      threshold: float = DEFAULT_JACCARD) -> LeakageReport:
    """check_leakage, raising InputError with a one-line summary when any test question leaked."""
    report = check_leakage(train_items, test_items, threshold)
    if not report.ok:
        raise InputError(report.summary())
    return report
