"""What a report says, computed once from a run and rendered twice (HTML and Markdown)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ragft.evaluate.records import MetricValue, QuestionRecord, TableRow
from ragft.evaluate.run_folder import Run
from ragft.rag.injection import flag
from ragft.report import charts

RETRIEVAL_METRICS = ("hit_at_1", "hit@1", "recall_at_k", "recall@k", "mrr", "ndcg_at_10", "ndcg@10")
F1_KEYS = ("token_f1", "f1", "rouge_l")
METRIC_NAMES = {"hit_at_1": "Hit@1", "hit@1": "Hit@1", "recall_at_k": "Recall@k", "recall@k": "Recall@k",
                "mrr": "MRR", "ndcg_at_10": "nDCG@10", "ndcg@10": "nDCG@10", "token_f1": "Token F1", "f1": "F1",
                "rouge_l": "ROUGE-L", "exact_match": "Exact match"}


def metric_name(key: str) -> str:
    return METRIC_NAMES.get(key, key)
WORST_PER_SYSTEM = 3


@dataclass(frozen=True)
class Cell:
    system: str
    text: str                 # "0.82", "$4.10", "—"
    spread: str               # "± 0.04" or ""
    interval: str             # "95% CI 0.78–0.86" or ""
    winner: bool
    method: str
    note: str
    n: int


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    direction: str            # "higher is better" / "lower is better"
    cells: list[Cell]
    winner: str
    winner_method: str
    seed_claim: str
    headline: bool            # one of the seed's production-table rows (it carries the seed's claim)


@dataclass(frozen=True)
class LatencyStats:
    system: str
    n: int
    p50: float
    p95: float
    mean: float


@dataclass(frozen=True)
class Worst:
    record: QuestionRecord
    why: str                  # "error", "hallucinated", "F1 0.12"


@dataclass
class ReportContent:
    run: Run
    generated_at: str
    systems: list[str]
    rows: list[Row]
    methods: list[tuple[str, list[str]]]
    cost_svg: str | None
    latency_svg: str | None
    latency: list[LatencyStats]
    retrieval_svg: str | None
    retrieval: dict[str, dict[str, float]]
    quality: dict[str, dict[str, float]]
    quality_metrics: list[str]
    worst: list[Worst]
    prices: list[str]
    assumptions: list[str]
    provenance: list[tuple[str, str]]
    errors: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    injection: list = field(default_factory=list)      # ragft.rag.injection flags on retrieved contexts


def build_content(run: Run, now: dt.datetime | None = None) -> ReportContent:
    table = run.finished_table()
    systems = list(table.systems)
    latency_samples = _latency_samples(run.records)
    retrieval = _means(run.records, "retrieval", systems)
    quality = _means(run.records, "quality", systems)
    metrics = [m for m in RETRIEVAL_METRICS if any(m in v for v in retrieval.values())] or sorted(
        {m for v in retrieval.values() for m in v})
    return ReportContent(
        run=run,
        generated_at=(now or dt.datetime.now(dt.timezone.utc)).strftime("%Y-%m-%d %H:%M UTC"),
        systems=systems,
        rows=[_row(row, systems, table.confidence) for row in table.rows],
        methods=_methods(table.rows),
        cost_svg=charts.cost_chart(run.cost, systems) if run.cost is not None else None,
        latency_svg=charts.latency_chart(latency_samples, systems) if latency_samples else None,
        latency=[_latency_stats(name, latency_samples[name]) for name in systems if name in latency_samples],
        retrieval_svg=charts.bar_chart(retrieval, metrics, systems, names=METRIC_NAMES) if retrieval else None,
        retrieval=retrieval,
        quality=quality,
        quality_metrics=list(dict.fromkeys(m for values in quality.values() for m in values)),
        worst=worst_answers(run.records, systems),
        prices=_prices(run.cost),
        assumptions=_assumptions(run),
        provenance=_provenance(run),
        errors=sum(1 for q in run.records if q.error),
        injection=flag((ctx.chunk_id, ctx.text) for q in run.records for ctx in q.contexts),
    )


def _formatter(unit: str, magnitude: float) -> Callable[[float], str]:
    unit = unit.strip()
    if unit.lower() in ("usd", "$"):
        from ragft.costs.model import usd

        return usd
    if unit in ("fraction", "%"):
        scale = 100 if unit == "fraction" else 1
        return lambda v: f"{v * scale:.1f}%"
    if unit == "s":
        return charts.seconds
    return lambda v: (f"{v:,.0f}" if abs(magnitude) >= 100 else f"{v:.3g}") + (f" {unit}" if unit else "")


def format_value(value: MetricValue) -> str:
    """A metric value in its unit: $4.10, 1.84 s, 320 ms, 91.0%, 0.823, 14 days."""
    if value.value is None:
        return "—"
    text = _formatter(value.unit, value.value)(value.value)
    return f"{text} ({value.caveat})" if value.caveat else text


def _spread(value: MetricValue) -> str:
    if value.value is None or value.low is None or value.high is None or value.high <= value.low:
        return ""
    return "± " + _formatter(value.unit, value.value)((value.high - value.low) / 2)


def _interval(value: MetricValue, confidence: float) -> str:
    if value.value is None or value.low is None or value.high is None:
        return ""
    show = _formatter(value.unit, value.value)
    return f"{confidence:.0%} CI {show(value.low)} – {show(value.high)}"


def _row(row: TableRow, systems: list[str], confidence: float) -> Row:
    cells = []
    for name in systems:
        value = row.values.get(name, MetricValue(value=None, note="not measured for this system"))
        cells.append(Cell(system=name, text=format_value(value), spread=_spread(value),
                          interval=_interval(value, confidence), winner=row.winner == name,
                          method=value.method, note=value.note, n=value.n))
    claim = " · ".join(f"{kind}: {text}" for kind, text in row.seed_claim.items())
    return Row(key=row.key, label=row.label, direction="higher is better" if row.higher_is_better
               else "lower is better", cells=cells, winner=row.winner, winner_method=row.winner_method,
               seed_claim=claim, headline=bool(row.seed_claim))


def _methods(rows: list[TableRow]) -> list[tuple[str, list[str]]]:
    """Per metric: each method once, each system's note named, and how the winner was decided."""
    found = []
    for row in rows:
        lines = list(dict.fromkeys(v.method for v in row.values.values() if v.method))
        lines += [f"{name}: {v.note}" for name, v in row.values.items() if v.note]
        if row.winner_method:
            lines.append(f"winner: {row.winner_method}")
        if lines:
            found.append((row.label, lines))
    return found


def _latency_samples(records: list[QuestionRecord]) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {}
    for record in records:
        total = record.timings.get("total")
        if total is not None and record.error is None:
            samples.setdefault(record.system, []).append(total)
    return samples


def _latency_stats(name: str, values: list[float]) -> LatencyStats:
    p50, p95 = np.percentile(values, [50, 95])
    return LatencyStats(system=name, n=len(values), p50=float(p50), p95=float(p95), mean=float(np.mean(values)))


def _means(records: list[QuestionRecord], attribute: str, systems: list[str]) -> dict[str, dict[str, float]]:
    """Mean of each per-question metric per system (systems without the metric are left out)."""
    sums: dict[str, dict[str, list[float]]] = {}
    for record in records:
        for metric, value in getattr(record, attribute).items():
            sums.setdefault(record.system, {}).setdefault(metric, []).append(value)
    return {name: {m: float(np.mean(v)) for m, v in sums[name].items()} for name in systems if name in sums}


def worst_answers(records: list[QuestionRecord], systems: list[str], per_system: int = WORST_PER_SYSTEM) -> list[Worst]:
    """Each system's worst answers: failures first, then hallucinated ones, then the lowest F1."""
    chosen = []
    for name in systems:
        own = sorted((r for r in records if r.system == name), key=_badness)
        chosen += [Worst(record=r, why=_why(r)) for r in own[:per_system]]
    return chosen


def _badness(record: QuestionRecord) -> tuple:
    score = next((record.quality[k] for k in F1_KEYS if k in record.quality), 1.0)
    return (record.error is None, record.hallucinated is not True, score, record.question_id)


def _why(record: QuestionRecord) -> str:
    if record.error:
        return f"failed: {record.error}"
    parts = ["hallucinated"] if record.hallucinated else []
    key = next((k for k in F1_KEYS if k in record.quality), None)
    if key:
        parts.append(f"{metric_name(key)} {record.quality[key]:.2f}")
    return ", ".join(parts) or "lowest score"


def _prices(cost) -> list[str]:
    if cost is None:
        return []
    return list(dict.fromkeys(source for system in cost.systems for source in system.sources))


def _assumptions(run: Run) -> list[str]:
    notes: list[str] = []
    if run.cost is not None:
        notes += run.cost.assumptions
        for system in run.cost.systems:
            notes += [f"{system.name}: {text}" for text in system.assumptions + system.latency.assumptions]
    if run.verdict is not None:
        notes += [f"verdict caveat: {text}" for text in run.verdict.caveats]
    return list(dict.fromkeys(notes))


def _provenance(run: Run) -> list[tuple[str, str]]:
    m = run.manifest
    items = [
        ("run", f"{m.run_id}, created {m.created_at}, status {m.status}, {m.seconds:.1f} s"),
        ("bench", f"{m.bench} (eval set sha256 {m.evalset_sha256[:12]}"
                  + (f", corpus sha256 {m.corpus_sha256[:12]})" if m.corpus_sha256 else ")")),
        ("seed", f"{m.seed}; repeat {m.repeat}; {m.bootstrap_resamples} bootstrap resamples at {m.confidence:.0%}"),
    ]
    items += [(f"system {s.name}", _system_line(s)) for s in m.systems]
    if m.versions:
        items.append(("versions", ", ".join(f"{k} {v}" for k, v in sorted(m.versions.items()))))
    if run.cost is not None and run.cost.catalog_files:
        items.append(("price catalog", ", ".join(run.cost.catalog_files)))
    if run.verdict is not None:
        items.append(("rules", run.verdict.rules_source))
        if run.verdict.measurements_source:
            items.append(("measurements", run.verdict.measurements_source))
    return items


def _system_line(system) -> str:
    parts = [system.kind, f"generator {system.generator}"]
    if system.kind in ("rag", "hybrid"):
        parts.append(f"k={system.k}, {system.mode} search")
    if system.adapter:
        parts.append(f"adapter {system.adapter}")
    if system.tuned_model:
        parts.append(f"tuned model {system.tuned_model}" + (f" (job {system.job})" if system.job else ""))
    if system.price_model:
        parts.append(f"priced as {system.price_model}")
    return ", ".join(parts)
