"""The measured verdict: which architecture a run's own measurements recommend for a profile.

Contenders are the systems a team could ship, read by one generator family (the base model, its fine-tune,
RAG and hybrid over it); the extractive answerer and closed-book are reference rows. A contender is feasible
when its measurements fit the profile's stated constraints (latency, cost, freshness, hallucination); among the
feasible ones, answer correctness decides with paired bootstrap differences on the shared questions. A tie goes
to the framework's verdict when it is among the tied, else to the cheaper. The framework's verdict stays beside
the measured one."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any, Callable, Literal, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict

from ragft.advise.profile import Profile
from ragft.advise.rules import Rules, load_rules
from ragft.advise.verdict import Verdict, label_for
from ragft.errors import InputError
from ragft.evaluate.records import QuestionRecord, RunTable, SystemConfig
from ragft.evaluate.stats import compare_detail

Architecture = Literal["rag", "fine-tuning", "hybrid"]
ARCHITECTURE_OF: dict[str, Architecture] = {"rag": "rag", "fine-tuned": "fine-tuning", "hybrid": "hybrid"}
TUNED = ("fine-tuned", "hybrid")
SECONDS_PER_MONTH = 30.44 * 24 * 3600
Basis = Literal["quality", "only-feasible", "tie-framework", "tie-cheaper", "infeasible", "not-measured"]
METRIC_LABELS = {"token_f1": "answer F1", "judge_correct": "judge correctness", "rouge_l": "ROUGE-L",
                 "exact_match": "exact match"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Check(_Model):
    """One profile constraint against one system's measurement; fits is None when nothing constrains it."""

    name: Literal["latency", "cost", "freshness", "hallucination"]
    measured: float | None
    limit: float | None
    unit: str                      # "s", "USD/query", "fraction"
    fits: bool | None
    text: str                      # "p95 1.20 s within the 2 s budget", "over the $0.01 ceiling by $4.99 (500x)"


class Contender(_Model):
    system: str
    kind: str
    architecture: Architecture
    quality: float | None           # mean correctness; None when the run has no answered question for it
    n: int
    cost_per_query_usd: float | None
    p95_s: float | None             # end to end, whatever the latency check read
    checks: list[Check]
    feasible: bool
    safeguards: list[str] = []
    caching_and_streaming: bool = False
    tuned_retriever: bool = False    # rag over an index built with a `ragft finetune retriever` folder


class Reference(_Model):
    system: str
    kind: str
    why: str


class PairedDifference(_Model):
    """a - b on the questions both answered, with its bootstrap interval and the questions a lead this size
    would need to separate at the observed spread."""

    a: str
    b: str
    metric: str
    n: int
    mean_a: float
    mean_b: float
    difference: float
    low: float
    high: float
    confidence: float
    better: str                     # a, b, or "tie"
    n_needed: int | None            # None when there is no lead to separate

    def text(self) -> str:
        return (f"{self.a} {self.mean_a:.3f} vs {self.b} {self.mean_b:.3f}: {self.difference:+.3f} "
                f"[{self.low:+.3f}, {self.high:+.3f}] ({self.confidence:.0%}, paired, {self.n} questions)")


class MeasuredVerdict(_Model):
    """verdict.json: the measured recommendation (architecture, label), the framework's verdict beside it."""

    architecture: Architecture | None       # None: nothing measured fits the profile
    system: str | None                      # the run's system that measured it
    label: str
    basis: Basis
    reason: str                             # one paragraph: the deciding measurement and why
    agrees: bool | None                     # with the framework; None when nothing was measured to agree with
    metric: str
    family: str                             # the generator family the contenders share, or "named"
    deciding: PairedDifference | None = None
    flips: list[str] = []
    contenders: list[Contender] = []
    references: list[Reference] = []
    comparisons: list[PairedDifference] = []
    caveats: list[str] = []
    measurements_source: str | None = None
    rules_source: str = ""
    framework: Verdict

    @property
    def metric_name(self) -> str:
        return METRIC_LABELS.get(self.metric, self.metric)


@dataclass(frozen=True)
class Evidence:
    """What the decision reads from a run: its systems, per-question records, table, cost report, run-level
    measurements (freshness trials) and bootstrap settings; `named` are the contenders a team named itself."""

    run_id: str
    systems: Sequence[SystemConfig]
    records: Sequence[QuestionRecord]
    table: RunTable | None = None
    cost: dict[str, Any] | None = None
    measurements: dict[str, Any] = field(default_factory=dict)
    resamples: int = 1000
    confidence: float = 0.95
    seed: int = 0
    named: Sequence[str] = ()


def evidence_of(run, named: Sequence[str] | None = None) -> Evidence:
    """Evidence from a run folder read by `ragft.evaluate.run_folder.load_run`."""
    manifest = run.manifest
    table = run.finished_table()
    if named is None:
        named = manifest.config.get("contenders") or ()
    cost = run.cost.model_dump(mode="json") if run.cost is not None else None
    return Evidence(run_id=manifest.run_id, systems=manifest.systems, records=run.records, table=table, cost=cost,
                    measurements=manifest.measurements, resamples=manifest.bootstrap_resamples,
                    confidence=manifest.confidence, seed=manifest.seed, named=tuple(named))


# --- paired differences ------------------------------------------------------------------------------

def paired_difference(records: Sequence[QuestionRecord], a: str, b: str,
                      value: Callable[[QuestionRecord], float | None], *, metric: str = "",
                      higher_is_better: bool = True, resamples: int = 1000, confidence: float = 0.95,
                      seed: int = 0) -> PairedDifference | None:
    """a - b on the (question, repeat) pairs both systems have a value for; None with fewer than two."""
    values_a = _values(records, a, value)
    values_b = _values(records, b, value)
    keys = sorted(values_a.keys() & values_b.keys())
    if len(keys) < 2:
        return None
    x = np.array([values_a[k] for k in keys])
    y = np.array([values_b[k] for k in keys])
    result = compare_detail(x, y, higher_is_better, True, resamples, confidence, seed)
    spread = float(np.std(x - y, ddof=1))
    return PairedDifference(a=a, b=b, metric=metric, n=len(keys), mean_a=result.mean_a, mean_b=result.mean_b,
                            difference=result.difference, low=result.low, high=result.high, confidence=confidence,
                            better={"a": a, "b": b, "tie": "tie"}[result.winner],
                            n_needed=questions_needed(result.difference, spread, confidence))


def questions_needed(difference: float, spread: float, confidence: float) -> int | None:
    """Paired questions for a mean difference this size to exclude zero at this per-question spread (normal
    approximation of the bootstrap interval); None when there is no difference."""
    if difference == 0:
        return None
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    return max(2, math.ceil((z * spread / abs(difference)) ** 2))


def _values(records, system: str, value) -> dict[tuple[str, int], float]:
    out = {}
    for record in records:
        if record.system == system:
            v = value(record)
            if v is not None:
                out[(record.question_id, record.repeat)] = float(v)
    return out


def correctness(metric: str) -> Callable[[QuestionRecord], float]:
    """Per-question correctness: a failed or abstaining answer is wrong (0), whatever else was scored."""
    def value(record: QuestionRecord) -> float:
        if record.error is not None or record.abstained:
            return 0.0
        return float(record.quality.get(metric, 0.0))
    return value


# --- contenders ----------------------------------------------------------------------------------------

def family_of(system: SystemConfig) -> str:
    """The generator family: generator + base model (+ server). A tuned system (adapter or tuned model) belongs
    to the family of the model it was tuned from."""
    options = system.generator_options
    parts = [system.generator, str(options.get("model") or ""), str(options.get("base_url") or "")]
    return "/".join(part for part in parts if part)


def split_systems(systems: Sequence[SystemConfig], named: Sequence[str] = ()) -> tuple[list[SystemConfig],
                                                                                       list[Reference], str]:
    """(contenders, reference rows, family). With `named`, exactly those systems contend."""
    by_name = {s.name: s for s in systems}
    if named:
        unknown = [n for n in named if n not in by_name]
        if unknown:
            raise InputError(f"contenders: no system named {', '.join(unknown)} in the run "
                             f"(systems: {', '.join(by_name)})")
        closed = [n for n in named if by_name[n].kind == "closed-book"]
        if closed:
            raise InputError(f"contenders: {', '.join(closed)} is closed-book, a reference row, not an "
                             "architecture to ship; name rag, fine-tuned or hybrid systems")
        chosen = [by_name[n] for n in named]
        return chosen, [_reference(s, "not named as a contender") for s in systems if s.name not in named], "named"
    candidates = [s for s in systems if s.kind in ARCHITECTURE_OF and s.generator != "extractive"]
    families: dict[str, list[SystemConfig]] = {}
    for system in candidates:
        families.setdefault(family_of(system), []).append(system)
    if not families:
        return [], [_reference(s, _why_reference(s, "")) for s in systems], ""
    family = max(families, key=lambda f: (len({s.kind for s in families[f]}),
                                          any(s.kind in TUNED for s in families[f])))
    contenders = families[family]
    return contenders, [_reference(s, _why_reference(s, family)) for s in systems if s not in contenders], family


def _reference(system: SystemConfig, why: str) -> Reference:
    return Reference(system=system.name, kind=system.kind, why=why)


def _why_reference(system: SystemConfig, family: str) -> str:
    if system.kind == "closed-book":
        return "reference: the generator alone, without retrieval or tuning"
    if system.generator == "extractive":
        return ("reference: the extractive answerer quotes retrieved sentences (no generator); name it as a "
                "contender if extractive search is your product")
    return f"reference: generator family {family_of(system)}, not the contenders' {family}"


# --- constraints ---------------------------------------------------------------------------------------

def _answered(records: Sequence[QuestionRecord], system: str) -> list[QuestionRecord]:
    return [r for r in records if r.system == system and r.error is None]


def _p95(values: list[float]) -> float | None:
    return float(np.quantile(values, 0.95)) if values else None


def _seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:,.3g} s" if value < 1000 else f"{value:,.0f} s"


def _usd(value: float) -> str:
    return f"${value:,.2f}" if value >= 1 else f"${value:.3g}"


def _over(measured: float, limit: float, show: Callable[[float], str], what: str) -> str:
    ratio = f" ({measured / limit:,.3g}x)" if limit > 0 else ""
    return f"over {what} by {show(measured - limit)}{ratio}"


def check_latency(records: Sequence[QuestionRecord], profile: Profile) -> tuple[Check, bool]:
    """(check, streaming needed): p95 end to end, or time to first token where streaming is acceptable."""
    totals = [r.timings["total"] for r in records if "total" in r.timings]
    ttfts = [r.timings["ttft"] for r in records if "ttft" in r.timings]
    total, ttft = _p95(totals), _p95(ttfts)
    budget = profile.latency_p95_s
    streamed = bool(profile.streaming_ok) and ttft is not None
    measured, what = (ttft, "time to first token p95") if streamed else (total, "p95")
    if measured is None:
        return Check(name="latency", measured=None, limit=budget, unit="s", fits=None,
                     text="not measured (no timings)"), False
    if budget is None:
        return Check(name="latency", measured=measured, limit=None, unit="s", fits=None,
                     text=f"{what} {_seconds(measured)}; no latency budget in the profile"), False
    fits = measured <= budget
    text = (f"{what} {_seconds(measured)} within the {budget:g} s budget" if fits else
            f"{what} {_seconds(measured)}, {_over(measured, budget, _seconds, f'the {budget:g} s budget')}")
    if streamed:
        text += f" (streaming acceptable; end to end p95 {_seconds(total)})" if total is not None else ""
    return Check(name="latency", measured=measured, limit=budget, unit="s", fits=fits, text=text), (
        streamed and fits and total is not None and total > budget)


def _cost_terms(system: str, evidence: Evidence, records: Sequence[QuestionRecord]) -> tuple[float, float] | None:
    """(variable USD per query, fixed USD per month) from the cost report, else the records' mean cost."""
    for row in (evidence.cost or {}).get("systems", []):
        if row.get("name") == system:
            return float(row["variable_per_query_usd"]), float(row["fixed_monthly_usd"])
    costs = [r.cost_usd for r in records if r.cost_usd is not None]
    return (float(np.mean(costs)), 0.0) if costs else None


def _volume(profile: Profile, evidence: Evidence) -> float:
    if profile.monthly_queries:
        return float(profile.monthly_queries)
    return float((evidence.cost or {}).get("volume_per_month") or 100_000)


def check_cost(system: str, evidence: Evidence, records: Sequence[QuestionRecord], profile: Profile) -> Check:
    terms = _cost_terms(system, evidence, records)
    ceiling = profile.cost_ceiling_usd
    if terms is None:
        return Check(name="cost", measured=None, limit=ceiling, unit="USD/query", fits=None, text="not priced")
    volume = _volume(profile, evidence)
    per_query = terms[0] + terms[1] / volume
    at = f"{_usd(per_query)}/query at {volume:,.0f} queries/month"
    if ceiling is None:
        return Check(name="cost", measured=per_query, limit=None, unit="USD/query", fits=None,
                     text=f"{at}; no cost ceiling in the profile")
    fits = per_query <= ceiling
    text = (f"{at} within the {_usd(ceiling)} ceiling" if fits else
            f"{at}, {_over(per_query, ceiling, _usd, f'the {_usd(ceiling)} ceiling')}")
    return Check(name="cost", measured=per_query, limit=ceiling, unit="USD/query", fits=fits, text=text)


def break_even_volume(variable: float, fixed: float, ceiling: float) -> float | None:
    """Monthly queries above which variable + fixed / volume fits the ceiling; None when it never does."""
    if variable >= ceiling:
        return None
    return fixed / (ceiling - variable)


def check_freshness(system: SystemConfig, evidence: Evidence, profile: Profile, rules: Rules) -> Check:
    months = profile.knowledge_valid_months
    limit = None if months is None else months * SECONDS_PER_MONTH * rules.measured.max_stale_fraction
    value = note = None
    row = next((r for r in (evidence.table.rows if evidence.table else []) if r.key == "freshness"), None)
    if row is not None and system.name in row.values:
        value, note = row.values[system.name].value, row.values[system.name].note
    trials = evidence.measurements.get("freshness", {}).get(system.name) or []
    what = "retrain and deploy" if system.kind == "fine-tuned" else "update"
    if value is None and trials and not any(t.get("cited") for t in trials):
        return Check(name="freshness", measured=None, limit=limit, unit="s", fits=False if limit else None,
                     text=f"0/{len(trials)} trials: answers never cited a newly added document")
    if value is None:
        return Check(name="freshness", measured=None, limit=limit, unit="s", fits=None,
                     text=f"not measured ({note or 'no freshness row'})")
    if limit is None:
        return Check(name="freshness", measured=value, limit=None, unit="s", fits=None,
                     text=f"{what} {_seconds(value)}; knowledge validity not in the profile")
    fits = value <= limit
    share = f"{rules.measured.max_stale_fraction:.0%} of {months:g} months"
    text = (f"{what} {_seconds(value)} within {_seconds(limit)} ({share})" if fits else
            f"{what} {_seconds(value)}, {_over(value, limit, _seconds, f'{_seconds(limit)} ({share})')}")
    return Check(name="freshness", measured=value, limit=limit, unit="s", fits=fits, text=text)


def _safeguards(profile: Profile) -> list[str]:
    return [name for name, ok in (("validation layer", profile.validation_available),
                                  ("expert review", profile.expert_review_available)) if ok]


def check_hallucination(records: Sequence[QuestionRecord], profile: Profile, rules: Rules) -> tuple[Check, list[str]]:
    """(check, safeguards the system must ship with)."""
    flags = [float(r.hallucinated) for r in records if r.hallucinated is not None]
    rate = float(np.mean(flags)) if flags else None
    tolerance = profile.hallucination_tolerance
    shown = "not measured" if rate is None else f"{rate:.1%} hallucinated"
    if tolerance is None:
        return Check(name="hallucination", measured=rate, limit=None, unit="fraction", fits=None,
                     text=f"{shown}; no tolerance in the profile"), []
    limit = rules.q5.max_hallucination_rate[tolerance]
    if tolerance in rules.measured.safeguard_required:
        safeguards = _safeguards(profile)
        if not safeguards:
            return Check(name="hallucination", measured=rate, limit=limit, unit="fraction", fits=False,
                         text=f"{shown}; {tolerance} needs a safeguard that refuses unsupported answers, and the "
                              "profile has neither a validation layer nor expert review"), []
        return Check(name="hallucination", measured=rate, limit=limit, unit="fraction", fits=True,
                     text=f"{shown}; {tolerance}: every answer goes through {' and '.join(safeguards)}"), safeguards
    if rate is None:
        return Check(name="hallucination", measured=None, limit=limit, unit="fraction", fits=None, text=shown), []
    fits = rate <= limit
    text = (f"{shown}, within the {tolerance} threshold {limit:.0%}" if fits else
            f"{shown}, over the {tolerance} threshold {limit:.0%} by {(rate - limit) * 100:.1f} points")
    return Check(name="hallucination", measured=rate, limit=limit, unit="fraction", fits=fits, text=text), []


def assess(system: SystemConfig, evidence: Evidence, profile: Profile, rules: Rules, metric: str) -> Contender:
    answered = _answered(evidence.records, system.name)
    mine = [r for r in evidence.records if r.system == system.name]
    scores = [correctness(metric)(r) for r in mine]
    latency, streaming = check_latency(answered, profile)
    cost = check_cost(system.name, evidence, answered, profile)
    hallucination, safeguards = check_hallucination(answered, profile, rules)
    checks = [latency, cost, check_freshness(system, evidence, profile, rules), hallucination]
    return Contender(system=system.name, kind=system.kind, architecture=ARCHITECTURE_OF[system.kind],
                     quality=float(np.mean(scores)) if scores else None, n=len(scores),
                     cost_per_query_usd=cost.measured, checks=checks,
                     p95_s=_p95([r.timings["total"] for r in answered if "total" in r.timings]),
                     feasible=bool(answered) and all(c.fits is not False for c in checks),
                     safeguards=safeguards, caching_and_streaming=streaming,
                     tuned_retriever=bool(system.retriever))


# --- the decision --------------------------------------------------------------------------------------

def quality_metric(records: Sequence[QuestionRecord], rules: Rules) -> str:
    recorded = {name for r in records for name in r.quality}
    return next((name for name in rules.measured.quality_metrics if name in recorded),
                rules.measured.quality_metrics[-1])


def framework_measurements(contenders: Sequence[Contender], run_id: str):
    """The framework's inputs from the contenders (the first of each kind), not from reference rows."""
    from ragft.advise.measurements import Measurements, SystemMeasurement

    systems = {}
    for contender in contenders:
        if contender.kind in systems:
            continue
        values = {c.name: c.measured for c in contender.checks}
        systems[contender.kind] = SystemMeasurement(p95_latency_s=contender.p95_s or None,
                                                    cost_per_query_usd=values["cost"],
                                                    hallucination_rate=values["hallucination"])
    return Measurements(source=f"eval run {run_id}", systems=systems) if systems else None


def decide(evidence: Evidence, profile: Profile, rules: Rules | None = None) -> MeasuredVerdict:
    """The measured verdict for `profile` from `evidence`, with the framework's verdict beside it."""
    from ragft.advise import advise

    rules = rules or load_rules()
    metric = quality_metric(evidence.records, rules)
    systems, references, family = split_systems(evidence.systems, evidence.named)
    contenders = [assess(s, evidence, profile, rules, metric) for s in systems]
    measurements = framework_measurements(contenders, evidence.run_id)
    framework = advise(profile, measurements, rules)
    comparisons = [d for i, a in enumerate(contenders) for b in contenders[i + 1:]
                   if (d := paired_difference(evidence.records, a.system, b.system, correctness(metric),
                                              metric=metric, resamples=evidence.resamples,
                                              confidence=evidence.confidence, seed=evidence.seed)) is not None]
    common = dict(metric=metric, family=family, contenders=contenders, references=references,
                  comparisons=comparisons, framework=framework, rules_source=rules.source,
                  measurements_source=measurements.source if measurements else None)
    if not contenders:
        return _not_measured(framework, references, common)
    feasible = [c for c in contenders if c.feasible]
    if not feasible:
        return _infeasible(contenders, evidence, profile, common)
    return _choose(feasible, contenders, comparisons, framework, evidence, profile, common)


def _name(metric: str) -> str:
    return METRIC_LABELS.get(metric, metric)


def _not_measured(framework: Verdict, references: list[Reference], common: dict) -> MeasuredVerdict:
    reason = ("No contender was measured: every system of this run is a reference row ("
              + "; ".join(f"{r.system}: {r.why}" for r in references) + "). The framework's verdict stands, "
              "untested by this run; measure a generator's RAG, fine-tuned or hybrid system to test it.")
    return MeasuredVerdict(architecture=framework.architecture, system=None, label=framework.label,
                           basis="not-measured", reason=reason, agrees=None, flips=[],
                           caveats=list(framework.caveats), **common)


def _infeasible(contenders: list[Contender], evidence: Evidence, profile: Profile, common: dict) -> MeasuredVerdict:
    lines = []
    for c in contenders:
        failing = [check.text for check in c.checks if check.fits is False] or ["no answered question"]
        lines.append(f"{c.system}: " + "; ".join(failing))
    flips = [flip for c in contenders for flip in _fixes(c, evidence, profile)]
    framework = common["framework"]
    tested = any(c.architecture == framework.architecture for c in contenders)
    return MeasuredVerdict(architecture=None, system=None, label="No measured system fits the profile",
                           basis="infeasible", reason="Every contender fails a constraint. " + " | ".join(lines),
                           agrees=False if tested else None, flips=flips, caveats=list(framework.caveats), **common)


def _cheapest(contenders: Sequence[Contender]) -> Contender:
    """Among tied contenders: one without a tuned retriever first (a retriever fine-tune must win on quality to
    be recommended: it is one more model to retrain as the documents change), then the lowest cost per query,
    then the faster."""
    return min(contenders, key=lambda c: (c.tuned_retriever,
                                          math.inf if c.cost_per_query_usd is None else c.cost_per_query_usd,
                                          _latency(c)))


def _latency(contender: Contender) -> float:
    value = next(c.measured for c in contender.checks if c.name == "latency")
    return math.inf if value is None else value


def _pair(comparisons: Sequence[PairedDifference], a: str, b: str) -> PairedDifference | None:
    """The comparison of a and b, oriented as a - b."""
    for d in comparisons:
        if (d.a, d.b) == (a, b):
            return d
        if (d.a, d.b) == (b, a):
            return d.model_copy(update={"a": a, "b": b, "mean_a": d.mean_b, "mean_b": d.mean_a,
                                        "difference": -d.difference, "low": -d.high, "high": -d.low})
    return None


def _choose(feasible: list[Contender], contenders: list[Contender], comparisons: list[PairedDifference],
            framework: Verdict, evidence: Evidence, profile: Profile, common: dict) -> MeasuredVerdict:
    metric = _name(common["metric"])
    best = max(feasible, key=lambda c: -math.inf if c.quality is None else c.quality)
    tied = [best] + [c for c in feasible if c is not best and
                     ((d := _pair(comparisons, best.system, c.system)) is None or d.better == "tie")]
    out = [c for c in contenders if not c.feasible]
    dropped = "".join(f" {c.system} is out: {'; '.join(k.text for k in c.checks if k.fits is False)}." for c in out)
    if len(feasible) == 1:
        chosen, basis = best, "only-feasible"
        reason = f"{best.system} is the only contender that fits the profile.{dropped}"
        deciding = None
    elif len(tied) == 1:
        chosen, basis = best, "quality"
        rival = max((c for c in feasible if c is not best), key=lambda c: c.quality or 0)
        deciding = _pair(comparisons, best.system, rival.system)
        reason = (f"{best.system} has the best {metric} of the contenders that fit, and its lead over every "
                  f"other excludes zero: {deciding.text()}.{dropped}")
    else:
        preferred = [c for c in tied if c.architecture == framework.architecture]
        names = ", ".join(c.system for c in tied)
        if preferred:
            chosen, basis = _cheapest(preferred), "tie-framework"
            reason = (f"{names} tie on {metric} (no interval excludes zero), so the framework's verdict, "
                      f"{framework.architecture}, decides among them: {chosen.system}.{dropped}")
        else:
            chosen, basis = _cheapest(tied), "tie-cheaper"
            rule = ("the cheaper one without a tuned retriever decides" if any(c.tuned_retriever for c in tied)
                    else "the cheaper one decides")
            reason = (f"{names} tie on {metric} (no interval excludes zero) and the framework's "
                      f"{framework.architecture} is not among them, so {rule}: {chosen.system} "
                      f"at {_cost_text(chosen)}.{dropped}")
        rival = max((c for c in tied if c is not chosen), key=lambda c: c.quality or 0)
        deciding = _pair(comparisons, chosen.system, rival.system)
        if deciding is not None:
            reason += f" Closest: {deciding.text()}."
    label = label_for(chosen.architecture, chosen.caching_and_streaming, chosen.safeguards, chosen.tuned_retriever)
    agrees = chosen.architecture == framework.architecture
    flips = _flips(chosen, tied, contenders, comparisons, evidence, profile, metric)
    return MeasuredVerdict(architecture=chosen.architecture, system=chosen.system, label=label, basis=basis,
                           reason=reason, agrees=agrees, deciding=deciding, flips=flips,
                           caveats=list(framework.caveats) + _caveats(chosen), **common)


def _cost_text(contender: Contender) -> str:
    value = contender.cost_per_query_usd
    return "an unknown cost" if value is None else f"{_usd(value)}/query"


def _caveats(chosen: Contender) -> list[str]:
    return [f"{chosen.system}: {check.name} not constrained ({check.text})" for check in chosen.checks
            if check.fits is None and check.measured is None and "not measured" in check.text]


def _flips(chosen: Contender, tied: list[Contender], contenders: list[Contender],
           comparisons: list[PairedDifference], evidence: Evidence, profile: Profile, metric: str) -> list[str]:
    flips = []
    for other in tied:
        d = _pair(comparisons, other.system, chosen.system)
        if other is chosen or d is None or d.n_needed is None:
            continue
        if d.difference > 0:
            flips.append(f"{other.system} would win if its {metric} lead of {d.difference:+.3f} held with "
                         f"n ≈ {d.n_needed} questions (this run: {d.n})")
        else:
            flips.append(f"{chosen.system}'s {metric} lead of {-d.difference:+.3f} over {other.system} would be "
                         f"decisive with n ≈ {d.n_needed} questions (this run: {d.n})")
    for other in contenders:
        if not other.feasible and (other.quality or 0) > (chosen.quality or 0):
            flips += [f"{other.system} has the higher {metric} ({other.quality:.3f} vs {chosen.quality or 0:.3f}) "
                      f"and would be in the running {fix}" for fix in _fix_texts(other, evidence, profile)]
    binding = _tightest(chosen)
    if binding:
        flips.append(binding)
    return flips


def _fixes(contender: Contender, evidence: Evidence, profile: Profile) -> list[str]:
    return [f"{contender.system} would fit {fix}" for fix in _fix_texts(contender, evidence, profile)]


def _fix_texts(contender: Contender, evidence: Evidence, profile: Profile) -> list[str]:
    fixes = []
    for check in contender.checks:
        if check.fits is not False:
            continue
        if check.name == "cost" and check.limit is not None:
            terms = _cost_terms(contender.system, evidence, _answered(evidence.records, contender.system))
            volume = None if terms is None else break_even_volume(terms[0], terms[1], check.limit)
            if volume is not None and terms[1] > 0:
                fixes.append(f"above {volume:,.0f} queries/month (cost ceiling {_usd(check.limit)})")
            elif check.measured is not None:
                fixes.append(f"with a cost ceiling of {_usd(check.measured)}/query" + (
                    f" (no volume helps: the per-query cost alone, {_usd(terms[0])}, is over the ceiling)"
                    if terms and terms[0] >= check.limit else ""))
        elif check.name == "latency" and check.measured is not None:
            fixes.append(f"with a latency budget of {_seconds(check.measured)}")
        elif check.name == "hallucination" and check.measured is not None and check.limit is not None \
                and "safeguard" not in check.text:
            fixes.append(f"with a hallucination tolerance of {check.measured:.1%}")
        elif check.name == "hallucination":
            fixes.append("with a validation layer or expert review (validation_available / expert_review_available)")
        elif check.name == "freshness" and check.measured is not None and profile.knowledge_valid_months:
            fixes.append(f"if knowledge stayed valid longer (its update takes {_seconds(check.measured)})")
        else:
            fixes.append(f"if its {check.name} were fixed ({check.text})")
    return fixes


def _tightest(chosen: Contender) -> str | None:
    """The constraint the chosen system fits with the least room, as what would rule it out."""
    slack = [(c.measured / c.limit, c) for c in chosen.checks
             if c.fits and c.measured is not None and c.limit and c.name in ("latency", "cost")]
    if not slack:
        return None
    _, check = max(slack, key=lambda item: item[0])
    show = _seconds if check.name == "latency" else _usd
    what = "a latency budget" if check.name == "latency" else "a cost ceiling"
    return f"{what} below {show(check.measured)} would rule out {chosen.system} ({check.text})"


def verdict_from_json(data: dict[str, Any]) -> MeasuredVerdict:
    """verdict.json as a MeasuredVerdict; a run written before the measured verdict (the framework's verdict
    alone) reads as not measured."""
    if "framework" in data:
        return MeasuredVerdict.model_validate(data)
    framework = Verdict.model_validate(data)
    return MeasuredVerdict(architecture=framework.architecture, system=None, label=framework.label,
                           basis="not-measured", agrees=None, metric="", family="", framework=framework,
                           reason="This run was written before ragft measured its verdicts: the framework's "
                                  "verdict only; re-derive with `ragft advise --run RUN_DIR`.",
                           caveats=list(framework.caveats), rules_source=framework.rules_source,
                           measurements_source=framework.measurements_source)
