"""Calibration of the support checker on answers a reader labelled: each answer, read against its question's
evidence (reference answer + gold document), is "supported" or "unsupported" (at least one claim the
evidence does not back). The checker's verdict is the eval's: an answer is flagged when one of its sentences
is unsupported by the reference + gold documents; answers that abstain as a whole are left out (the eval
never checks them). Positive class = unsupported, so precision is "of the answers flagged, how many a
reader also found unsupported" and recall "of the unsupported answers, how many were flagged".

The set shipped in tests/data/support-calibration/ holds real Gemma 3 270M answers (see its README).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from ragft.errors import InputError
from ragft.rag.grounding import check_support

THRESHOLDS = tuple(round(0.30 + 0.05 * i, 2) for i in range(15))     # 0.30 ... 1.00


class LabelledAnswer(BaseModel):
    """One generated answer with a reader's label and the evidence it was read against."""

    model_config = ConfigDict(extra="forbid")

    id: str                                   # system/question_id
    question: str
    reference: str
    evidence: list[str]                       # gold document texts (the reference is checked too)
    answer: str
    system: str                               # closed-book, rag, fine-tuned, hybrid (how it was generated)
    passages: list[str] = []                  # what a retrieving system read (not evidence: shown for grounding)
    label: Literal["supported", "unsupported", "abstains"]
    reason: str                               # one line: why


def load_labelled(path: Path | str) -> list[LabelledAnswer]:
    """The labelled answers in a JSONL file; one line per answer."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such labelled-answer file; see tests/data/support-calibration/README.md")
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(LabelledAnswer.model_validate_json(line))
        except ValidationError as error:
            first = error.errors()[0]
            raise InputError(f"{path}:{number}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    return out


def halves(cases: Sequence[LabelledAnswer], seed: int = 13) -> tuple[list[LabelledAnswer], list[LabelledAnswer]]:
    """(tuning half, held-out half): a seeded permutation, split by question so that two systems' answers to
    one question never sit on both sides."""
    questions = sorted({case.question for case in cases})
    order = np.random.default_rng(seed).permutation(len(questions))
    tuning = {questions[i] for i in order[: len(questions) // 2]}
    return [c for c in cases if c.question in tuning], [c for c in cases if c.question not in tuning]


@dataclass(frozen=True)
class Rates:
    threshold: float
    precision: float
    recall: float
    f1: float
    false_alarm_rate: float        # supported answers flagged / supported answers
    n: int                         # answers scored (abstentions left out)
    unsupported: int               # of them, labelled unsupported


def flagged(case: LabelledAnswer, threshold: float) -> bool:
    """The checker's verdict at `threshold`, as the eval computes it."""
    return check_support(case.answer, [*case.evidence, case.reference], threshold=threshold).hallucinated


def rates(cases: Sequence[LabelledAnswer], threshold: float) -> Rates:
    scored = [c for c in cases if c.label != "abstains"]
    truth = np.array([c.label == "unsupported" for c in scored], dtype=bool)
    flags = np.array([flagged(c, threshold) for c in scored], dtype=bool)
    tp, fp, fn = int(np.sum(truth & flags)), int(np.sum(~truth & flags)), int(np.sum(truth & ~flags))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Rates(threshold, precision, recall, f1, fp / max(int(np.sum(~truth)), 1), len(scored), int(truth.sum()))


def tune(cases: Sequence[LabelledAnswer], thresholds: Sequence[float] = THRESHOLDS) -> tuple[float, list[Rates]]:
    """(the threshold with the best F1 on `cases`, fewer false alarms breaking ties; the whole sweep)."""
    sweep = [rates(cases, t) for t in thresholds]
    best = max(sweep, key=lambda r: (round(r.f1, 4), -r.false_alarm_rate))
    return best.threshold, sweep


def write_labelled(path: Path | str, cases: Sequence[LabelledAnswer]) -> None:
    from ragft.files import write_atomic

    write_atomic(path, "".join(json.dumps(c.model_dump(), ensure_ascii=False) + "\n" for c in cases))
