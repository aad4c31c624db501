"""The decision rules as typed data: the packaged rules.toml, optionally overlaid by a user's rules file."""
from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ragft.advise.loading import read_mapping, validated

Architecture = Literal["rag", "fine-tuning", "hybrid"]
FactValue = str | bool | list[str | bool]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Outcome(_Data):
    quote: str
    consequence: str


class Question(_Data):
    title: str
    outcomes: dict[str, Outcome]


class Q1(Question):
    min_stable_months: float = Field(gt=0)


class Q2(Question):
    tight_below_s: float = Field(gt=0)
    typical_budget_s: float = Field(gt=0)


class Q3(Question):
    finetune_min_examples: int = Field(ge=0)


class Q4(Question):
    rag_per_query_usd: tuple[float, float]
    finetuned_per_query_usd: float = Field(ge=0)
    finetune_training_usd_per_month: float = Field(ge=0)
    reference_monthly_queries: int = Field(gt=0)


class Q5(Question):
    max_hallucination_rate: dict[Literal["creative", "normal", "zero-tolerance"], float]
    default_tolerance: Literal["creative", "normal", "zero-tolerance"]


Tolerance = Literal["creative", "normal", "zero-tolerance"]


class Measured(_Data):
    """How the measured verdict reads a run: safeguards per tolerance, freshness, the correctness metric."""

    safeguard_required: list[Tolerance]
    max_stale_fraction: float = Field(gt=0, le=1)
    quality_metrics: list[str] = Field(min_length=1)


class Gate(_Data):
    quote: str
    ask_q5_after_stop: bool


class Hybrid(_Data):
    title: str
    quote: str
    min_labeled_examples: int = Field(ge=0)
    min_conditions: dict[Literal["documents", "both"], int]
    required: list[Literal["labeled_examples", "domain_terminology", "style_consistency", "two_systems"]]
    conditions: dict[Literal["labeled_examples", "domain_terminology", "style_consistency", "two_systems"], str]


class Decision(_Data):
    id: str
    when: dict[Literal["stable", "latency", "knowledge", "enough_examples", "cost", "hybrid"], FactValue]
    architecture: Architecture
    quote: str


class Rules(_Data):
    version: str
    source: str
    gate: Gate
    q1: Q1
    q2: Q2
    q3: Q3
    q4: Q4
    q5: Q5
    hybrid: Hybrid
    measured: Measured
    decisions: list[Decision] = Field(min_length=1)


@lru_cache(maxsize=1)
def _packaged() -> dict[str, Any]:
    text = resources.files("ragft.advise").joinpath("rules.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def _overlay(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; any other value (lists included) replaces the packaged one."""
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = _overlay(base[key], value)
        else:
            merged[key] = value
    return merged


def load_rules(path: str | Path | None = None) -> Rules:
    """The packaged rules, with the tables of `path` (partial is fine: `[q1] min_stable_months = 3`) on top."""
    if path is None:
        return validated(Rules, _packaged(), "ragft/advise/rules.toml")
    return validated(Rules, _overlay(_packaged(), read_mapping(path, "rules")), str(path))
