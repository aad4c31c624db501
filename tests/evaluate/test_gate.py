"""The regression gate: thresholds on a real run's table (eval run / eval gate, JUnit XML) and a paired
comparison of two runs (eval compare --fail-on-regression)."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from support import run_cli

from ragft.errors import InputError
from ragft.evaluate.gate import check_thresholds, parse_thresholds, regressions
from ragft.evaluate.records import QuestionRecord, RunManifest, SystemConfig
from ragft.evaluate.run_folder import MANIFEST, QUESTIONS, TABLE, load_run
from ragft.evaluate.runs import write_json, write_records
from ragft.evaluate.table import build_table

from .conftest import PYTHON_DOC_TREE


@pytest.fixture(scope="module")
def gated(tmp_path_factory):
    """A real run (closed-book and RAG, extractive, MiniLM) made through `ragft eval run` with thresholds that
    one system cannot meet, and what the CLI printed and wrote."""
    root = tmp_path_factory.mktemp("gate")
    capsys = _Capture()
    code, out, err = run_cli(capsys, "eval", "run", "--bench", "python-faq", "--from", str(PYTHON_DOC_TREE),
                             "--distractors", "0", "--cache", str(root / "cache"), "--systems", "closed-book,rag",
                             "--limit", "6", "--warmup", "0", "--freshness-trials", "1", "--json",
                             "--out", str(root / "run"), "--fail-under", "token_f1=0.2,recall_at_5=0.5",
                             "--fail-over", "hallucination_rate=0.5", "--junit", str(root / "gate.xml"))
    return root, code, out, err


class _Capture:
    """Stands in for capsys in a module fixture (run_cli only calls readouterr); output is not inspected."""

    def readouterr(self):
        return "", ""


def _cell(run, key, system):
    row = next(r for r in run.table.rows if r.key == key)
    return row.values[system].value


def test_eval_run_checks_every_system_against_each_threshold_and_writes_junit(gated, capsys):
    root, code, _, _ = gated
    run = load_run(root / "run")
    # closed-book (extractive) abstains: no F1 worth the name, no retrieval at all; RAG answers from the docs.
    expected = {("closed-book", "token_f1 >= 0.2"): _cell(run, "token_f1", "closed-book") >= 0.2,
                ("rag", "token_f1 >= 0.2"): _cell(run, "token_f1", "rag") >= 0.2,
                ("rag", "recall_at_5 >= 0.5"): _cell(run, "retrieval_accuracy", "rag") >= 0.5,
                ("closed-book", "hallucination_rate <= 0.5"): _cell(run, "hallucination_rate", "closed-book") <= 0.5,
                ("rag", "hallucination_rate <= 0.5"): _cell(run, "hallucination_rate", "rag") <= 0.5}
    assert not expected[("closed-book", "token_f1 >= 0.2")] and expected[("rag", "token_f1 >= 0.2")]
    assert code == 1
    suite = ET.parse(root / "gate.xml").getroot().find("testsuite")
    cases = {(c.get("classname").rsplit(".", 1)[1], c.get("name")): c.find("failure") is None
             for c in suite.iter("testcase")}
    assert cases == expected                       # closed-book has no recall: no testcase for it
    assert suite.get("failures") == str(sum(not ok for ok in expected.values()))
    failure = next(c for c in suite.iter("testcase") if c.find("failure") is not None).find("failure")
    assert "closed-book: token_f1" in failure.get("message") and "below the threshold" in failure.get("message")


def test_eval_gate_on_a_finished_run_names_each_failed_threshold(gated, capsys):
    root = gated[0]
    run = load_run(root / "run")
    f1 = _cell(run, "token_f1", "rag")
    code, _, err = run_cli(capsys, "eval", "gate", str(root / "run"), "--fail-under", f"rag:token_f1={f1 + 0.01:.4f}")
    assert code == 1 and "FAIL rag: token_f1" in err and "1 of 1 threshold checks" in err
    code, _, err = run_cli(capsys, "eval", "gate", str(root / "run"), "--fail-under", f"rag:token_f1={f1 - 0.01:.4f}",
                           "--fail-over", "rag:latency_p95=600")
    assert code == 0 and err.count("ok   rag") == 2


def test_metric_names_map_onto_the_table_and_unknown_ones_are_refused(gated, capsys):
    run = load_run(gated[0] / "run")
    code, _, err = run_cli(capsys, "eval", "gate", str(gated[0] / "run"), "--fail-under", "recall_at_3=0.5")
    assert code == 1 and err.count("\n") == 1 and "this run measured recall@5" in err
    code, _, err = run_cli(capsys, "eval", "gate", str(gated[0] / "run"), "--fail-under", "accuracy=0.5")
    assert code == 1 and err.count("\n") == 1 and "unknown metric 'accuracy'" in err and "token_f1" in err
    with pytest.raises(InputError, match="no system 'tuned'"):
        check_thresholds(run, parse_thresholds("tuned:token_f1=0.1", "under"))
    with pytest.raises(InputError, match="not a number"):
        parse_thresholds("token_f1=high", "under")
    # an unknown metric fails before any question is answered
    code, _, err = run_cli(capsys, "eval", "run", "--bench", "python-faq", "--fail-over", "speed=1")
    assert code == 1 and "unknown metric 'speed'" in err


def write_run(folder, f1: list[float], latency: float = 1.0, systems: dict[str, str] | None = None):
    """A run folder with per-question F1 values `f1` for each system (name -> kind; default one "rag")."""
    systems = systems or {"rag": "rag"}
    records = [QuestionRecord(system=name, question_id=f"q{i}", question="q", reference_answer="r", answer="a",
                              quality={"token_f1": v, "rouge_l": v}, timings={"total": latency},
                              hallucinated=False) for name in systems for i, v in enumerate(f1)]
    manifest = RunManifest(run_id=folder.name, created_at="2026-01-01T00:00:00+00:00", bench="crafted",
                           evalset_sha256="0" * 64, systems=[SystemConfig(name=n, kind=k) for n, k in systems.items()],
                           bootstrap_resamples=500, status="complete")
    folder.mkdir(parents=True)
    write_json(folder / MANIFEST, manifest)
    write_records(folder / QUESTIONS, records)
    write_json(folder / TABLE, build_table(records, list(systems), run_id=folder.name, bench="crafted"))
    return folder


def test_compare_fails_on_a_paired_regression_and_passes_otherwise(tmp_path, capsys):
    base = write_run(tmp_path / "base", [0.6 + 0.01 * i for i in range(20)])
    worse = write_run(tmp_path / "worse", [0.5 + 0.01 * i for i in range(20)])
    same = write_run(tmp_path / "same", [0.6 + 0.01 * i + (0.02 if i % 2 else -0.02) for i in range(20)])
    code, out, err = run_cli(capsys, "eval", "compare", str(base), str(worse), "--fail-on-regression",
                             "--junit", str(tmp_path / "cmp.xml"))
    assert code == 1 and "FAIL rag: token_f1 new - base -0.1" in out and "B is worse than A on token_f1 for rag" in err
    assert ET.parse(tmp_path / "cmp.xml").getroot().get("failures") == "1"
    code, out, _ = run_cli(capsys, "eval", "compare", str(worse), str(base), "--fail-on-regression")
    assert code == 0 and "better" in out
    code, out, _ = run_cli(capsys, "eval", "compare", str(base), str(same), "--fail-on-regression", "--json")
    assert code == 0 and json.loads(out)["regressions"][0]["message"].endswith("no detectable change")
    # the paired difference is decision.paired_difference's, on the questions both runs answered
    found = regressions(load_run(base), load_run(worse), "token_f1")
    assert found[0].difference.n == 20 and found[0].difference.difference == pytest.approx(-0.1)
    code, _, err = run_cli(capsys, "eval", "compare", str(base), str(worse), "--fail-on-regression",
                           "--metric", "latency_p95")
    assert code == 1 and "needs a per-question mean" in err


def test_a_run_off_a_terminal_prints_one_plain_line_per_stage_and_its_answering_progress(tmp_path, capsys):
    code, _, err = run_cli(capsys, "eval", "run", "--bench", "python-faq", "--from", str(PYTHON_DOC_TREE),
                           "--distractors", "0", "--cache", str(tmp_path / "cache"), "--systems", "closed-book",
                           "--limit", "4", "--warmup", "1", "--out", str(tmp_path / "run"))
    assert code == 0
    lines = [line for line in err.splitlines() if line.startswith("ragft: ")]
    assert lines[0] == "ragft: warming up on 1 questions (not timed)"
    assert "ragft: answering: 4 answers from 1 systems" in lines
    assert [line.split(" (")[0] for line in lines if line.startswith("ragft: answering ")] == [
        f"ragft: answering {i}/4" for i in range(1, 5)]
    assert lines[-1] == "ragft: pricing, bootstrap intervals and the verdict"
    assert "\r" not in err and "Loading weights" not in err
