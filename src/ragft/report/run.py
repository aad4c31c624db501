"""A run folder as the report reads it: the records an eval run wrote, validated, with one-line errors."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from ragft.errors import InputError, NotFoundError
from ragft.evaluate.records import QuestionRecord, RunManifest, RunTable
from ragft.jsonl import objects

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Run:
    """Everything one run folder holds; cost and verdict are None when the run did not write them."""

    path: Path
    manifest: RunManifest
    table: RunTable
    questions: list[QuestionRecord]
    cost: object | None          # ragft.costs.CostReport
    verdict: object | None       # ragft.evaluate.decision.MeasuredVerdict (the framework's verdict inside)

    @property
    def run_id(self) -> str:
        return self.manifest.run_id


def is_run_folder(path: Path) -> bool:
    return (path / "manifest.json").is_file() and (path / "table.json").is_file()


def load_run(path: str | Path) -> Run:
    """Read and validate a run folder (manifest.json, table.json, questions.jsonl, cost.json, verdict.json)."""
    from ragft.costs.model import CostReport

    path = Path(path)
    if not path.is_dir():
        raise NotFoundError(f"run folder '{path}' not found: pass a folder written by `ragft eval run`")
    for required in ("manifest.json", "table.json"):
        if not (path / required).is_file():
            raise NotFoundError(f"{path}: no {required}; is this a run folder written by `ragft eval run`?")
    return Run(
        path=path,
        manifest=_model(path / "manifest.json", RunManifest),
        table=_model(path / "table.json", RunTable),
        questions=_questions(path / "questions.jsonl"),
        cost=_model(path / "cost.json", CostReport) if _priced(path / "cost.json") else None,
        verdict=_verdict(path / "verdict.json") if (path / "verdict.json").is_file() else None,
    )


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


def _verdict(path: Path):
    """The measured verdict; a verdict.json from before it (the framework's alone) reads as not measured."""
    from ragft.evaluate.decision import MeasuredVerdict, verdict_from_json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise InputError(f"{path}: not a JSON object; the file does not match MeasuredVerdict")
        return verdict_from_json(data)
    except ValueError as error:
        if isinstance(error, ValidationError):
            raise InputError(f"{path}: {_first_problem(error)}; the file does not match "
                             f"{MeasuredVerdict.__name__}") from None
        raise InputError(f"{path}: not valid JSON; the file does not match {MeasuredVerdict.__name__}") from None


def _questions(path: Path) -> list[QuestionRecord]:
    if not path.is_file():
        return []
    records = []
    for number, record in objects(path.read_text(encoding="utf-8"), path):
        try:
            records.append(QuestionRecord.model_validate(record))
        except ValidationError as error:
            problem = _first_problem(error)
            raise InputError(f"{path}:{number}: {problem}; each line must be one QuestionRecord") from None
    return records


def _first_problem(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(top level)"
    return f"field '{where}': {first['msg'].lower()}"


_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass(frozen=True)
class RunSummary:
    """One line of a runs list; `problem` says why a folder could not be read."""

    run_id: str
    created_at: str = ""
    bench: str = ""
    systems: tuple[str, ...] = ()
    status: str = ""
    verdict: str = ""
    problem: str = ""


def run_path(runs_dir: str | Path, run_id: str) -> Path:
    """The folder of run `run_id` under `runs_dir`; ids are plain names, never paths."""
    path = Path(runs_dir) / run_id
    if not _RUN_ID.match(run_id) or not is_run_folder(path):
        raise NotFoundError(f"no run '{run_id}' in {runs_dir}")
    return path


def list_runs(runs_dir: str | Path) -> list[RunSummary]:
    """The run folders directly under `runs_dir`, newest first."""
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        return []
    found = [_summary(p) for p in runs_dir.iterdir() if p.is_dir() and _RUN_ID.match(p.name) and is_run_folder(p)]
    return sorted(found, key=lambda s: (s.created_at, s.run_id), reverse=True)


def _summary(path: Path) -> RunSummary:
    try:
        manifest = _model(path / "manifest.json", RunManifest)
    except (InputError, ValueError, OSError) as error:
        return RunSummary(run_id=path.name, problem=str(error))
    verdict = ""
    if (path / "verdict.json").is_file():
        try:
            verdict = json.loads((path / "verdict.json").read_text(encoding="utf-8")).get("label", "")
        except (ValueError, OSError, AttributeError):
            verdict = "(unreadable verdict.json)"
    return RunSummary(run_id=path.name, created_at=manifest.created_at, bench=manifest.bench,
                      systems=tuple(s.name for s in manifest.systems), status=manifest.status, verdict=str(verdict))
