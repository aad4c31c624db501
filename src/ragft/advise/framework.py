"""The rules engine: the questions in the seed's order, the Q1 gate, the architecture from the decision table."""
from __future__ import annotations

from typing import Any

from ragft.advise.measurements import Measurements
from ragft.advise.profile import Profile
from ragft.advise.questions import (
    Answer,
    ask_cost,
    ask_hallucination,
    ask_knowledge,
    ask_latency,
    ask_stability,
    hybrid_checklist,
    hybrid_pays,
)
from ragft.advise.rules import Decision, Rules, load_rules
from ragft.advise.verdict import Step, Verdict, label_for
from ragft.errors import InputError

_USES_RAG = ("rag", "hybrid")


def advise(profile: Profile, measurements: Measurements | None = None, rules: Rules | None = None) -> Verdict:
    """The verdict for `profile`; measurements, where given, re-derive or check latency, cost and hallucination."""
    rules = rules or load_rules()
    q1 = ask_stability(profile, rules)
    stopped = q1.fact is False
    asked = [] if stopped else [ask_latency(profile, measurements, rules), ask_knowledge(profile, rules),
                                ask_cost(profile, measurements, rules)]
    checklist = hybrid_checklist(profile, rules)
    facts = _facts(q1, asked, hybrid_pays(checklist, profile.knowledge, rules) if not stopped else False)
    decision = decide(facts, rules)
    q5 = None
    if not stopped or rules.gate.ask_q5_after_stop:
        q5 = ask_hallucination(profile, measurements, rules, decision.architecture)
    caching = facts["latency"] == "tight-streaming" and decision.architecture in _USES_RAG
    safeguards = q5.safeguards if q5 else []
    answers = [a for a in [q1, *asked, q5] if a is not None]
    return Verdict(
        architecture=decision.architecture,
        caching_and_streaming=caching,
        safeguards=safeguards,
        label=label_for(decision.architecture, caching, safeguards),
        decided_by=decision.id,
        decision_quote=decision.quote,
        stopped_at="q1" if stopped else None,
        trace=_trace(answers, rules, stopped),
        hybrid_checklist=checklist,
        hybrid_reached=not stopped,
        caveats=[c for a in answers for c in a.caveats] + _architecture_caveats(facts, decision, rules),
        left_to_data=profile.left_to_data(),
        measurements_source=measurements.source if measurements is not None else None,
        rules_source=rules.source,
    )


def _facts(q1: Answer, asked: list[Answer], hybrid: bool) -> dict[str, Any]:
    if not asked:
        skipped = "not asked"
        return {"stable": q1.fact, "latency": skipped, "knowledge": skipped, "enough_examples": skipped,
                "cost": skipped, "hybrid": hybrid}
    latency, knowledge, cost = asked
    return {"stable": q1.fact, "latency": latency.fact, **knowledge.fact, "cost": cost.fact, "hybrid": hybrid}


def decide(facts: dict[str, Any], rules: Rules) -> Decision:
    """The first decision row whose `when` matches the facts (None is matched as "unknown")."""
    for row in rules.decisions:
        if all(_matches(facts.get(key), wanted) for key, wanted in row.when.items()):
            return row
    raise InputError("rules: no [[decisions]] row matched; end the list with a catch-all row (when = {})")


def _matches(fact: Any, wanted: Any) -> bool:
    value = "unknown" if fact is None else fact
    options = wanted if isinstance(wanted, list) else [wanted]
    return any(type(value) is type(option) and value == option for option in options)


def _trace(answers: list[Answer], rules: Rules, stopped: bool) -> list[Step]:
    steps = {a.step.question: a.step for a in answers}
    titles = {"q2": rules.q2.title, "q3": rules.q3.title, "q4": rules.q4.title, "q5": rules.q5.title}
    for qid, title in titles.items():
        if qid not in steps and stopped:
            steps[qid] = Step(question=qid, title=title, answer="-", source="not asked", rule="stopped-at-q1",
                              quote=rules.gate.quote, consequence="Not asked: stopped at question 1.")
    return [steps[qid] for qid in ("q1", "q2", "q3", "q4", "q5") if qid in steps]


def _architecture_caveats(facts: dict[str, Any], decision: Decision, rules: Rules) -> list[str]:
    caveats = []
    uses_rag = decision.architecture in _USES_RAG
    if uses_rag and facts["latency"] == "tight":
        caveats.append("RAG's p95 exceeds the budget without streaming: use a smaller, faster model, "
                       "cache answers, or revisit fine-tuning (Q2)")
    if uses_rag and facts["cost"] in ("rag-over-ceiling", "over-ceiling"):
        caveats.append("RAG is estimated above the cost ceiling: cut context tokens or raise the ceiling (Q4)")
    if decision.architecture != "rag" and facts["stable"] is None:
        caveats.append(f"knowledge validity left to data: fine-tuning holds only if it stays valid "
                       f"{rules.q1.min_stable_months:g}+ months (Q1)")
    return caveats
