"""The measured verdict over synthetic per-question records: contenders, constraints, paired quality, ties."""
from __future__ import annotations

import numpy as np
import pytest

from ragft.advise import Profile
from ragft.advise.examples import load_example
from ragft.errors import InputError
from ragft.evaluate.decision import Evidence, decide, paired_difference, questions_needed, split_systems
from ragft.evaluate.records import QuestionRecord, SystemConfig

N = 40
LOCAL = {"generator": "local"}
SYSTEMS = {
    "closed-book": SystemConfig(name="closed-book", kind="closed-book", **LOCAL),
    "rag": SystemConfig(name="rag", kind="rag", generator="extractive"),
    "rag-gemma": SystemConfig(name="rag-gemma", kind="rag", **LOCAL),
    "fine-tuned": SystemConfig(name="fine-tuned", kind="fine-tuned", adapter="a", **LOCAL),
    "hybrid": SystemConfig(name="hybrid", kind="hybrid", adapter="b", **LOCAL),
    "rag-tuned-retriever": SystemConfig(name="rag-tuned-retriever", kind="rag", retriever="/r", **LOCAL),
}
PLAIN = dict(f1=0.5, seconds=1.0, cost=0.001, hallucinated=0.0)


def records(name: str, f1: float, seconds: float, cost: float, hallucinated: float, seed: int = 0,
            spread: float = 0.15, ttft: float | None = None) -> list[QuestionRecord]:
    """N answers of one system: F1 around `f1`, latency `seconds`, `cost` per query, a hallucinated share."""
    rng = np.random.default_rng(seed)
    scores = np.clip(f1 + rng.normal(0, spread, N), 0, 1)
    flagged = set(range(round(hallucinated * N)))
    out = []
    for i in range(N):
        timings = {"total": seconds * (1 + 0.01 * (i % 5))} | ({"ttft": ttft} if ttft is not None else {})
        out.append(QuestionRecord(system=name, question_id=f"q{i}", question=f"question {i}?",
                                  reference_answer="ref", answer="an answer", quality={"token_f1": float(scores[i])},
                                  hallucinated=i in flagged, timings=timings, cost_usd=cost))
    return out


def evidence(measured: dict[str, dict], named: tuple[str, ...] = ()) -> Evidence:
    rows = [r for i, (name, values) in enumerate(measured.items())
            for r in records(name, **{**PLAIN, **values}, seed=i)]
    return Evidence(run_id="synthetic", systems=[SYSTEMS[name] for name in measured], records=rows,
                    resamples=500, named=named)


def profile(**answers) -> Profile:
    base = dict(knowledge_valid_months=12, knowledge="documents", hallucination_tolerance="normal")
    return Profile(**{**base, **answers})


THREE = ("rag-gemma", "fine-tuned", "hybrid")


@pytest.mark.parametrize("winner, architecture", [("rag-gemma", "rag"), ("fine-tuned", "fine-tuning"),
                                                  ("hybrid", "hybrid")])
def test_each_architecture_wins_when_its_answer_quality_is_measurably_better(winner, architecture):
    measured = {name: {"f1": 0.8 if name == winner else 0.4} for name in THREE}
    verdict = decide(evidence(measured), profile())
    assert (verdict.architecture, verdict.system, verdict.basis) == (architecture, winner, "quality")
    assert verdict.deciding.a == winner and verdict.deciding.low > 0
    assert verdict.agrees is (architecture == verdict.framework.architecture)


def test_flipping_one_measurement_flips_the_verdict():
    measured = {"rag-gemma": {"f1": 0.7}, "fine-tuned": {"f1": 0.4}}
    assert decide(evidence(measured), profile()).architecture == "rag"
    measured["rag-gemma"]["seconds"] = 9.0        # now over the 3 s budget
    flipped = decide(evidence(measured), profile(latency_p95_s=3))
    assert (flipped.architecture, flipped.basis) == ("fine-tuning", "only-feasible")
    assert "rag-gemma is out: p95" in flipped.reason and "over the 3 s budget by" in flipped.reason
    assert any(f.startswith("rag-gemma has the higher answer F1") and "latency budget of 9" in f
               for f in flipped.flips)


def test_a_tie_falls_back_to_the_framework_and_says_so():
    measured = {"rag-gemma": {"f1": 0.5}, "fine-tuned": {"f1": 0.5, "cost": 0.0001}}
    verdict = decide(evidence(measured), profile())
    assert verdict.framework.architecture == "rag"
    assert (verdict.architecture, verdict.basis) == ("rag", "tie-framework")
    assert "tie on answer F1" in verdict.reason and "the framework's verdict, rag, decides" in verdict.reason
    assert verdict.deciding.low < 0 < verdict.deciding.high
    assert any("would" in f and "n ≈" in f for f in verdict.flips)


def test_a_tie_without_the_framework_s_architecture_goes_to_the_cheaper_one():
    measured = {"fine-tuned": {"f1": 0.5, "cost": 0.004}, "hybrid": {"f1": 0.5, "cost": 0.002}}
    verdict = decide(evidence(measured), profile())
    assert (verdict.architecture, verdict.basis) == ("hybrid", "tie-cheaper")
    assert "the cheaper one decides: hybrid at $0.002/query" in verdict.reason and verdict.agrees is False


def test_a_tuned_retriever_must_win_on_quality_to_be_recommended():
    tie = {"rag-gemma": {"f1": 0.5, "cost": 0.0011}, "rag-tuned-retriever": {"f1": 0.5, "cost": 0.001}}
    verdict = decide(evidence(tie), profile())
    assert (verdict.system, verdict.label, verdict.basis) == ("rag-gemma", "RAG", "tie-framework")
    lead = {"rag-gemma": {"f1": 0.4}, "rag-tuned-retriever": {"f1": 0.6}}
    verdict = decide(evidence(lead), profile())
    assert (verdict.system, verdict.label) == ("rag-tuned-retriever", "RAG with a fine-tuned retriever")


def test_an_infeasible_budget_names_the_failing_constraint_and_its_margin():
    measured = {"rag-gemma": {"cost": 0.03}, "fine-tuned": {"cost": 0.02}}
    verdict = decide(evidence(measured), profile(cost_ceiling_usd=0.01, monthly_queries=10_000))
    assert verdict.architecture is None and verdict.basis == "infeasible" and verdict.system is None
    assert "rag-gemma: $0.03/query at 10,000 queries/month, over the $0.01 ceiling by $0.02 (3x)" in verdict.reason
    assert verdict.label == "No measured system fits the profile" and verdict.agrees is False
    assert "fine-tuned would fit with a cost ceiling of $0.02/query (no volume helps" in verdict.flips[-1]
    assert all(c.feasible is False for c in verdict.contenders)


def test_zero_tolerance_without_a_safeguard_is_infeasible_and_with_one_is_added_to_the_label():
    measured = {"rag-gemma": {"f1": 0.7}}
    without = decide(evidence(measured), profile(hallucination_tolerance="zero-tolerance"))
    assert without.basis == "infeasible" and "needs a safeguard" in without.reason
    kept = decide(evidence(measured), profile(hallucination_tolerance="zero-tolerance", validation_available=True))
    assert kept.architecture == "rag" and kept.label == "RAG plus validation layer"


def test_a_hallucination_rate_over_the_tolerance_rules_a_contender_out():
    measured = {"rag-gemma": {"f1": 0.8, "hallucinated": 0.3}, "fine-tuned": {"f1": 0.5, "hallucinated": 0.0}}
    verdict = decide(evidence(measured), profile())
    assert verdict.architecture == "fine-tuning"
    assert "30.0% hallucinated, over the normal threshold 5% by 25.0 points" in verdict.reason


def test_reference_rows_are_never_recommended_even_when_they_measure_best():
    measured = {"closed-book": {"f1": 0.95}, "rag": {"f1": 0.95}, "rag-gemma": {"f1": 0.3},
                "fine-tuned": {"f1": 0.3}}
    verdict = decide(evidence(measured), profile())
    assert verdict.system in ("rag-gemma", "fine-tuned") and verdict.family == "local"
    assert {r.system for r in verdict.references} == {"closed-book", "rag"}
    assert "extractive" in next(r.why for r in verdict.references if r.system == "rag")


def test_extractive_search_contends_when_the_team_names_it():
    measured = {"rag": {"f1": 0.9}, "fine-tuned": {"f1": 0.3}}
    verdict = decide(evidence(measured, named=("rag", "fine-tuned")), profile())
    assert (verdict.system, verdict.family) == ("rag", "named")
    with pytest.raises(InputError, match="closed-book is closed-book, a reference row"):
        split_systems(list(SYSTEMS.values()), ("closed-book",))


def test_a_run_of_reference_rows_only_keeps_the_framework_s_verdict_and_says_it_was_not_measured():
    verdict = decide(evidence({"closed-book": {}, "rag": {}}), profile())
    assert verdict.basis == "not-measured" and verdict.agrees is None
    assert verdict.architecture == verdict.framework.architecture and verdict.measurements_source is None


def test_the_issue_s_inverted_measurements_no_longer_give_rag():
    """python-docs-assistant; RAG p95 100 s, $5/query, 99 % hallucinated; fine-tuned perfect."""
    measured = {"rag-gemma": {"f1": 0.3, "seconds": 100.0, "cost": 5.0, "hallucinated": 0.99},
                "fine-tuned": {"f1": 1.0, "seconds": 0.2, "cost": 0.0005, "hallucinated": 0.0, }}
    verdict = decide(evidence(measured), load_example("python-docs-assistant"))
    assert verdict.architecture == "fine-tuning" and verdict.agrees is False
    assert verdict.framework.measurements_source == "eval run synthetic"


def test_streaming_lets_time_to_first_token_meet_the_budget_and_asks_for_caching_and_streaming():
    rows = records("rag-gemma", 0.6, seconds=6.0, cost=0.001, hallucinated=0.0, ttft=0.8)
    run = Evidence(run_id="s", systems=[SYSTEMS["rag-gemma"]], records=rows, resamples=200)
    verdict = decide(run, profile(latency_p95_s=2, streaming_ok=True))
    assert verdict.label == "RAG with caching and streaming"
    assert "time to first token p95 800 ms within the 2 s budget" in verdict.contenders[0].checks[0].text
    assert decide(run, profile(latency_p95_s=2, streaming_ok=False)).basis == "infeasible"


def test_cost_flips_at_the_break_even_volume_from_the_cost_report():
    measured = {"rag-gemma": {"f1": 0.4}, "fine-tuned": {"f1": 0.8}}
    run = evidence(measured)
    cost = {"volume_per_month": 100_000, "systems": [
        {"name": "rag-gemma", "variable_per_query_usd": 0.002, "fixed_monthly_usd": 0.0},
        {"name": "fine-tuned", "variable_per_query_usd": 0.001, "fixed_monthly_usd": 1000.0}]}
    run = Evidence(**{**run.__dict__, "cost": cost})
    verdict = decide(run, profile(cost_ceiling_usd=0.005, monthly_queries=50_000))
    assert verdict.system == "rag-gemma"
    assert any("fine-tuned has the higher answer F1" in f and "above 250,000 queries/month" in f
               for f in verdict.flips)
    assert decide(run, profile(cost_ceiling_usd=0.005, monthly_queries=300_000)).system == "fine-tuned"


def test_paired_difference_counts_failed_answers_as_wrong_and_estimates_the_questions_a_lead_needs():
    a = records("a", 0.6, 1, 0, 0, seed=1)
    b = records("b", 0.5, 1, 0, 0, seed=2)
    diff = paired_difference(a + b, "a", "b", lambda r: r.quality["token_f1"], resamples=300)
    assert diff.n == N and diff.difference == pytest.approx(diff.mean_a - diff.mean_b)
    spread = np.std([x.quality["token_f1"] - y.quality["token_f1"] for x, y in zip(a, b)], ddof=1)
    assert diff.n_needed == questions_needed(diff.difference, spread, 0.95)
    assert questions_needed(0.1, 0.3, 0.95) == 35 and questions_needed(0.0, 0.3, 0.95) is None


def test_a_config_naming_an_unknown_or_reference_contender_is_refused_before_the_run():
    from ragft.evaluate.config import config_from_mapping

    base = {"bench": "python-faq", "systems": "closed-book,rag"}
    assert config_from_mapping({**base, "contenders": ["rag"]}).contenders == ["rag"]
    with pytest.raises(InputError, match="config: contenders: no system named hybrid"):
        config_from_mapping({**base, "contenders": ["hybrid"]})
    with pytest.raises(InputError, match="closed-book is closed-book, a reference row"):
        config_from_mapping({**base, "contenders": ["closed-book"]})
