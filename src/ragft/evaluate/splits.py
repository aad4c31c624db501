"""Train/validation/test splits of an eval set, and the leakage check that keeps test questions out of
training data (same question after normalisation, or a near-duplicate by token Jaccard)."""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal, Sequence

import numpy as np

from ragft.errors import InputError
from ragft.evaluate.evalset import EvalItem

DEFAULT_JACCARD = 0.8


@dataclass(frozen=True)
class Split:
    train: list[EvalItem]
    validation: list[EvalItem]
    test: list[EvalItem]
    seed: int


def split(items: Sequence[EvalItem], train: float = 0.6, validation: float = 0.2, test: float = 0.2,
          seed: int = 0) -> Split:
    """A seeded shuffle cut into three parts; sizes are rounded down for train and validation, the rest
    is test. The same items and seed always give the same split."""
    shares = (train, validation, test)
    if any(share < 0 for share in shares) or abs(sum(shares) - 1) > 1e-9:
        raise InputError(f"split shares must be >= 0 and sum to 1, got train={train} validation={validation} "
                         f"test={test}")
    order = np.random.default_rng(seed).permutation(len(items))
    n_train = int(len(items) * train + 1e-9)
    n_val = int(len(items) * validation + 1e-9)
    picked = [items[i] for i in order]
    return Split(picked[:n_train], picked[n_train:n_train + n_val], picked[n_train + n_val:], seed)


# --- leakage ---------------------------------------------------------------------------------------

def normalize_question(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+(?:\+\+|#)?", text.lower()))      # keeps "c" and "c++" apart


def _text_of(item: Any) -> str:
    """The question text of an eval item, a plain string, or a training record (question/prompt/messages)."""
    if isinstance(item, str):
        return item
    if isinstance(item, EvalItem):
        return item.question
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
    if isinstance(item, EvalItem):
        return item.id
    if isinstance(item, dict) and item.get("id") is not None:
        return str(item["id"])
    return f"#{index}"


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
    train_norm = [normalize_question(text) for _, text in train]
    train_tokens = [set(norm.split()) for norm in train_norm]
    by_token: dict[str, list[int]] = defaultdict(list)
    for index, tokens in enumerate(train_tokens):
        for token in tokens:
            by_token[token].append(index)
    exact = {norm: index for index, norm in reversed(list(enumerate(train_norm)))}
    leaks = []
    for t_index, item in enumerate(test_items):
        question = _text_of(item)
        norm = normalize_question(question)
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
