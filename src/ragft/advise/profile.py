"""The product profile: what a team knows about its product, each answer optional ("left to data")."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ragft.advise.loading import read_mapping, validated

KnowledgeKind = Literal["documents", "style", "both"]
Tolerance = Literal["creative", "normal", "zero-tolerance"]

_BOOL = "true or false"


def _spec(allowed: str, description: str, **limits: Any) -> Any:
    return Field(None, description=description, json_schema_extra={"allowed": allowed}, **limits)


class Profile(BaseModel):
    """Answers to the five questions and the hybrid checklist; None means "left to data"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = _spec("a short text", "Product name, shown in reports.")
    description: str | None = _spec("a short text", "One line about the product.")
    knowledge_valid_months: float | None = _spec(
        "a number >= 0 (months)", "How long the knowledge stays valid, in months.", ge=0
    )
    latency_p95_s: float | None = _spec("a number > 0 (seconds)", "Latency budget at p95, in seconds.", gt=0)
    streaming_ok: bool | None = _spec(_BOOL, "Whether streaming tokens to the user is acceptable.")
    knowledge: KnowledgeKind | None = _spec(
        "one of documents, style, both", "Where the knowledge lives: documents, learned style, or both."
    )
    cost_ceiling_usd: float | None = _spec("a number >= 0 (USD per query)", "Cost ceiling per query, USD.", ge=0)
    monthly_queries: int | None = _spec("a whole number >= 0", "Expected queries per month.", ge=0)
    hallucination_tolerance: Tolerance | None = _spec(
        "one of creative, normal, zero-tolerance", "How much hallucination the product can tolerate."
    )
    validation_available: bool | None = _spec(_BOOL, "Whether an automated validation layer can be built/used.")
    expert_review_available: bool | None = _spec(_BOOL, "Whether experts can review answers.")
    labeled_examples: int | None = _spec("a whole number >= 0", "Labeled input/output examples available.", ge=0)
    domain_terminology: bool | None = _spec(_BOOL, "Whether the domain has terminology to internalize.")
    style_consistency: bool | None = _spec(_BOOL, "Whether users care about consistency and style.")
    two_systems_ok: bool | None = _spec(_BOOL, "Whether the team will maintain two systems (vector DB + model).")

    def left_to_data(self) -> list[str]:
        """The answer fields not given (name and description are labels, not answers)."""
        return [name for name in ANSWER_FIELDS if getattr(self, name) is None]


ANSWER_FIELDS = tuple(name for name in Profile.model_fields if name not in ("name", "description"))


def profile_from_mapping(data: dict[str, Any], where: str = "profile", names: dict[str, str] | None = None) -> Profile:
    """A Profile from plain data; errors name `where` (a file, "flags") and the field (or its flag in `names`)."""
    return validated(Profile, data, where, names)


def load_profile(path: str | Path, overrides: dict[str, Any] | None = None) -> Profile:
    """A Profile from a TOML/YAML/JSON file, with `overrides` (already-checked values) taking precedence."""
    data = read_mapping(path, "profile")
    profile_from_mapping(data, str(path))
    return profile_from_mapping({**data, **(overrides or {})}, str(path))
