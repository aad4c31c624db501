"""The support checker against answers a reader labelled: real Gemma 3 270M output (closed-book and RAG) on the
python-faq and debian-faq benches, tests/data/support-calibration/. A regression test: the held-out precision
and recall are computed live and must stay within a small margin of what docs/evaluation.md reports."""
from __future__ import annotations

from pathlib import Path

import pytest

from ragft.errors import InputError
from ragft.evaluate.calibration import halves, load_labelled, rates, tune
from ragft.evaluate.metrics import is_abstention
from ragft.rag.grounding import DEFAULT_THRESHOLD

SET = Path(__file__).resolve().parents[1] / "data" / "support-calibration" / "answers.jsonl"
# measured on the held-out half at DEFAULT_THRESHOLD (docs/evaluation.md, "Calibration on real answers")
MEASURED_PRECISION, MEASURED_RECALL = 0.649, 0.804
MARGIN = 0.03


@pytest.fixture(scope="module")
def labelled():
    return load_labelled(SET)


def test_the_set_holds_at_least_150_real_answers_each_labelled_with_a_reason(labelled):
    assert len(labelled) >= 150
    assert {c.system for c in labelled} == {"closed-book", "rag"}
    assert all(c.reason.strip() and c.answer.strip() and c.evidence for c in labelled)
    assert len({c.id for c in labelled}) == len(labelled)
    assert sum(c.label == "unsupported" for c in labelled) >= 30 and sum(c.label == "supported" for c in labelled) >= 30


def test_the_split_is_by_question_and_fixed(labelled):
    tuning, held = halves(labelled)
    assert not {c.question for c in tuning} & {c.question for c in held}
    assert len(tuning) + len(held) == len(labelled)
    assert [c.id for c in halves(labelled)[1]] == [c.id for c in held]


def test_held_out_precision_and_recall_stay_at_what_was_measured(labelled):
    _, held = halves(labelled)
    measured = rates(held, DEFAULT_THRESHOLD)
    assert measured.precision >= MEASURED_PRECISION - MARGIN
    assert measured.recall >= MEASURED_RECALL - MARGIN


def test_the_default_threshold_is_the_one_tuned_on_the_tuning_half(labelled):
    tuning, _ = halves(labelled)
    chosen, sweep = tune(tuning)
    best = max(r.f1 for r in sweep)
    at_default = next(r for r in sweep if r.threshold == DEFAULT_THRESHOLD)
    assert at_default.f1 >= best - 0.01, (chosen, DEFAULT_THRESHOLD)


def test_answers_labelled_as_abstaining_are_the_ones_the_eval_counts_as_abstentions(labelled):
    assert [c.id for c in labelled if c.label == "abstains"] == [c.id for c in labelled if is_abstention(c.answer)]


def test_a_malformed_line_is_refused_naming_the_file_line_and_field(tmp_path):
    path = tmp_path / "set.jsonl"
    path.write_text('{"id": "a", "question": "q", "reference": "r", "evidence": [], "answer": "x", '
                    '"system": "rag", "label": "maybe", "reason": "r"}\n')
    with pytest.raises(InputError, match=r"set.jsonl:1: label: "):
        load_labelled(path)
