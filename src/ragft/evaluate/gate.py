"""A regression gate for CI: thresholds on a run's measured table, and a paired comparison of two runs.

Thresholds: `--fail-under token_f1=0.35,recall_at_5=0.85` fails a system whose value is below; `--fail-over
latency_p95=2.5,hallucination_rate=0.05` fails one above. A bare `metric=value` applies to every system of the
run that measured the metric (closed-book has no recall: it is skipped, and a metric no system measured is an
error); `system:metric=value` applies to that system only (and fails when it has no value). Values are the
table's point estimates in the table's units: fractions (0.05, not 5 %), seconds, USD per 1k queries.
Metric names are the table's row keys (`ragft.evaluate.table.ROWS`), plus `recall_at_K` (or `recall@K`) for
the retrieval row, which must be the k the run retrieved.

Comparison: `regressions(base, new, metric)` is the paired difference NEW - BASE per system on the questions
both runs answered (`ragft.evaluate.decision.paired_difference`); a system regresses when the interval shows
NEW worse. Results go to JUnit XML (one testcase per system x threshold) for CI systems."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ragft.errors import InputError
from ragft.evaluate.decision import PairedDifference, correctness, paired_difference
from ragft.evaluate.table import ROW_SPECS, format_value
from ragft.files import write_atomic

Direction = Literal["under", "over"]
_RECALL = re.compile(r"^(?:recall_at_|recall@)(\d+)$")
QUALITY = ("token_f1", "rouge_l", "exact_match", "judge_correct")   # answer-correctness: errors count as 0


@dataclass(frozen=True)
class Threshold:
    metric: str            # as written: token_f1, recall_at_5
    key: str               # the table row it reads
    value: float
    direction: Direction   # under: fail when below; over: fail when above
    system: str | None = None
    k: int | None = None   # recall_at_K

    @property
    def text(self) -> str:
        op = ">=" if self.direction == "under" else "<="
        return f"{self.system + ':' if self.system else ''}{self.metric} {op} {self.value:g}"


@dataclass(frozen=True)
class Check:
    system: str
    threshold: Threshold
    measured: float | None
    measured_text: str
    passed: bool
    message: str


def known_metrics() -> list[str]:
    return sorted(ROW_SPECS) + ["recall_at_K"]


def metric_key(name: str) -> tuple[str, int | None]:
    """(table row key, k for recall_at_K); one-line InputError listing the known names otherwise."""
    recall = _RECALL.match(name)
    if recall:
        return "retrieval_accuracy", int(recall.group(1))
    if name in ROW_SPECS:
        return name, None
    raise InputError(f"unknown metric '{name}'; known: {', '.join(known_metrics())}")


def parse_thresholds(text: str | None, direction: Direction) -> list[Threshold]:
    """`[system:]metric=value,...` as given to --fail-under / --fail-over."""
    flag = f"--fail-{direction}"
    out = []
    for part in [p.strip() for p in (text or "").split(",") if p.strip()]:
        name, sep, number = part.partition("=")
        if not sep:
            raise InputError(f"{flag} '{part}': write metric=value (or system:metric=value), e.g. token_f1=0.35")
        system, _, metric = name.strip().rpartition(":")
        try:
            value = float(number)
        except ValueError:
            raise InputError(f"{flag} '{part}': '{number.strip()}' is not a number") from None
        key, k = metric_key(metric.strip())
        out.append(Threshold(metric.strip(), key, value, direction, system.strip() or None, k))
    return out


def check_thresholds(run, thresholds: Sequence[Threshold]) -> list[Check]:
    """One check per system x threshold on the run's table (point estimates)."""
    rows = {row.key: row for row in run.finished_table().rows}
    k_of = {s.name: s.k for s in run.manifest.systems}
    checks = []
    for threshold in thresholds:
        if threshold.system and threshold.system not in run.table.systems:
            raise InputError(f"{threshold.text}: no system '{threshold.system}' in the run "
                             f"(systems: {', '.join(run.table.systems)})")
        row = rows.get(threshold.key)
        systems = [threshold.system] if threshold.system else [
            s for s in run.table.systems if row is not None and row.values.get(s) and row.values[s].value is not None]
        if not systems:
            measured = ", ".join(r.key for r in run.table.rows)
            raise InputError(f"{threshold.text}: no system of the run measured {threshold.metric} "
                             f"(rows: {measured})")
        if threshold.k is not None:
            other = sorted({k_of.get(s, 5) for s in systems} - {threshold.k})
            if other:
                raise InputError(f"{threshold.text}: this run measured recall@{other[0]} (k={other[0]}); "
                                 f"use recall_at_{other[0]} or re-run with --k {threshold.k}")
        for system in systems:
            checks.append(_check(system, threshold, row.values.get(system) if row else None))
    return checks


def _check(system: str, threshold: Threshold, cell) -> Check:
    if cell is None or cell.value is None:
        note = f" ({cell.note})" if cell is not None and cell.note else ""
        return Check(system, threshold, None, "n/a", False,
                     f"{system}: {threshold.metric} not measured{note}; needed {threshold.text}")
    value = cell.value
    passed = value >= threshold.value if threshold.direction == "under" else value <= threshold.value
    shown = format_value(cell, with_interval=False)
    word = "below" if threshold.direction == "under" else "above"
    message = (f"{system}: {threshold.metric} {value:.4g} ({shown}) "
               + (f"meets {threshold.text}" if passed else f"is {word} the threshold: {threshold.text}"))
    return Check(system, threshold, value, shown, passed, message)


# --- two runs ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Regression:
    system: str
    metric: str
    difference: PairedDifference | None      # new - base; None: fewer than two shared questions
    regressed: bool
    message: str


def regressions(base, new, metric: str = "token_f1", systems: Sequence[str] | None = None) -> list[Regression]:
    """Per system in both runs: the paired difference NEW - BASE on the shared questions; regressed when the
    interval shows NEW worse. Answer-correctness metrics count failed or abstaining answers as 0."""
    key, _ = metric_key(metric)
    spec = ROW_SPECS[key]
    if spec.value is None or spec.quantile is not None:
        means = ", ".join(s for s, r in ROW_SPECS.items() if r.value is not None and r.quantile is None)
        raise InputError(f"--metric {metric}: the paired comparison needs a per-question mean; use one of {means}")
    value = correctness(key) if key in QUALITY else spec.value
    names = [s for s in base.table.systems if s in new.table.systems] if base.table and new.table else []
    if systems:
        missing = [s for s in systems if s not in names]
        if missing:
            raise InputError(f"--system {', '.join(missing)}: not in both runs (shared: {', '.join(names) or 'none'})")
        names = list(systems)
    if not names:
        raise InputError(f"{base.path} and {new.path} share no system to compare")
    out = []
    for system in names:
        records = ([r.model_copy(update={"system": "base"}) for r in base.records if r.system == system]
                   + [r.model_copy(update={"system": "new"}) for r in new.records if r.system == system])
        diff = paired_difference(records, "new", "base", value, metric=key, higher_is_better=spec.higher_is_better,
                                 resamples=base.manifest.bootstrap_resamples, confidence=base.manifest.confidence,
                                 seed=base.manifest.seed)
        if diff is None:
            out.append(Regression(system, metric, None, False,
                                  f"{system}: fewer than two questions shared by both runs; not compared"))
            continue
        worse = diff.better == "base"
        verdict = "worse (regression)" if worse else "better" if diff.better == "new" else "no detectable change"
        out.append(Regression(system, metric, diff, worse,
                              f"{system}: {metric} new - base {diff.difference:+.4g} [{diff.low:+.4g}, {diff.high:+.4g}] "
                              f"({diff.confidence:.0%}, paired, {diff.n} questions): {verdict}"))
    if all(r.difference is None for r in out):
        raise InputError(f"{base.path} and {new.path} share fewer than two questions per system: nothing to compare "
                         "(were they run on the same eval set?)")
    return out


# --- JUnit XML ---------------------------------------------------------------------------------------

def junit_xml(suite: str, cases: Sequence[tuple[str, str, bool, str]]) -> str:
    """(classname, name, passed, message) per testcase, as a JUnit <testsuites> document."""
    failures = sum(not passed for _, _, passed, _ in cases)
    root = ET.Element("testsuites", name="ragft", tests=str(len(cases)), failures=str(failures))
    node = ET.SubElement(root, "testsuite", name=suite, tests=str(len(cases)), failures=str(failures), errors="0")
    for classname, name, passed, message in cases:
        case = ET.SubElement(node, "testcase", classname=classname, name=name)
        if passed:
            ET.SubElement(case, "system-out").text = message
        else:
            ET.SubElement(case, "failure", message=message, type="threshold").text = message
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(path: Path | str, suite: str, cases: Sequence[tuple[str, str, bool, str]]) -> Path:
    return write_atomic(Path(path), junit_xml(suite, cases))


def check_cases(checks: Sequence[Check]) -> list[tuple[str, str, bool, str]]:
    return [(f"ragft.gate.{c.system}", c.threshold.text, c.passed, c.message) for c in checks]


def regression_cases(found: Sequence[Regression]) -> list[tuple[str, str, bool, str]]:
    return [(f"ragft.compare.{r.system}", f"{r.metric} not worse", not r.regressed, r.message) for r in found]
