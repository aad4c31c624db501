"""A run folder read back: the `Run` model, its loader (one-line errors naming the file, field and line), and the
runs under a folder. The files are named here; `ragft.evaluate.runs` writes them, `ragft.evaluate.records`
holds their models."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from ragft.costs.model import CostReport
from ragft.errors import InputError, NotFoundError
from ragft.evaluate.decision import MeasuredVerdict, verdict_from_json
from ragft.evaluate.records import QuestionRecord, RunManifest, RunTable
from ragft.files import write_atomic
from ragft.jsonl import parse_object

MANIFEST, CONFIG, TABLE = "manifest.json", "config.json", "table.json"
QUESTIONS, QUESTIONS_CSV, COST, VERDICT = "questions.jsonl", "questions.csv", "cost.json", "verdict.json"
DEFAULT_ROOT = Path("runs")
UNFINISHED = ("running", "interrupted")
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$")     # new_run_dir names: python-faq+debian-faq

M = TypeVar("M", bound=BaseModel)


class Run(BaseModel):
    """Everything one run folder holds. `table` is None only while a run is unfinished (running or interrupted);
    `cost` and `verdict` are None when the run did not write them (or had no answered question to price)."""

    model_config = ConfigDict(frozen=True)

    path: Path
    manifest: RunManifest
    records: list[QuestionRecord] = []
    table: RunTable | None = None
    cost: CostReport | None = None
    verdict: MeasuredVerdict | None = None

    @property
    def run_id(self) -> str:
        return self.manifest.run_id

    def finished_table(self) -> RunTable:
        """The table, or the one-line error saying the run is unfinished and how to finish it."""
        if self.table is None:
            raise InputError(f"{self.path}: the run has no {TABLE} (status {self.manifest.status}); finish it with "
                             f"`ragft eval run --resume {self.path}`")
        return self.table


def load_run(path: Path | str) -> Run:
    """Read and validate a run folder (manifest.json, table.json, questions.jsonl, cost.json, verdict.json).
    A folder without table.json reads only while its manifest says the run is unfinished."""
    folder = Path(path)
    if not (folder / MANIFEST).is_file():
        raise NotFoundError(f"{folder}: not a run folder ({MANIFEST} not found); list runs with `ragft eval list`")
    if not (folder / TABLE).is_file() and _status(folder) not in UNFINISHED:
        raise NotFoundError(f"{folder}: no {TABLE}; is this a run folder written by `ragft eval run`?")
    table = _model(folder / TABLE, RunTable) if (folder / TABLE).is_file() else None
    return Run(path=folder, manifest=_model(folder / MANIFEST, RunManifest), records=read_records(folder / QUESTIONS),
               table=table, cost=_model(folder / COST, CostReport) if _priced(folder / COST) else None,
               verdict=_verdict(folder / VERDICT) if (folder / VERDICT).is_file() else None)


def load_manifest(path: Path | str) -> RunManifest:
    folder = Path(path)
    if not (folder / MANIFEST).is_file():
        raise NotFoundError(f"{folder}: not a run folder ({MANIFEST} not found); list runs with `ragft eval list`")
    return _model(folder / MANIFEST, RunManifest)


def read_records(path: Path, repair: bool = False) -> list[QuestionRecord]:
    """The rows of questions.jsonl. A last line cut short by a kill is dropped (and, with repair=True,
    removed from the file so appending continues cleanly); a bad line elsewhere is an error naming it."""
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(_record(line, f"{path}:{number}"))
        except InputError:
            if number == len(lines) and not line.endswith("\n"):
                if repair:
                    write_atomic(path, "".join(lines[:-1]))
                break
            raise
    return records


def _record(line: str, where: str) -> QuestionRecord:
    try:
        return QuestionRecord.model_validate(parse_object(line, where))
    except ValidationError as error:
        raise InputError(f"{where}: not a question record ({_first_problem(error)}); the run folder was edited "
                         "or belongs to another ragft version") from None


def _status(folder: Path) -> str | None:
    """The manifest's status read leniently (the full validation comes after, with its own error)."""
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8")).get("status")
    except (ValueError, OSError, AttributeError):
        return None


def _priced(path: Path) -> bool:
    """cost.json exists and is a cost report (a run with no answered question writes only {"note": ...})."""
    if not path.is_file():
        return False
    try:
        return set(json.loads(path.read_text(encoding="utf-8"))) != {"note"}
    except ValueError:
        return True                  # let _model name the problem


def _model(path: Path, model: type[M]) -> M:
    try:
        return model.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as error:
        raise InputError(f"{path}: {_first_problem(error)}; the file does not match {model.__name__}") from None


def _verdict(path: Path) -> MeasuredVerdict:
    """The measured verdict; a verdict.json from before it (the framework's alone) reads as not measured."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise InputError(f"{path}: not a JSON object; the file does not match MeasuredVerdict")
        return verdict_from_json(data)
    except ValidationError as error:
        raise InputError(f"{path}: {_first_problem(error)}; the file does not match MeasuredVerdict") from None
    except ValueError:
        raise InputError(f"{path}: not valid JSON; the file does not match MeasuredVerdict") from None


def _first_problem(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(top level)"
    return f"field '{where}': {first['msg'].lower()}"


# --- the runs under a folder -------------------------------------------------------------------------

@dataclass(frozen=True)
class RunSummary:
    """One line of a runs list; `finished` says it has a table (a report can be drawn), `problem` why a folder
    could not be read."""

    run_id: str
    path: Path
    created_at: str = ""
    bench: str = ""
    systems: tuple[str, ...] = ()
    status: str = ""
    questions: int | None = None
    finished: bool = False
    verdict: str = ""
    problem: str = ""


def list_runs(root: Path | str = DEFAULT_ROOT) -> list[RunSummary]:
    """The run folders (those with a manifest.json) directly under `root`, oldest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = [_summary(p) for p in root.iterdir() if p.is_dir() and _RUN_ID.match(p.name) and (p / MANIFEST).is_file()]
    return sorted(found, key=lambda s: (s.created_at, s.run_id))


def run_path(root: Path | str, run_id: str) -> Path:
    """The folder of finished run `run_id` under `root`; ids are plain names, never paths."""
    path = Path(root) / run_id
    if not _RUN_ID.match(run_id) or not (path / MANIFEST).is_file() or not (path / TABLE).is_file():
        raise NotFoundError(f"no run '{run_id}' in {root}")
    return path


def _summary(path: Path) -> RunSummary:
    try:
        manifest = _model(path / MANIFEST, RunManifest)
    except (InputError, ValueError, OSError) as error:
        return RunSummary(run_id=path.name, path=path, problem=str(error))
    verdict = ""
    if (path / VERDICT).is_file():
        try:
            verdict = json.loads((path / VERDICT).read_text(encoding="utf-8")).get("label", "")
        except (ValueError, OSError, AttributeError):
            verdict = f"(unreadable {VERDICT})"
    return RunSummary(run_id=path.name, path=path, created_at=manifest.created_at, bench=manifest.bench,
                      systems=tuple(s.name for s in manifest.systems), status=manifest.status,
                      questions=manifest.measurements.get("questions"), finished=(path / TABLE).is_file(),
                      verdict=str(verdict))
