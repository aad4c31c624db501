"""The hybrid checklist: four conditions; all for documents, three (two systems required) when knowledge is both."""
from ragft.advise import advise

from .conftest import HYBRID_READY


def holds(verdict) -> dict:
    return {c.name: c.holds for c in verdict.hybrid_checklist}


def test_checklist_shows_which_of_the_four_conditions_hold(profile):
    verdict = advise(profile(labeled_examples=10_000, domain_terminology=True, style_consistency=None,
                             two_systems_ok=False))
    assert holds(verdict) == {"labeled_examples": True, "domain_terminology": True, "style_consistency": None,
                              "two_systems": False}


def test_documents_with_all_four_conditions_give_hybrid(profile):
    verdict = advise(profile(knowledge="documents", **HYBRID_READY))
    assert (verdict.architecture, verdict.decided_by) == ("hybrid", "hybrid-pays")
    assert verdict.label == "Hybrid (RAG + fine-tuned small model)"


def test_documents_with_three_conditions_stay_rag(profile):
    verdict = advise(profile(knowledge="documents", **{**HYBRID_READY, "labeled_examples": 9_999}))
    assert verdict.architecture == "rag"


def test_both_with_three_conditions_gives_hybrid(profile):
    verdict = advise(profile(knowledge="both", **{**HYBRID_READY, "labeled_examples": 2_000}))
    assert verdict.architecture == "hybrid"


def test_both_without_willingness_to_run_two_systems_stays_rag(profile):
    verdict = advise(profile(knowledge="both", **{**HYBRID_READY, "two_systems_ok": False}))
    assert verdict.architecture == "rag"


def test_conditions_left_to_data_do_not_count_as_holding(profile):
    verdict = advise(profile(knowledge="both", **{**HYBRID_READY, "domain_terminology": None,
                                                  "style_consistency": None}))
    assert verdict.architecture == "rag"


def test_learned_style_is_fine_tuning_even_when_the_hybrid_checklist_holds(profile):
    assert advise(profile(knowledge="style", **HYBRID_READY)).architecture == "fine-tuning"


def test_hybrid_with_tight_streaming_budget_and_expert_review_composes_the_label(profile):
    verdict = advise(profile(knowledge="both", latency_p95_s=1.0, streaming_ok=True,
                             hallucination_tolerance="zero-tolerance", expert_review_available=True, **HYBRID_READY))
    assert verdict.label == "Hybrid (RAG + fine-tuned small model) with caching and streaming plus expert review"
