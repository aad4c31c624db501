"""Questions 2-5: each outcome of each rule, with the answer's source (profile, measured, left to data)."""
import pytest

from ragft.advise import Measurements, advise

from .conftest import step


def measured(**systems) -> Measurements:
    return Measurements(systems=systems)


# Q2 latency

def test_q2_a_budget_of_2_seconds_or_more_does_not_constrain(profile):
    verdict = advise(profile(latency_p95_s=2.0, streaming_ok=False))
    assert step(verdict, "q2").rule == "fits"
    assert verdict.label == "RAG"


def test_q2_sub_2_second_budget_with_streaming_gives_rag_with_caching_and_streaming(profile):
    verdict = advise(profile(latency_p95_s=1.5, streaming_ok=True))
    assert step(verdict, "q2").rule == "tight-streaming"
    assert verdict.caching_and_streaming
    assert verdict.label == "RAG with caching and streaming"


def test_q2_sub_2_second_budget_without_streaming_warns_that_rag_is_too_slow(profile):
    verdict = advise(profile(latency_p95_s=1.5, streaming_ok=False))
    assert step(verdict, "q2").rule == "tight"
    assert not verdict.caching_and_streaming
    assert any("smaller, faster model" in caveat for caveat in verdict.caveats)


def test_q2_tight_budget_with_streaming_left_to_data_says_what_streaming_would_change(profile):
    verdict = advise(profile(latency_p95_s=1.0, streaming_ok=None))
    assert step(verdict, "q2").rule == "tight"
    assert any(caveat.startswith("streaming left to data") for caveat in verdict.caveats)


def test_q2_measured_rag_p95_above_the_budget_makes_it_tight(profile):
    assert step(advise(profile(latency_p95_s=3.0)), "q2").rule == "fits"
    verdict = advise(profile(latency_p95_s=3.0), measured(rag={"p95_latency_s": 3.2}))
    q2 = step(verdict, "q2")
    assert (q2.rule, q2.source) == ("tight-streaming", "profile+measured")
    assert "measured RAG p95 3.2 s" in q2.answer


def test_q2_measured_rag_p95_under_a_sub_2_second_budget_fits(profile):
    verdict = advise(profile(latency_p95_s=1.5), measured(rag={"p95_latency_s": 1.2}))
    assert step(verdict, "q2").rule == "fits"


def test_q2_budget_left_to_data_is_derived_from_measured_p95_against_the_typical_5_seconds(profile):
    slow = advise(profile(latency_p95_s=None, streaming_ok=False), measured(rag={"p95_latency_s": 6.0}))
    fast = advise(profile(latency_p95_s=None, streaming_ok=False), measured(rag={"p95_latency_s": 4.0}))
    assert (step(slow, "q2").rule, step(slow, "q2").source) == ("tight", "measured")
    assert step(fast, "q2").rule == "fits"


def test_q2_left_to_data_without_measurement_has_no_effect(profile):
    verdict = advise(profile(latency_p95_s=None))
    assert (step(verdict, "q2").rule, step(verdict, "q2").source) == ("unknown", "left to data")
    assert verdict.label == "RAG"


def test_q2_fine_tuning_verdict_gets_no_caching_and_streaming_add_on(profile):
    verdict = advise(profile(knowledge="style", labeled_examples=5000, latency_p95_s=1.0, streaming_ok=True))
    assert verdict.label == "Fine-tuning"


# Q3 knowledge kind

def test_q3_documents_give_rag(profile):
    verdict = advise(profile(knowledge="documents"))
    assert (step(verdict, "q3").rule, verdict.architecture) == ("documents", "rag")


def test_q3_learned_style_with_enough_examples_gives_fine_tuning(profile):
    verdict = advise(profile(knowledge="style", labeled_examples=100))
    assert (verdict.architecture, verdict.decided_by) == ("fine-tuning", "learned-style")


def test_q3_learned_style_with_fewer_than_100_examples_starts_with_rag(profile):
    verdict = advise(profile(knowledge="style", labeled_examples=99))
    assert (step(verdict, "q3").rule, verdict.architecture) == ("style-few-examples", "rag")


def test_q3_learned_style_with_examples_left_to_data_fine_tunes_with_a_caveat(profile):
    verdict = advise(profile(knowledge="style", labeled_examples=None))
    assert verdict.architecture == "fine-tuning"
    assert any("labeled examples left to data" in caveat for caveat in verdict.caveats)


def test_q3_knowledge_left_to_data_starts_with_rag(profile):
    verdict = advise(profile(knowledge=None))
    assert (step(verdict, "q3").rule, verdict.decided_by) == ("unknown", "start-with-rag")


def test_q3_unknown_kind_goes_to_fine_tuning_when_latency_and_cost_both_point_there(profile):
    verdict = advise(profile(knowledge=None, latency_p95_s=1.0, streaming_ok=False, cost_ceiling_usd=0.004,
                             monthly_queries=2_000_000, labeled_examples=1000))
    assert (verdict.architecture, verdict.decided_by) == ("fine-tuning", "latency-and-cost-point-to-fine-tuning")


# Q4 cost

@pytest.mark.parametrize(
    "ceiling, volume, rule",
    [(0.02, 100_000, "fits"), (0.01, 100_000, "uncertain"), (0.004, 2_000_000, "rag-over-ceiling"),
     (0.004, 10_000, "over-ceiling")],
)
def test_q4_compares_the_ceiling_with_rag_range_and_volume_amortized_fine_tuning(profile, ceiling, volume, rule):
    verdict = advise(profile(cost_ceiling_usd=ceiling, monthly_queries=volume))
    assert step(verdict, "q4").rule == rule


def test_q4_amortized_fine_tuning_cost_and_break_even_are_shown(profile):
    q4 = step(advise(profile(cost_ceiling_usd=0.004, monthly_queries=2_000_000)), "q4")
    # $0.0015 inference + $1,250/month training over 2M queries; break-even 1250 / (0.0125 - 0.0015).
    assert "fine-tuned $0.002125/query" in q4.consequence
    assert "break-even ~113,636 queries/month" in q4.consequence


def test_q4_rag_over_the_ceiling_is_a_caveat_for_a_rag_verdict(profile):
    verdict = advise(profile(cost_ceiling_usd=0.004, monthly_queries=2_000_000))
    assert verdict.architecture == "rag"
    assert any("above the cost ceiling" in caveat for caveat in verdict.caveats)


def test_q4_volume_left_to_data_amortizes_over_the_seed_reference_volume(profile):
    verdict = advise(profile(monthly_queries=None))
    assert any("100,000 queries/month" in caveat for caveat in verdict.caveats)


def test_q4_measured_costs_replace_the_estimates(profile):
    verdict = advise(profile(cost_ceiling_usd=0.025),
                     measured(rag={"cost_per_query_usd": 0.03}, **{"fine-tuned": {"cost_per_query_usd": 0.01}}))
    q4 = step(verdict, "q4")
    assert (q4.rule, q4.source) == ("rag-over-ceiling", "profile+measured")
    assert "RAG $0.03/query, fine-tuned $0.01/query" in q4.consequence
    assert verdict.measurements_source == "measured"


def test_q4_ceiling_left_to_data_has_no_effect(profile):
    verdict = advise(profile(cost_ceiling_usd=None))
    assert (step(verdict, "q4").rule, step(verdict, "q4").source) == ("unknown", "left to data")


# Q5 hallucination

@pytest.mark.parametrize(
    "validation, expert, label",
    [(True, False, "RAG plus validation layer"), (False, True, "RAG plus expert review"),
     (True, True, "RAG plus validation layer plus expert review")],
)
def test_q5_zero_tolerance_adds_the_available_safeguard(profile, validation, expert, label):
    verdict = advise(profile(hallucination_tolerance="zero-tolerance", validation_available=validation,
                             expert_review_available=expert))
    assert verdict.label == label


def test_q5_zero_tolerance_without_any_safeguard_available_still_requires_a_validation_layer(profile):
    verdict = advise(profile(hallucination_tolerance="zero-tolerance"))
    assert verdict.safeguards == ["validation layer"]
    assert any("build one before launch" in caveat for caveat in verdict.caveats)


def test_q5_normal_tolerance_needs_no_safeguard_without_measurements(profile):
    verdict = advise(profile(hallucination_tolerance="normal"))
    assert (step(verdict, "q5").rule, verdict.safeguards) == ("acceptable", [])


def test_q5_measured_rate_above_the_normal_budget_adds_a_safeguard(profile):
    over = advise(profile(validation_available=True), measured(rag={"hallucination_rate": 0.08}))
    within = advise(profile(validation_available=True), measured(rag={"hallucination_rate": 0.03}))
    assert (step(over, "q5").rule, over.safeguards) == ("over-budget", ["validation layer"])
    assert (step(within, "q5").rule, step(within, "q5").source) == ("acceptable", "profile+measured")


def test_q5_creative_tolerance_accepts_a_rate_the_normal_budget_would_not(profile):
    verdict = advise(profile(hallucination_tolerance="creative"), measured(rag={"hallucination_rate": 0.08}))
    assert verdict.safeguards == []


def test_q5_tolerance_left_to_data_judges_a_measured_rate_by_the_normal_budget(profile):
    verdict = advise(profile(hallucination_tolerance=None), measured(rag={"hallucination_rate": 0.08}))
    assert (step(verdict, "q5").rule, step(verdict, "q5").source) == ("over-budget", "measured")


def test_q5_reads_the_measured_rate_of_the_system_the_verdict_chose(profile):
    verdict = advise(profile(knowledge="style", labeled_examples=5000),
                     measured(rag={"hallucination_rate": 0.01}, **{"fine-tuned": {"hallucination_rate": 0.09}}))
    assert verdict.label == "Fine-tuning plus validation layer"
    assert "measured fine-tuned rate 9.0%" in step(verdict, "q5").answer


def test_q5_left_to_data_adds_nothing(profile):
    verdict = advise(profile(hallucination_tolerance=None))
    assert (step(verdict, "q5").rule, verdict.safeguards) == ("unknown", [])
