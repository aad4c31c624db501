"""Run folders: create them, write their files atomically, append question rows durably, re-derive a finished
run's verdict, compare two runs.
Reading one back is `ragft.evaluate.run_folder` (the `Run` model, `load_run`, `list_runs`).

Layout (see ragft.evaluate.records): manifest.json, config.json (the EvalConfig, re-runnable with
`ragft eval run --config RUN/config.json`), table.json, questions.jsonl, questions.csv, cost.json, verdict.json,
index/ (the run's RAG index) and, for built-in benches, corpus/<bench>/ (the copy that was indexed).
"""
from __future__ import annotations

import csv
import io
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from pydantic import BaseModel

from ragft.evaluate.records import QuestionRecord
from ragft.evaluate.run_folder import Run, load_run
from ragft.evaluate.table import ROW_SPECS, TableSettings, format_value, paired_winner, per_question
from ragft.files import write_atomic

if TYPE_CHECKING:
    from ragft.advise.profile import Profile
    from ragft.advise.rules import Rules
    from ragft.evaluate.decision import MeasuredVerdict


def new_run_dir(root: Path | str, label: str, now: datetime | None = None) -> Path:
    """`root/<UTC timestamp>-<label>`, made unique with -2, -3... and created."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%d-%H%M%S")
    safe = "".join(ch if ch.isalnum() or ch in "-_+." else "-" for ch in label) or "run"
    base = Path(root) / f"{stamp}-{safe}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    path.mkdir(parents=True)
    return path


def write_json(path: Path, value: Any) -> Path:
    """Pretty JSON (a pydantic model or plain data), written to a temp file and renamed into place."""
    data = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
    return write_atomic(path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


class QuestionLog:
    """questions.jsonl opened for appending: one line per answered question, flushed and fsynced, so an
    interrupted run keeps every row it reported."""

    def __init__(self, path: Path):
        self.path = path
        self._handle = path.open("a", encoding="utf-8")

    def append(self, record: QuestionRecord) -> None:
        self._handle.write(record.model_dump_json() + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> "QuestionLog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def records_jsonl_text(records: Iterable[QuestionRecord]) -> str:
    return "".join(record.model_dump_json() + "\n" for record in records)


def write_records(path: Path, records: Iterable[QuestionRecord]) -> Path:
    """Replace questions.jsonl whole (atomically), e.g. once costs are known at the end of a run."""
    return write_atomic(path, records_jsonl_text(records))


CSV_COLUMNS = ("system", "question_id", "repeat", "question", "answer", "reference_answer", "hallucinated",
               "abstained", "grounded", "supported_ratio", "judge_hallucinated", "input_tokens", "output_tokens",
               "cost_usd", "model", "error", "relevant_ids", "retrieved_doc_ids")


def records_csv(records: Sequence[QuestionRecord]) -> str:
    """The rows flattened for spreadsheets: fixed columns, then retrieval.*, quality.*, timings.*."""
    extra = {f"{group}.{name}" for r in records for group in ("retrieval", "quality", "timings")
             for name in getattr(r, group)}
    columns = list(CSV_COLUMNS) + sorted(extra)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for r in records:
        row = {name: getattr(r, name) for name in CSV_COLUMNS if hasattr(r, name)}
        row["relevant_ids"] = " ".join(r.relevant_ids)
        row["retrieved_doc_ids"] = " ".join(c.doc_id for c in r.contexts)
        for group in ("retrieval", "quality", "timings"):
            row.update({f"{group}.{k}": v for k, v in getattr(r, group).items()})
        writer.writerow(row)
    return out.getvalue()


def write_csv(path: Path, records: Sequence[QuestionRecord]) -> Path:
    return write_atomic(path, records_csv(records))


def verdict_of_run(path: Path | str, profile: Profile | None = None, rules: Rules | None = None,
                   contenders: Sequence[str] | None = None) -> MeasuredVerdict:
    """Re-derive a finished run's measured verdict, for its own profile or another (no re-measuring)."""
    from ragft.advise.examples import load_profile_or_example
    from ragft.evaluate.decision import decide, evidence_of

    run = load_run(path)
    evidence = evidence_of(run, contenders)
    if profile is None:
        profile = load_profile_or_example(run.manifest.config.get("profile"))
    return decide(evidence, profile, rules)


# --- compare ----------------------------------------------------------------------------------------

class MetricDelta(BaseModel):
    key: str
    label: str
    system: str
    a: float | None
    b: float | None
    a_text: str
    b_text: str
    difference: float | None            # b - a
    better: str                         # "a", "b", "tie" or "n/a"
    method: str


class RunComparison(BaseModel):
    a: str
    b: str
    a_path: str
    b_path: str
    rows: list[MetricDelta]


def compare_runs(a: Run, b: Run, settings: TableSettings | None = None) -> RunComparison:
    """Per metric and system present in both runs: a, b, b - a and which is better. Paired bootstrap on the
    questions both runs answered when per-question values exist, else interval overlap, else "n/a"."""
    a_table, b_table = a.finished_table(), b.finished_table()
    settings = settings or TableSettings(seed=a.manifest.seed)
    b_rows = {row.key: row for row in b_table.rows}
    deltas = []
    for row in a_table.rows:
        other = b_rows.get(row.key)
        if other is None:
            continue
        for system in [s for s in row.values if s in other.values]:
            deltas.append(_delta(row, other, system, a, b, settings))
    return RunComparison(a=a.run_id, b=b.run_id, a_path=str(a.path), b_path=str(b.path), rows=deltas)


def _delta(row, other, system: str, a: Run, b: Run, settings: TableSettings) -> MetricDelta:
    va, vb = row.values[system], other.values[system]
    difference = None if va.value is None or vb.value is None else vb.value - va.value
    spec = ROW_SPECS.get(row.key)
    better, method = "n/a", "one side has no value"
    if difference is not None and spec is not None and spec.value is not None:
        a_values = per_question(a.records, spec).get(system, {})
        b_values = per_question(b.records, spec).get(system, {})
        shared = len(set(a_values) & set(b_values))
        if shared >= 2:
            better = paired_winner(a_values, b_values, spec, settings)
            method = f"paired bootstrap on {shared} shared questions"
    if better == "n/a" and difference is not None:
        better, method = _overlap(va, vb, row.higher_is_better)
    if spec is not None and not spec.ranked:
        better, method = "n/a", "neither direction is better (see the row's method)"
    return MetricDelta(key=row.key, label=row.label, system=system, a=va.value, b=vb.value,
                       a_text=format_value(va), b_text=format_value(vb), difference=difference,
                       better=better, method=method)


def _overlap(va, vb, higher_is_better: bool) -> tuple[str, str]:
    if None in (va.low, va.high, vb.low, vb.high):
        return "tie" if va.value == vb.value else "n/a", "no intervals to compare"
    if va.high < vb.low:
        return ("b" if higher_is_better else "a"), "non-overlapping intervals"
    if vb.high < va.low:
        return ("a" if higher_is_better else "b"), "non-overlapping intervals"
    return "tie", "overlapping intervals"
