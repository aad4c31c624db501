"""Deterministic splits and the leakage check."""
from __future__ import annotations

import pytest

from ragft.errors import InputError
from ragft.evaluate.evalset import EvalItem
from ragft.evaluate.splits import split
from ragft.text import assert_no_leakage, check_leakage


def _items(n):
    return [EvalItem(id=f"q{i}", question=f"question number {i} about topic {i * 7}", reference_answer="r")
            for i in range(n)]


def test_split_is_deterministic_and_partitions_the_items():
    items = _items(10)
    first, again = split(items, seed=5), split(items, seed=5)
    assert first == again
    assert (len(first.train), len(first.validation), len(first.test)) == (6, 2, 2)
    ids = [i.id for part in (first.train, first.validation, first.test) for i in part]
    assert sorted(ids) == sorted(i.id for i in items)
    assert [i.id for i in split(items, seed=6).train] != [i.id for i in first.train]


def test_split_shares_must_sum_to_one():
    with pytest.raises(InputError, match="sum to 1"):
        split(_items(3), train=0.5, validation=0.2, test=0.2)


def test_leakage_finds_exact_contained_and_near_duplicate_questions(python_faq_bench):
    questions = python_faq_bench.questions
    test = questions[:3]
    train = [
        {"id": "t1", "prompt": test[0].question.upper() + "  "},                     # same after normalisation
        {"id": "t2", "prompt": f"Answer this: {test[1].question} Be brief."},          # contained in a prompt
        {"id": "t3", "messages": [{"role": "user", "content": test[2].question.replace(" ", " really ", 1)}]},
        {"id": "t4", "prompt": questions[10].question},                               # unrelated
    ]
    report = check_leakage(train, test)
    assert [(leak.test_id, leak.train_id, leak.kind) for leak in report.leaks] == [
        (test[0].id, "t1", "exact"), (test[1].id, "t2", "contained"), (test[2].id, "t3", "near-duplicate")]
    assert report.leaks[2].similarity == pytest.approx(8 / 9)    # 8 shared tokens of 9 in the union
    with pytest.raises(InputError, match="3 of 3 test questions appear in the training data"):
        assert_no_leakage(train, test)


def test_a_real_split_of_the_faq_has_no_leakage(python_faq_bench):
    parts = split(python_faq_bench.questions, seed=0)
    assert assert_no_leakage(parts.train, parts.test).ok
