"""A neutral, fully answered profile (it gets plain RAG) that each test bends one answer at a time."""
from __future__ import annotations

import pytest

from ragft.advise import Profile

NEUTRAL = {
    "knowledge_valid_months": 12,
    "latency_p95_s": 4.0,
    "streaming_ok": True,
    "knowledge": "documents",
    "cost_ceiling_usd": 0.05,
    "monthly_queries": 100_000,
    "hallucination_tolerance": "normal",
    "validation_available": False,
    "expert_review_available": False,
    "labeled_examples": 500,
    "domain_terminology": False,
    "style_consistency": False,
    "two_systems_ok": False,
}

HYBRID_READY = {"labeled_examples": 20_000, "domain_terminology": True, "style_consistency": True,
                "two_systems_ok": True}


@pytest.fixture
def profile():
    def make(**changes) -> Profile:
        return Profile(**{**NEUTRAL, **changes})

    return make


def step(verdict, question: str):
    return next(s for s in verdict.trace if s.question == question)
