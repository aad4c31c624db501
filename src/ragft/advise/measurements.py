"""Measured numbers per system (from the eval bench or a cost model) that advise re-derives answers from."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ragft.advise.loading import read_mapping, validated

SystemName = Literal["rag", "fine-tuned", "hybrid", "closed-book"]

# The verdict's architecture -> the bench system that measures it.
SYSTEM_OF = {"rag": "rag", "fine-tuning": "fine-tuned", "hybrid": "hybrid"}


class SystemMeasurement(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    p95_latency_s: float | None = Field(None, gt=0, json_schema_extra={"allowed": "a number > 0 (seconds)"})
    cost_per_query_usd: float | None = Field(
        None, ge=0, json_schema_extra={"allowed": "a number >= 0 (USD per query, all-in)"}
    )
    hallucination_rate: float | None = Field(
        None, ge=0, le=1, json_schema_extra={"allowed": "a fraction between 0 and 1"}
    )


class Measurements(BaseModel):
    """Per-system measurements; `source` labels them in the trace (e.g. "measured", "eval run 3")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = "measured"
    systems: dict[SystemName, SystemMeasurement] = Field(
        default_factory=dict, json_schema_extra={"allowed": "tables named rag, fine-tuned, hybrid, closed-book"}
    )

    def get(self, system: str, metric: str) -> float | None:
        measured = self.systems.get(system)  # type: ignore[call-overload]
        return getattr(measured, metric) if measured is not None else None


def load_measurements(path: str | Path) -> Measurements:
    """Measurements from a file whose tables are systems: `[rag] p95_latency_s = 3.1` ..."""
    data: dict[str, Any] = read_mapping(path, "measurements")
    source = data.pop("source", "measured")
    return validated(Measurements, {"source": source, "systems": data}, str(path), hidden_root="systems")
