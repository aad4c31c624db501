"""Cost and latency of RAG, fine-tuned and hybrid systems from a sourced, dated price catalog.

Public API (names resolve lazily; matplotlib and tiktoken load only when used):
    load_catalog(overrides=None) -> Catalog
    estimate(systems, volume_per_month, catalog=None, volumes=None, assumptions=()) -> CostReport
    system_cost(spec, volume_per_month, catalog) -> SystemCost
    break_even(a: SystemCost, b: SystemCost) -> BreakEven
    monthly_cost_curve(costs, volumes) -> CostCurve
    standard_systems(inputs: CostInputs) -> list[SystemSpec]
    counter_for(tokenizer) / measure_prompts / measure_corpus / measure_training_set
    write_cost_chart(report, directory) -> [png, svg]
    load_scenario(name_or_path) / run_scenario(scenario, catalog=None) -> ScenarioResult
"""
from __future__ import annotations

from ragft.lazy import lazy_exports

_EXPORTS = {
    "Catalog": "ragft.costs.prices",
    "load_catalog": "ragft.costs.prices",
    "SystemSpec": "ragft.costs.model",
    "RetrievalSpec": "ragft.costs.model",
    "TrainingSpec": "ragft.costs.model",
    "SystemCost": "ragft.costs.model",
    "CostReport": "ragft.costs.model",
    "BreakEven": "ragft.costs.model",
    "CostCurve": "ragft.costs.model",
    "Latency": "ragft.costs.model",
    "estimate": "ragft.costs.model",
    "system_cost": "ragft.costs.model",
    "break_even": "ragft.costs.model",
    "monthly_cost_curve": "ragft.costs.model",
    "estimate_latency": "ragft.costs.model",
    "TokenCounter": "ragft.costs.tokens",
    "counter_for": "ragft.costs.tokens",
    "measure_prompts": "ragft.costs.tokens",
    "measure_corpus": "ragft.costs.tokens",
    "measure_training_set": "ragft.costs.tokens",
    "write_cost_chart": "ragft.costs.charts",
    "CostInputs": "ragft.costs.scenario",
    "standard_systems": "ragft.costs.scenario",
    "load_scenario": "ragft.costs.scenario",
    "run_scenario": "ragft.costs.scenario",
    "ScenarioResult": "ragft.costs.scenario",
}

__getattr__ = lazy_exports(__name__, _EXPORTS)


__all__ = sorted(_EXPORTS)
