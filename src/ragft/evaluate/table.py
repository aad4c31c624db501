"""The seed's "real numbers from production" table, measured: rows = metrics, columns = systems, a winner per
row only when bootstrap intervals separate (paired on the same questions), "tie" otherwise."""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Callable, Iterable, Sequence

import numpy as np

from ragft.evaluate.records import MetricValue, QuestionRecord, RunTable, TableRow
from ragft.evaluate.stats import bootstrap_ci, compare_detail
from ragft.rag.grounding import DEFAULT_THRESHOLD

Key = tuple[str, int]           # (question_id, repeat): what pairs two systems' answers


@dataclass(frozen=True)
class RowSpec:
    key: str
    label: str
    higher_is_better: bool
    unit: str
    value: Callable[[QuestionRecord], float | None] | None = None   # per-question value; None = run-level
    quantile: float | None = None                                   # latency rows: a percentile, not a mean
    method: str = ""
    ranked: bool = True                                             # False: no direction is better, no winner
    missing: str = "not applicable"                                 # the note of a system without values


def _timing(stage: str) -> Callable[[QuestionRecord], float | None]:
    return lambda r: r.timings.get(stage)


def _retrieval(name: str) -> Callable[[QuestionRecord], float | None]:
    return lambda r: r.retrieval.get(name)


def _quality(name: str) -> Callable[[QuestionRecord], float | None]:
    return lambda r: r.quality.get(name)


def _flag(value: bool | None) -> float | None:
    return None if value is None else float(value)


SUPPORT_METHOD = (f"judge-free support checker (ragft.rag.grounding, lexical, threshold {DEFAULT_THRESHOLD:g}): "
                  "an answer hallucinates when a sentence is not supported by the question's evidence, the same "
                  "for every system: the reference answer plus the gold documents; share of all answers, an "
                  "abstention counts as not hallucinated")
GROUNDED_METHOD = ("retrieving systems: every sentence supported by the system's own retrieved passages "
                   "(support checker, reference not used); an abstention counts as grounded")
ABSTAIN_METHOD = ("answers that decline as a whole (empty, or every sentence \"I don't know\"-like); scored 0 "
                  "for F1/ROUGE-L/exact match and not hallucinated; neither direction is better, so no winner")
BY_CONSTRUCTION = "by construction"      # a note starting so marks a value the system's design fixes

ROWS: tuple[RowSpec, ...] = (
    RowSpec("cost_per_1k", "Cost per 1k queries", False, "USD", lambda r: None if r.cost_usd is None else r.cost_usd * 1000,
            method="measured tokens priced by ragft.costs (fixed costs spread over the monthly volume)"),
    RowSpec("latency_p95", "Latency (p95)", False, "s", _timing("total"), 0.95, "end to end, warm-up excluded"),
    RowSpec("ttft_p95", "Time to first token (p95)", False, "s", _timing("ttft"), 0.95,
            "question in to the first streamed answer text out (retrieval included), warm-up excluded",
            missing="n/a: the generator does not stream (no first-token time)"),
    RowSpec("time_to_production", "Time to production", False, "s",
            method="measured: index build (RAG) and adapter training (fine-tuned) seconds"),
    RowSpec("freshness", "Update freshness", False, "s",
            method="RAG: Index.add of a new fact until an answer cites it; fine-tuned: retraining seconds"),
    RowSpec("retrieval_accuracy", "Accuracy on retrieval (recall@k)", True, "fraction", _retrieval("recall_at_k"),
            method="share of gold documents in the top k"),
    RowSpec("hallucination_rate", "Hallucination rate", False, "fraction", lambda r: _flag(r.hallucinated),
            method=SUPPORT_METHOD),
    RowSpec("abstention_rate", "Abstention rate", False, "fraction", lambda r: float(r.abstained),
            method=ABSTAIN_METHOD, ranked=False),
    RowSpec("grounded_rate", "Grounded in own retrieved passages", True, "fraction", lambda r: _flag(r.grounded),
            method=GROUNDED_METHOD),
    RowSpec("judge_hallucination_rate", "Hallucination rate (LLM judge)", False, "fraction",
            lambda r: _flag(r.judge_hallucinated), method="LLM judge per sentence (prompt in the manifest)"),
    RowSpec("token_f1", "Answer F1", True, "", _quality("token_f1"), method="SQuAD token F1 vs the reference"),
    RowSpec("rouge_l", "Answer ROUGE-L", True, "", _quality("rouge_l"), method="ROUGE-L F1 vs the reference"),
    RowSpec("hit_at_1", "Hit@1", True, "fraction", _retrieval("hit_at_1")),
    RowSpec("mrr", "MRR", True, "", _retrieval("mrr")),
    RowSpec("ndcg_at_10", "nDCG@10", True, "", _retrieval("ndcg_at_10")),
    RowSpec("latency_p50", "Latency (p50)", False, "s", _timing("total"), 0.50, "end to end, warm-up excluded"),
    *(RowSpec(f"latency_p{round(q * 100)}_{stage}", f"Latency p{round(q * 100)}: {stage}", False, "s",
              _timing(stage), q, f"{stage} stage only, warm-up excluded")
      for stage in ("embed", "search", "generate") for q in (0.50, 0.95)),
    RowSpec("compute_per_1k", "Compute time per 1k queries", False, "s",
            lambda r: r.timings["total"] * 1000 if "total" in r.timings else None,
            method="end-to-end seconds on this machine: the real cost of a local model"),
)

ROW_SPECS = {spec.key: spec for spec in ROWS}
HEADLINE = ("cost_per_1k", "latency_p95", "ttft_p95", "time_to_production", "freshness", "retrieval_accuracy",
            "hallucination_rate", "judge_hallucination_rate", "abstention_rate", "grounded_rate",
            "token_f1", "rouge_l")   # the seed's rows + first token, quality, abstention and grounding

SEED_CLAIMS: dict[str, dict[str, str]] = {
    "cost_per_1k": {"rag": "$4-8", "fine-tuned": "$1.50 (after amortized training)", "winner": "Fine-tuning at scale"},
    "latency_p95": {"rag": "3-4 seconds", "fine-tuned": "2-3 seconds", "winner": "Fine-tuning"},
    "time_to_production": {"rag": "2-3 days", "fine-tuned": "2-3 days (training) plus setup", "winner": "RAG"},
    "freshness": {"rag": "Real-time (within 1 hour)", "fine-tuned": "Weekly or monthly", "winner": "RAG"},
    "retrieval_accuracy": {"rag": "88-92 percent (search)", "fine-tuned": "92-96 percent (learned)",
                           "winner": "Fine-tuning"},
    "hallucination_rate": {"rag": "2-5 percent", "fine-tuned": "1-3 percent", "winner": "Fine-tuning"},
}

SINGLE_RATIO = 2.0      # single measurements (no interval): a winner only when the other is this many times worse


@dataclass(frozen=True)
class Measured:
    """A run-level measurement of one system: trial samples (bootstrapped), one value, or n/a with a note."""

    samples: tuple[float, ...] = ()
    note: str = ""
    method: str = ""

    @property
    def value(self) -> float | None:
        return float(np.mean(self.samples)) if self.samples else None


@dataclass
class TableSettings:
    resamples: int = 1000
    confidence: float = 0.95
    seed: int = 0
    notes: dict[str, dict[str, str]] = field(default_factory=dict)   # row key -> system -> note
    # a note starting with BY_CONSTRUCTION sets the cell's caveat: shown next to the value everywhere


def per_question(records: Iterable[QuestionRecord], spec: RowSpec) -> dict[str, dict[Key, float]]:
    """system -> (question_id, repeat) -> value, for records without an error that have the metric."""
    out: dict[str, dict[Key, float]] = {}
    for record in records:
        value = spec.value(record) if spec.value and record.error is None else None
        if value is not None:
            out.setdefault(record.system, {})[(record.question_id, record.repeat)] = float(value)
    return out


def bootstrap_quantile(values: Sequence[float], q: float, resamples: int = 1000, confidence: float = 0.95,
                       seed: int = 0) -> tuple[float, float, float]:
    """(quantile, low, high): the sample quantile and its percentile-bootstrap interval."""
    array = np.asarray(values, dtype=float)
    draws = np.random.default_rng(seed).integers(0, array.size, size=(resamples, array.size))
    stats = np.quantile(array[draws], q, axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(stats, [tail, 1 - tail])
    return float(np.quantile(array, q)), float(low), float(high)


def _paired_quantile_interval(a: np.ndarray, b: np.ndarray, q: float, settings: TableSettings) -> tuple[float, float]:
    draws = np.random.default_rng(settings.seed).integers(0, a.size, size=(settings.resamples, a.size))
    diffs = np.quantile(a[draws], q, axis=1) - np.quantile(b[draws], q, axis=1)
    tail = (1 - settings.confidence) / 2
    low, high = np.quantile(diffs, [tail, 1 - tail])
    return float(low), float(high)


def _estimate(values: Sequence[float], spec: RowSpec, settings: TableSettings) -> tuple[float, float, float]:
    if spec.quantile is not None:
        return bootstrap_quantile(values, spec.quantile, settings.resamples, settings.confidence, settings.seed)
    return bootstrap_ci(values, settings.resamples, settings.confidence, settings.seed)


def paired_winner(a_values: dict[Key, float], b_values: dict[Key, float], spec: RowSpec,
                  settings: TableSettings) -> str:
    """"a", "b" or "tie" on the questions both answered: paired bootstrap of the differences."""
    keys = sorted(set(a_values) & set(b_values))
    if len(keys) < 2:
        return "tie"
    a = np.array([a_values[k] for k in keys])
    b = np.array([b_values[k] for k in keys])
    if spec.quantile is None:
        return compare_detail(a, b, spec.higher_is_better, True, settings.resamples, settings.confidence,
                              settings.seed).winner
    low, high = _paired_quantile_interval(a, b, spec.quantile, settings)
    if low > 0:
        return "a" if spec.higher_is_better else "b"
    if high < 0:
        return "b" if spec.higher_is_better else "a"
    return "tie"


def overall_winner(names: Sequence[str], beats: Callable[[str, str], str]) -> str:
    """The system that beats every other one, else "tie"; "n/a" when fewer than two systems have the metric."""
    if len(names) < 2:
        return "n/a"
    wins = {name: 0 for name in names}
    for a, b in combinations(names, 2):
        result = beats(a, b)
        if result in ("a", "b"):
            wins[a if result == "a" else b] += 1
    best = [name for name, count in wins.items() if count == len(names) - 1]
    return best[0] if best else "tie"


def _question_row(spec: RowSpec, records: Sequence[QuestionRecord], systems: Sequence[str],
                  settings: TableSettings) -> TableRow:
    values = per_question(records, spec)
    cells = {}
    for name in systems:
        samples = list(values.get(name, {}).values())
        note = settings.notes.get(spec.key, {}).get(name, "")
        if not samples:
            cells[name] = MetricValue(value=None, unit=spec.unit, method=spec.method, note=note or spec.missing)
            continue
        mean, low, high = _estimate(samples, spec, settings)
        cells[name] = MetricValue(value=mean, low=low, high=high, n=len(samples), unit=spec.unit,
                                  method=spec.method, note=note,
                                  caveat=BY_CONSTRUCTION if note.startswith(BY_CONSTRUCTION) else "")
    present = [name for name in systems if values.get(name)] if spec.ranked else []
    winner = overall_winner(present, lambda a, b: paired_winner(values[a], values[b], spec, settings))
    what = f"p{round(spec.quantile * 100)}" if spec.quantile is not None else "mean"
    return TableRow(key=spec.key, label=spec.label, higher_is_better=spec.higher_is_better, values=cells,
                    winner=winner, seed_claim=SEED_CLAIMS.get(spec.key, {}),
                    winner_method=(f"paired bootstrap of per-question differences in the {what}, "
                                   f"{settings.confidence:.0%}, {settings.resamples} resamples, seed {settings.seed}"))


def _measured_row(spec: RowSpec, measured: dict[str, Measured], systems: Sequence[str],
                  settings: TableSettings) -> TableRow:
    cells = {}
    for name in systems:
        m = measured.get(name, Measured(note="not measured"))
        if len(m.samples) > 1:
            mean, low, high = bootstrap_ci(list(m.samples), settings.resamples, settings.confidence, settings.seed)
            cells[name] = MetricValue(value=mean, low=low, high=high, n=len(m.samples), unit=spec.unit,
                                      method=m.method or spec.method, note=m.note)
        else:
            cells[name] = MetricValue(value=m.value, n=len(m.samples), unit=spec.unit,
                                      method=m.method or spec.method, note=m.note or ("" if m.samples else "n/a"))
    present = [name for name in systems if cells[name].value is not None]
    winner = overall_winner(present, lambda a, b: _measured_winner(cells[a], cells[b], spec))
    return TableRow(key=spec.key, label=spec.label, higher_is_better=spec.higher_is_better, values=cells,
                    winner=winner, seed_claim=SEED_CLAIMS.get(spec.key, {}),
                    winner_method=(f"intervals of repeated trials must not overlap; a single measurement wins only "
                                   f"when the other is {SINGLE_RATIO:g}x worse"))


def _measured_winner(a: MetricValue, b: MetricValue, spec: RowSpec) -> str:
    if None not in (a.low, a.high, b.low, b.high):
        if a.high < b.low:
            return "b" if spec.higher_is_better else "a"
        if b.high < a.low:
            return "a" if spec.higher_is_better else "b"
        return "tie"
    low_a, low_b = (a.value, b.value) if not spec.higher_is_better else (b.value, a.value)
    if low_a * SINGLE_RATIO <= low_b and low_a < low_b:
        return "a"
    if low_b * SINGLE_RATIO <= low_a and low_b < low_a:
        return "b"
    return "tie"


def build_table(records: Sequence[QuestionRecord], systems: Sequence[str], *, run_id: str, bench: str,
                measured: dict[str, dict[str, Measured]] | None = None,
                settings: TableSettings | None = None) -> RunTable:
    """The table from per-question records plus run-level measurements (time to production, freshness).
    Rows that no system has a value for (e.g. the judge row without --judge) are left out."""
    settings = settings or TableSettings()
    measured = measured or {}
    rows = []
    for spec in ROWS:
        if spec.value is None:
            if spec.key in measured:
                rows.append(_measured_row(spec, measured[spec.key], systems, settings))
            continue
        row = _question_row(spec, records, systems, settings)
        if any(cell.value is not None for cell in row.values.values()) or spec.key in SEED_CLAIMS:
            rows.append(row)
    return RunTable(run_id=run_id, bench=bench, systems=list(systems), n_questions=len({r.question_id for r in records}), rows=rows,
                    confidence=settings.confidence)


def format_value(value: MetricValue, with_interval: bool = True) -> str:
    """"$0.0312 [0.0301, 0.0325]", "1.23 s", "4.0 % [2.1, 6.5]" or "n/a"; used by the CLI and reports."""
    if value.value is None:
        return "n/a"
    unit = value.unit
    show = _formatter(unit, value.value)
    text = show(value.value)
    if with_interval and value.low is not None and value.high is not None:
        text += f" [{show(value.low)}, {show(value.high)}]"
    return f"{text} ({value.caveat})" if value.caveat else text


def _formatter(unit: str, magnitude: float) -> Callable[[float], str]:
    if unit == "USD":
        return lambda v: f"${v:.4g}" if abs(v) < 1 else f"${v:,.2f}"
    if unit == "s":
        if abs(magnitude) >= 1:
            return lambda v: f"{v:,.2f} s"
        return lambda v: f"{v * 1000:.0f} ms" if abs(magnitude) >= 0.01 else f"{v * 1000:.3g} ms"
    if unit == "fraction":
        return lambda v: f"{v * 100:.1f} %"
    return lambda v: f"{v:.3f}"
