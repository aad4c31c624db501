"""The verdict: an architecture, its add-ons, and the trace of how each question led there."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Source = Literal["profile", "measured", "profile+measured", "left to data", "not asked"]

_NAMES = {"rag": "RAG", "fine-tuning": "Fine-tuning", "hybrid": "Hybrid (RAG + fine-tuned small model)"}


class Step(BaseModel):
    """One question: the answer and where it came from, the rule that fired, the seed's words, the effect."""

    model_config = ConfigDict(frozen=True)

    question: str
    title: str
    answer: str
    source: Source
    rule: str
    quote: str
    consequence: str


class Condition(BaseModel):
    """One hybrid condition: holds True/False, or None when left to data."""

    model_config = ConfigDict(frozen=True)

    name: str
    text: str
    answer: str
    holds: bool | None


class Verdict(BaseModel):
    model_config = ConfigDict(frozen=True)

    architecture: Literal["rag", "fine-tuning", "hybrid"]
    caching_and_streaming: bool
    safeguards: list[Literal["validation layer", "expert review"]]
    label: str
    decided_by: str
    decision_quote: str
    stopped_at: str | None
    trace: list[Step]
    hybrid_checklist: list[Condition]
    hybrid_reached: bool
    caveats: list[str]
    left_to_data: list[str]
    measurements_source: str | None
    rules_source: str


def label_for(architecture: str, caching_and_streaming: bool, safeguards: list[str],
              tuned_retriever: bool = False) -> str:
    """"RAG with caching and streaming plus validation layer", "RAG with a fine-tuned retriever" and the like."""
    label = _NAMES[architecture]
    if tuned_retriever:
        label += " with a fine-tuned retriever"
    if caching_and_streaming:
        label += " with caching and streaming"
    for safeguard in safeguards:
        label += f" plus {safeguard}"
    return label
