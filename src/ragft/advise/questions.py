"""The five questions and the hybrid checklist: each turns a profile (and measurements) into a fact and a Step."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ragft.advise.measurements import SYSTEM_OF, Measurements
from ragft.advise.profile import Profile
from ragft.advise.rules import Question, Rules
from ragft.advise.verdict import Condition, Source, Step


@dataclass(frozen=True)
class Answer:
    step: Step
    fact: Any
    caveats: list[str] = field(default_factory=list)
    safeguards: list[str] = field(default_factory=list)


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def make_step(question: Question, qid: str, outcome: str, answer: str, source: Source, **values: Any) -> Step:
    rule = question.outcomes[outcome]
    return Step(
        question=qid,
        title=question.title,
        answer=answer,
        source=source,
        rule=outcome,
        quote=rule.quote,
        consequence=rule.consequence.format_map(_Blank(values)),
    )


def _usd(value: float) -> str:
    """Dollars without scientific notation, to about three significant digits ($0.00004073, $0.005, $1,250)."""
    if value >= 1 or value <= 0:
        return f"${value:,.2f}".replace(".00", "")
    decimals = 2 - math.floor(math.log10(value)) + 1
    return "$" + f"{value:.{decimals}f}".rstrip("0").rstrip(".")


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.3g} s"


def _measured(measurements: Measurements | None, system: str, metric: str) -> float | None:
    return measurements.get(system, metric) if measurements is not None else None


def _source(from_profile: bool, from_measurements: bool) -> Source:
    if from_profile and from_measurements:
        return "profile+measured"
    if from_measurements:
        return "measured"
    return "profile" if from_profile else "left to data"


def ask_stability(profile: Profile, rules: Rules) -> Answer:
    q, months = rules.q1, profile.knowledge_valid_months
    if months is None:
        return Answer(make_step(q, "q1", "unknown", "left to data", "left to data", min=q.min_stable_months), None)
    stable = months >= q.min_stable_months
    outcome = "stable" if stable else "changing"
    step = make_step(q, "q1", outcome, f"valid {months:g} months", "profile", months=months, min=q.min_stable_months)
    return Answer(step, stable)


def _latency_answer(profile: Profile, measured: float | None) -> str:
    budget = "budget left to data" if profile.latency_p95_s is None else f"p95 budget {profile.latency_p95_s:g} s"
    streaming = {True: "streaming ok", False: "no streaming", None: "streaming left to data"}[profile.streaming_ok]
    tail = f"; measured RAG p95 {_duration(measured)}" if measured is not None else ""
    return f"{budget}, {streaming}{tail}"


def ask_latency(profile: Profile, measurements: Measurements | None, rules: Rules) -> Answer:
    q, budget = rules.q2, profile.latency_p95_s
    measured = _measured(measurements, "rag", "p95_latency_s")
    answer = _latency_answer(profile, measured)
    if budget is None and measured is None:
        return Answer(make_step(q, "q2", "unknown", answer, "left to data"), None)
    if measured is not None:
        limit = budget if budget is not None else q.typical_budget_s
        tight = measured > limit
        detail = f"measured RAG p95 {_duration(measured)} vs {'budget' if budget is not None else 'typical'} {limit:g} s"
    else:
        tight = budget < q.tight_below_s
        detail = f"budget {budget:g} s {'<' if tight else '>='} {q.tight_below_s:g} s"
    outcome = "fits" if not tight else "tight-streaming" if profile.streaming_ok else "tight"
    caveats = []
    if tight and profile.streaming_ok is None:
        caveats.append("streaming left to data: if streaming is acceptable, RAG with caching and streaming fits (Q2)")
    source = _source(budget is not None, measured is not None)
    return Answer(make_step(q, "q2", outcome, answer, source, detail=detail), outcome, caveats)


def ask_knowledge(profile: Profile, rules: Rules) -> Answer:
    q, kind, examples = rules.q3, profile.knowledge, profile.labeled_examples
    enough = None if examples is None else examples >= q.finetune_min_examples
    fact = {"knowledge": kind, "enough_examples": enough}
    count = "an unknown number of" if examples is None else f"{examples:,}"
    if kind is None:
        return Answer(make_step(q, "q3", "unknown", "left to data", "left to data"), fact)
    outcome = "style-few-examples" if kind == "style" and enough is False else kind
    caveats = []
    if kind == "style" and enough is None:
        caveats.append(f"labeled examples left to data: fine-tuning needs {q.finetune_min_examples}+ (Q3)")
    answer = f"style, {count} labeled examples" if kind == "style" else kind
    step = make_step(q, "q3", outcome, answer, "profile",
                     examples=count, min=q.finetune_min_examples)
    return Answer(step, fact, caveats)


def _costs(profile: Profile, measurements: Measurements | None, rules: Rules):
    """(RAG low/high per query, fine-tuned per query, monthly volume used, whether any cost was measured)."""
    q = rules.q4
    volume = profile.monthly_queries if profile.monthly_queries is not None else q.reference_monthly_queries
    rag = _measured(measurements, "rag", "cost_per_query_usd")
    measured_finetuned = _measured(measurements, "fine-tuned", "cost_per_query_usd")
    rag_range = (rag, rag) if rag is not None else tuple(q.rag_per_query_usd)
    finetuned = measured_finetuned
    if finetuned is None:
        finetuned = q.finetuned_per_query_usd + q.finetune_training_usd_per_month / max(volume, 1)
    return rag_range, finetuned, volume, rag is not None or measured_finetuned is not None


def _cost_detail(rag: tuple[float, float], finetuned: float, volume: int, rules: Rules, measured: bool) -> str:
    rag_text = _usd(rag[0]) if rag[0] == rag[1] else f"{_usd(rag[0])}-{_usd(rag[1])[1:]}"
    detail = f"RAG {rag_text}/query, fine-tuned {_usd(finetuned)}/query at {volume:,} queries/month"
    q = rules.q4
    margin = (rag[0] + rag[1]) / 2 - q.finetuned_per_query_usd
    if not measured and margin > 0 and q.finetune_training_usd_per_month > 0:
        detail += f"; break-even ~{q.finetune_training_usd_per_month / margin:,.0f} queries/month"
    return detail


def ask_cost(profile: Profile, measurements: Measurements | None, rules: Rules) -> Answer:
    q, ceiling = rules.q4, profile.cost_ceiling_usd
    rag, finetuned, volume, measured = _costs(profile, measurements, rules)
    detail = _cost_detail(rag, finetuned, volume, rules, measured)
    volume_text = "volume left to data" if profile.monthly_queries is None else f"{volume:,} queries/month"
    ceiling_text = "ceiling left to data" if ceiling is None else f"ceiling ${ceiling:g}/query"
    answer = f"{ceiling_text}, {volume_text}"
    source = _source(ceiling is not None, measured)
    if ceiling is None:
        return Answer(make_step(q, "q4", "unknown", answer, source, detail=detail), None)
    if ceiling >= rag[1]:
        outcome = "fits"
    elif ceiling >= rag[0]:
        outcome = "uncertain"
    else:
        outcome = "rag-over-ceiling" if finetuned <= ceiling else "over-ceiling"
    caveats = []
    if profile.monthly_queries is None:
        caveats.append(f"monthly volume left to data: training amortized over {volume:,} queries/month (Q4)")
    return Answer(make_step(q, "q4", outcome, answer, source, detail=detail), outcome, caveats)


def _safeguards(profile: Profile) -> tuple[list[str], list[str]]:
    safeguards = [name for name, ok in (("validation layer", profile.validation_available),
                                        ("expert review", profile.expert_review_available)) if ok]
    if safeguards:
        return safeguards, []
    return ["validation layer"], ["no validation layer or expert review available yet: build one before launch (Q5)"]


def ask_hallucination(profile: Profile, measurements: Measurements | None, rules: Rules, architecture: str) -> Answer:
    q, tolerance = rules.q5, profile.hallucination_tolerance
    system = SYSTEM_OF[architecture]
    rate = _measured(measurements, system, "hallucination_rate")
    answer = (tolerance or "tolerance left to data") + ("" if rate is None else f"; measured {system} rate {rate:.1%}")
    source = _source(tolerance is not None, rate is not None)
    if tolerance is None and rate is None:
        return Answer(make_step(q, "q5", "unknown", answer, source), None)
    judged = tolerance or q.default_tolerance
    budget = q.max_hallucination_rate[judged]
    if judged == "zero-tolerance":
        outcome = "zero-tolerance"
    elif rate is not None and rate > budget:
        outcome = "over-budget"
    else:
        outcome = "acceptable"
    detail = f"{judged} budget {budget:.0%}" + ("" if rate is None else f", measured {rate:.1%}")
    safeguards, caveats = _safeguards(profile) if outcome != "acceptable" else ([], [])
    step = make_step(q, "q5", outcome, answer, source, detail=detail, tolerance=judged,
                     safeguards=" and ".join(safeguards))
    return Answer(step, outcome, caveats, safeguards)


def hybrid_checklist(profile: Profile, rules: Rules) -> list[Condition]:
    h, examples = rules.hybrid, profile.labeled_examples
    values = {
        "labeled_examples": (None if examples is None else examples >= h.min_labeled_examples,
                             "left to data" if examples is None else f"{examples:,} labeled examples"),
        "domain_terminology": (profile.domain_terminology, _yes_no(profile.domain_terminology)),
        "style_consistency": (profile.style_consistency, _yes_no(profile.style_consistency)),
        "two_systems": (profile.two_systems_ok, _yes_no(profile.two_systems_ok)),
    }
    return [Condition(name=name, text=text, answer=values[name][1], holds=values[name][0])
            for name, text in h.conditions.items()]


def _yes_no(value: bool | None) -> str:
    return {True: "yes", False: "no", None: "left to data"}[value]


def hybrid_pays(conditions: list[Condition], knowledge: str | None, rules: Rules) -> bool:
    """Enough conditions hold for this knowledge kind, and every required one holds."""
    needed = rules.hybrid.min_conditions.get(knowledge)  # type: ignore[call-overload]
    holds = {c.name: c.holds for c in conditions}
    if needed is None or any(holds.get(name) is not True for name in rules.hybrid.required):
        return False
    return sum(value is True for value in holds.values()) >= needed
