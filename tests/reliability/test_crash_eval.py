"""SIGKILL during `ragft eval run`: `--resume` finishes the run without redoing answered questions, and the
results equal an uninterrupted run's."""
from __future__ import annotations

import json
import random
from pathlib import Path

from ragft.evaluate.run_folder import read_records
from tests.reliability.conftest import RAGFT, kill_after, ragft

DATA = Path(__file__).resolve().parents[1] / "data"


def _args(tmp_path, out: str) -> list[str]:
    return ["eval", "run", "--bench", "python-faq", "--from", str(DATA / "python3.11-doc"), "--distractors", "4",
            "--systems", "closed-book,rag", "--limit", "12", "--warmup", "0", "--freshness-trials", "0",
            "--embedder", "static", "--cache", str(tmp_path / "cache"), "--out", str(tmp_path / out), "--json"]


def _answered(path: Path):
    def enough() -> bool:
        try:
            return path.read_text().count("\n") >= 4
        except OSError:
            return False
    return enough


def _results(run: Path) -> dict:
    return {(r.system, r.question_id, r.repeat): (r.answer, r.quality, r.retrieval, r.hallucinated, r.error)
            for r in read_records(run / "questions.jsonl")}


def test_a_sigkilled_eval_run_resumes_to_the_same_results_as_an_uninterrupted_one(tmp_path):
    ragft(*_args(tmp_path, "clean"), timeout=300)
    killed = tmp_path / "killed"
    landed = kill_after([RAGFT, *_args(tmp_path, "killed")], _answered(killed / "questions.jsonl"),
                        random.Random(3).uniform(0, 0.3))
    assert landed
    kept = len(read_records(killed / "questions.jsonl"))
    assert 4 <= kept < 24
    assert json.loads((killed / "manifest.json").read_text())["status"] != "complete"
    resumed = json.loads(ragft("eval", "run", "--resume", str(killed), "--json", timeout=300).stdout)
    assert json.loads((killed / "manifest.json").read_text())["status"] == "complete"
    assert _results(killed) == _results(tmp_path / "clean")
    assert len(_results(killed)) == 24 and resumed
