"""The measured production table on crafted records: winners only when paired intervals separate."""
from __future__ import annotations

import numpy as np
import pytest

from ragft.evaluate.records import MetricValue, QuestionRecord
from ragft.evaluate.table import (SEED_CLAIMS, Measured, TableSettings, bootstrap_quantile, build_table,
                                  format_value)


def _records(system: str, f1: list[float], total_s: list[float] | None = None,
             hallucinated: list[bool] | None = None, recall: list[float] | None = None) -> list[QuestionRecord]:
    rows = []
    for i, value in enumerate(f1):
        rows.append(QuestionRecord(
            system=system, question_id=f"q{i}", question=f"question {i}", reference_answer="ref", answer="ans",
            quality={"token_f1": value, "rouge_l": value},
            timings={"total": (total_s or [1.0] * len(f1))[i]},
            hallucinated=(hallucinated or [False] * len(f1))[i],
            retrieval={} if recall is None else {"recall_at_k": recall[i]},
            cost_usd=0.001,
        ))
    return rows


def _row(table, key):
    return next(row for row in table.rows if row.key == key)


def test_a_clearly_better_system_wins_the_f1_row_and_a_noisy_pair_ties():
    rng = np.random.default_rng(1)
    good = list(0.8 + 0.1 * rng.random(30))
    bad = list(0.1 + 0.1 * rng.random(30))
    noisy_a = list(rng.random(30))
    noisy_b = [v + (0.02 if i % 2 else -0.02) for i, v in enumerate(noisy_a)]
    table = build_table(_records("rag", good) + _records("closed-book", bad), ["closed-book", "rag"],
                        run_id="r", bench="crafted")
    assert _row(table, "token_f1").winner == "rag"
    tied = build_table(_records("a", noisy_a) + _records("b", noisy_b), ["a", "b"], run_id="r", bench="crafted")
    assert _row(tied, "token_f1").winner == "tie"


def test_lower_is_better_rows_pick_the_faster_and_less_hallucinating_system():
    fast = _records("fast", [0.5] * 20, total_s=[0.1 + 0.01 * i for i in range(20)], hallucinated=[False] * 20)
    slow = _records("slow", [0.5] * 20, total_s=[2.0 + 0.01 * i for i in range(20)],
                    hallucinated=[i % 2 == 0 for i in range(20)])
    table = build_table(fast + slow, ["fast", "slow"], run_id="r", bench="crafted")
    assert _row(table, "latency_p95").winner == "fast"
    assert _row(table, "latency_p50").winner == "fast"
    assert _row(table, "hallucination_rate").winner == "fast"
    assert _row(table, "hallucination_rate").values["slow"].value == pytest.approx(0.5)


def test_three_systems_have_a_winner_only_if_it_beats_both_others():
    top = _records("a", [0.9] * 15)
    mid = _records("b", [0.9 if i % 3 else 0.85 for i in range(15)])
    low = _records("c", [0.1] * 15)
    table = build_table(top + mid + low, ["a", "b", "c"], run_id="r", bench="crafted")
    # a vs b differ on 5 of 15 questions by 0.05: the paired interval is above 0, so a beats b and c
    assert _row(table, "token_f1").winner == "a"
    even = build_table(_records("a", [0.9] * 15) + _records("b", [0.9] * 15) + low, ["a", "b", "c"],
                       run_id="r", bench="crafted")
    assert _row(even, "token_f1").winner == "tie"


def test_a_metric_only_one_system_has_is_not_applicable_to_the_other_and_has_no_winner():
    table = build_table(_records("rag", [0.5] * 10, recall=[1.0] * 8 + [0.0] * 2) + _records("closed-book", [0.0] * 10),
                        ["closed-book", "rag"], run_id="r", bench="crafted")
    row = _row(table, "retrieval_accuracy")
    assert row.winner == "n/a"
    assert row.values["closed-book"].value is None
    assert row.values["rag"].value == pytest.approx(0.8) and row.values["rag"].n == 10
    assert row.seed_claim == SEED_CLAIMS["retrieval_accuracy"]


def test_every_question_metric_carries_its_bootstrap_interval_around_the_value():
    table = build_table(_records("a", [0.2, 0.4, 0.6, 0.8] * 5), ["a"], run_id="r", bench="crafted")
    f1 = _row(table, "token_f1").values["a"]
    assert f1.value == pytest.approx(0.5) and f1.low < f1.value < f1.high and f1.n == 20


def test_paired_rows_use_only_questions_both_systems_answered():
    a = _records("a", [0.9] * 10)
    b = _records("b", [0.1] * 10)
    b[0] = b[0].model_copy(update={"error": "provider down", "quality": {}})
    table = build_table(a + b, ["a", "b"], run_id="r", bench="crafted")
    assert _row(table, "token_f1").values["b"].n == 9 and _row(table, "token_f1").winner == "a"


def test_single_measurements_win_only_when_twice_as_good_and_trials_by_interval():
    measured = {
        "time_to_production": {"rag": Measured(samples=(10.0,)), "fine-tuned": Measured(samples=(15.0,)),
                               "closed-book": Measured(note="n/a: nothing to build")},
        "freshness": {"rag": Measured(samples=(0.5, 0.6, 0.55)), "fine-tuned": Measured(samples=(900.0,))},
    }
    table = build_table([], ["rag", "fine-tuned", "closed-book"], run_id="r", bench="crafted", measured=measured)
    ttp = _row(table, "time_to_production")
    assert ttp.winner == "tie" and ttp.values["closed-book"].value is None
    fresh = _row(table, "freshness")
    assert fresh.winner == "rag" and fresh.values["rag"].low is not None
    assert fresh.values["closed-book"].note == "not measured"
    measured["time_to_production"]["fine-tuned"] = Measured(samples=(25.0,))
    assert _row(build_table([], ["rag", "fine-tuned"], run_id="r", bench="c", measured=measured),
                "time_to_production").winner == "rag"


def test_bootstrap_quantile_brackets_the_sample_p95():
    values = np.arange(1, 101, dtype=float)
    p95, low, high = bootstrap_quantile(values, 0.95, 500, 0.95, seed=3)
    assert p95 == pytest.approx(np.quantile(values, 0.95)) and low <= p95 <= high


def test_the_same_seed_gives_the_same_table():
    rng = np.random.default_rng(5)
    records = _records("a", list(rng.random(12))) + _records("b", list(rng.random(12)))
    first = build_table(records, ["a", "b"], run_id="r", bench="c", settings=TableSettings(seed=4))
    again = build_table(records, ["a", "b"], run_id="r", bench="c", settings=TableSettings(seed=4))
    assert first == again


def test_values_are_formatted_with_their_unit_and_interval():
    assert format_value(MetricValue(value=0.0312, low=0.03, high=0.0325, unit="USD")) == "$0.0312 [$0.03, $0.0325]"
    assert format_value(MetricValue(value=1.234, unit="s")) == "1.23 s"
    assert format_value(MetricValue(value=0.25, unit="s")) == "250 ms"
    assert format_value(MetricValue(value=0.04, low=0.02, high=0.07, unit="fraction")) == "4.0 % [2.0 %, 7.0 %]"
    assert format_value(MetricValue(value=None)) == "n/a"


def test_the_abstention_rate_is_its_own_row_without_a_winner():
    answering = _records("answers", [0.5] * 10)
    declining = [r.model_copy(update={"abstained": i < 6, "quality": {"token_f1": 0.0 if i < 6 else 0.5}})
                 for i, r in enumerate(_records("declines", [0.5] * 10))]
    table = build_table(answering + declining, ["answers", "declines"], run_id="r", bench="crafted")
    row = _row(table, "abstention_rate")
    assert row.values["declines"].value == pytest.approx(0.6) and row.values["answers"].value == 0.0
    assert row.winner == "n/a"           # declining is neither better nor worse in itself: F1 and hallucination say
    assert _row(table, "token_f1").winner == "answers"


def test_grounding_in_own_passages_is_a_row_for_retrieving_systems_only():
    rag = [r.model_copy(update={"grounded": i != 0}) for i, r in enumerate(_records("rag", [0.5] * 10))]
    table = build_table(rag + _records("closed-book", [0.5] * 10), ["closed-book", "rag"], run_id="r", bench="c")
    row = _row(table, "grounded_rate")
    assert row.values["rag"].value == pytest.approx(0.9) and row.values["closed-book"].value is None
    assert row.label == "Grounded in own retrieved passages"


def test_a_value_that_is_so_by_construction_says_so_next_to_the_number():
    rag = [r.model_copy(update={"grounded": True}) for r in _records("rag", [0.5] * 5)]
    note = "by construction: the extractive answerer only quotes its retrieved passages"
    table = build_table(rag, ["rag"], run_id="r", bench="c",
                        settings=TableSettings(notes={"grounded_rate": {"rag": note}}))
    cell = _row(table, "grounded_rate").values["rag"]
    assert cell.caveat == "by construction" and cell.note == note
    assert format_value(cell, with_interval=False) == "100.0 % (by construction)"
    assert _row(table, "token_f1").values["rag"].caveat == ""
