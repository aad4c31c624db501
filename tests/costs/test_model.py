"""Costs, break-evens and latencies computed by the model match arithmetic done by hand."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from ragft.costs.model import (
    RetrievalSpec, SystemSpec, TrainingSpec, break_even, estimate, monthly_cost_curve, spec_from_dict, system_cost,
)
from ragft.errors import InputError


def rag(vector_db="db-a", **extra):
    retrieval = RetrievalSpec(embedding_model="embed-a", vector_db=vector_db, k=4, chunk_tokens=250,
                              corpus_tokens=1_000_000, reindex_fraction_per_month=0.1, retrieval_ms=100)
    return SystemSpec(name="rag", model="chat-a", prompt_tokens=100, output_tokens=50, retrieval=retrieval,
                      amortize_months=10, tokens_per_s=50, **extra)


def fine_tuned(model="chat-a", **training):
    spec = TrainingSpec(examples=1000, tokens_per_example=500, epochs=2, retrain_every_weeks=13, **training)
    return SystemSpec(name="fine-tuned", model=model, fine_tuned=True, prompt_tokens=100, output_tokens=50,
                      training=spec, amortize_months=10, tokens_per_s=50)


def test_rag_cost_per_query_and_fixed_monthly_by_hand(catalog):
    cost = system_cost(rag(), 10_000, catalog)
    per_query = {line.item: line.usd for line in cost.per_query}
    assert per_query["generation input"] == pytest.approx((100 + 4 * 250) * 1.0 / 1e6)  # 0.0011
    assert per_query["generation output"] == pytest.approx(50 * 4.0 / 1e6)  # 0.0002
    assert per_query["query embedding"] == pytest.approx(100 * 0.1 / 1e6)  # 0.00001
    assert per_query["vector db query"] == pytest.approx(5.0 / 1e6)
    assert cost.variable_per_query_usd == pytest.approx(0.001315)
    vectors = 1_000_000 / 250  # 4,000
    storage = vectors * (256 * 4 + 1024) / 1e9 * 1.0  # 0.008192
    index_run = 1_000_000 * 0.1 / 1e6 + vectors * 2.0 / 1e6  # 0.108
    fixed = 20.0 + storage + index_run / 10 + index_run * 0.1
    assert cost.indexing_run_usd == pytest.approx(index_run)
    assert cost.fixed_monthly_usd == pytest.approx(fixed)  # 20.029792
    assert cost.monthly_usd == pytest.approx(fixed + 10_000 * 0.001315)
    assert cost.per_1k_queries_usd == pytest.approx((fixed + 10_000 * 0.001315) / 10)


def test_fine_tuned_training_is_amortized_and_retraining_priced_per_month(catalog):
    cost = system_cost(fine_tuned(), 10_000, catalog)
    run = 1000 * 500 * 2 * 10.0 / 1e6  # 1M training tokens x $10/1M = $10
    assert cost.training_run_usd == pytest.approx(run)
    assert cost.variable_per_query_usd == pytest.approx(100 * 2.0 / 1e6 + 50 * 8.0 / 1e6)  # 0.0006
    assert cost.fixed_monthly_usd == pytest.approx(run / 10 + run * (52 / 12) / 13)  # 1 + 3.333


def test_self_hosted_training_costs_gpu_hours_at_the_hourly_rate(catalog):
    cost = system_cost(fine_tuned("gpu-a"), 1000, catalog)
    assert cost.training_run_usd == pytest.approx(1_000_000 / 2000 / 3600 * 3.6)  # 500 s on a $3.60/h GPU = $0.50
    given = system_cost(fine_tuned("gpu-a", gpu_hours=2), 1000, catalog)
    assert given.training_run_usd == pytest.approx(2 * 3.6)


def test_break_even_is_solved_exactly_where_both_monthly_costs_meet(catalog):
    costs = [system_cost(rag("lancedb-local"), 10_000, catalog), system_cost(fine_tuned(), 10_000, catalog)]
    even = break_even(*costs)
    rag_fixed = 0.1 / 10 + 0.1 * 0.1  # free vector db: indexing amortized + re-indexing = 0.02
    ft_fixed = 1 + 10 * (52 / 12) / 13
    expected = (ft_fixed - rag_fixed) / (0.00131 - 0.0006)  # about 6,075 queries/month
    assert even.volume_per_month == pytest.approx(expected)
    assert costs[0].monthly_at(even.volume_per_month) == pytest.approx(costs[1].monthly_at(even.volume_per_month))
    assert (even.cheaper_below, even.cheaper_above) == ("rag", "fine-tuned")
    assert costs[0].monthly_at(expected / 2) < costs[1].monthly_at(expected / 2)
    assert costs[0].monthly_at(expected * 2) > costs[1].monthly_at(expected * 2)


def test_break_even_is_never_when_one_system_is_dearer_per_query_and_in_fixed_cost(catalog):
    costs = [system_cost(rag("db-a"), 10_000, catalog), system_cost(fine_tuned(), 10_000, catalog)]
    even = break_even(*costs)
    assert even.volume_per_month is None
    assert even.cheaper_below == even.cheaper_above == "fine-tuned"
    assert even.reason.startswith("never: rag per-query cost is higher")


def test_equal_per_query_cost_never_breaks_even_and_names_the_cheaper_fixed_cost(catalog):
    a = system_cost(rag(), 1000, catalog)
    b = system_cost(rag(extra_fixed_monthly_usd=7).model_copy(update={"name": "rag-plus"}), 1000, catalog)
    even = break_even(a, b)
    assert even.volume_per_month is None and even.cheaper_above == "rag"
    assert "$7.00/month" in even.reason


def test_estimate_reports_every_pair_and_a_curve_that_includes_the_break_even(catalog):
    report = estimate([rag("lancedb-local"), fine_tuned()], 10_000, catalog)
    [even] = report.break_evens
    assert even.volume_per_month in report.curve.volumes
    assert report.curve.volumes[0] == pytest.approx(100) and report.curve.volumes[-1] == pytest.approx(1_000_000)
    index = report.curve.volumes.index(even.volume_per_month)
    assert report.curve.monthly_usd["rag"][index] == pytest.approx(report.curve.monthly_usd["fine-tuned"][index])
    curve = monthly_cost_curve(report.systems, [1, 1000])
    assert curve.monthly_usd["fine-tuned"][1] == pytest.approx(report.system("fine-tuned").fixed_monthly_usd + 0.6)


def test_latency_adds_retrieval_prefill_first_token_and_output_time(catalog):
    report = estimate([rag(), fine_tuned()], 1000, catalog)
    assert report.system("rag").latency.total_ms == pytest.approx(100 + 400 + 1100 / 10_000 * 1000 + 50 / 50 * 1000)
    assert report.system("fine-tuned").latency.total_ms == pytest.approx(400 + 100 / 10_000 * 1000 + 1000)
    hosted = system_cost(fine_tuned("gpu-a").model_copy(update={"tokens_per_s": None}), 1000, catalog)
    assert hosted.latency.generation_ms == pytest.approx(50 / 50 * 1000)  # catalog stream speed: 50 tok/s
    assert "always-on GPU" in hosted.assumptions[0]


@pytest.mark.parametrize("volume", [-5, 0, float("nan")])
def test_non_positive_volume_is_refused(catalog, volume):
    with pytest.raises(InputError, match="volume_per_month must be a positive number"):
        estimate([rag()], volume, catalog)


def test_zero_tokens_per_second_and_training_without_fine_tuning_are_refused():
    with pytest.raises(InputError, match="field 'tokens_per_s'"):
        spec_from_dict({"name": "x", "model": "chat-a", "tokens_per_s": 0}, "systems.toml")
    with pytest.raises(ValidationError, match="fine_tuned is false"):
        SystemSpec(name="x", model="chat-a", training=TrainingSpec(examples=1, tokens_per_example=1))


def test_unknown_model_in_a_spec_fails_with_close_matches(catalog):
    from ragft.errors import NotFoundError

    with pytest.raises(NotFoundError, match="did you mean chat-a"):
        estimate([SystemSpec(name="x", model="chat-b")], 100, catalog)
