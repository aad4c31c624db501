"""Question 1 is a gate: "Start with question 1. If you answer no, stop. You probably do not need fine-tuning." """
from ragft.advise import advise
from ragft.advise.rules import load_rules

from .conftest import HYBRID_READY, step

GATE = "Start with question 1. If you answer no, stop. You probably do not need fine-tuning."


def test_q1_gate_stops_when_knowledge_expires_within_6_months(profile):
    verdict = advise(profile(knowledge_valid_months=2))
    assert (verdict.architecture, verdict.stopped_at, verdict.decided_by) == ("rag", "q1", "stop-at-q1")
    assert verdict.decision_quote == GATE
    assert step(verdict, "q1").rule == "changing"
    assert [step(verdict, q).source for q in ("q2", "q3", "q4")] == ["not asked"] * 3


def test_q1_stop_wins_even_when_every_other_answer_points_to_fine_tuning(profile):
    verdict = advise(profile(knowledge_valid_months=1, knowledge="style", latency_p95_s=1.0, streaming_ok=False,
                             cost_ceiling_usd=0.001, **HYBRID_READY))
    assert verdict.label == "RAG"
    assert not verdict.hybrid_reached


def test_q1_gate_passes_at_exactly_6_months(profile):
    verdict = advise(profile(knowledge_valid_months=6))
    assert verdict.stopped_at is None
    assert step(verdict, "q1").rule == "stable"
    assert step(verdict, "q2").source == "profile"


def test_q1_left_to_data_does_not_stop_but_fine_tuning_carries_a_caveat(profile):
    verdict = advise(profile(knowledge_valid_months=None, knowledge="style", labeled_examples=5000))
    assert verdict.architecture == "fine-tuning"
    assert step(verdict, "q1").source == "left to data"
    assert any("6+ months" in caveat for caveat in verdict.caveats)
    assert "knowledge_valid_months" in verdict.left_to_data


def test_q5_still_adds_a_safeguard_after_the_q1_stop(profile):
    verdict = advise(profile(knowledge_valid_months=1, hallucination_tolerance="zero-tolerance",
                             expert_review_available=True))
    assert verdict.label == "RAG plus expert review"
    assert step(verdict, "q5").source == "profile"


def test_rules_can_make_the_q1_stop_skip_question_5_too(profile):
    rules = load_rules().model_copy(update={"gate": load_rules().gate.model_copy(update={"ask_q5_after_stop": False})})
    verdict = advise(profile(knowledge_valid_months=1, hallucination_tolerance="zero-tolerance"), rules=rules)
    assert verdict.label == "RAG"
    assert step(verdict, "q5").source == "not asked"
