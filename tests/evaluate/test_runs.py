"""Run folders: interrupted runs keep their rows and resume without redoing them; listing; comparing runs."""
from __future__ import annotations

import json

import pytest

from ragft.cli import main
from ragft.errors import InputError
from ragft.evaluate.config import config_from_mapping
from ragft.evaluate.records import QuestionRecord
from ragft.evaluate.runner import evaluate
from ragft.evaluate.run_folder import QUESTIONS, Run, list_runs, load_run, read_records
from ragft.evaluate.runs import compare_runs, new_run_dir, write_records
from ragft.evaluate.table import build_table
from ragft.llm.base import GENERATORS
from ragft.llm.generators.extractive import ExtractiveGenerator

from .conftest import PYTHON_DOC_TREE
from .test_cli import _run


class InterruptOnce(ExtractiveGenerator):
    """The extractive generator, except that one call raises KeyboardInterrupt, as Ctrl-C does."""

    name = "interrupt-once"
    calls = 0
    at: int | None = None

    def generate(self, request):
        InterruptOnce.calls += 1
        if InterruptOnce.calls == InterruptOnce.at:
            InterruptOnce.at = None
            raise KeyboardInterrupt
        return super().generate(request)


@pytest.fixture(autouse=True)
def generators():
    """The generators these tests name (classes below), registered for each test only."""
    with GENERATORS.registered("interrupt-once", InterruptOnce), GENERATORS.registered("fixed", FixedAnswer), \
            GENERATORS.registered("recording-seeds", RecordingSeeds):
        yield


def _config(tmp_path, **extra):
    data = {"bench": "python-faq", "bench_source": str(PYTHON_DOC_TREE), "bench_cache": str(tmp_path / "cache"),
            "distractors": 0, "systems": "closed-book", "limit": 10, "warmup": 0, "bootstrap_resamples": 200}
    return config_from_mapping({**data, **extra})


def test_an_interrupted_run_keeps_its_rows_and_resume_finishes_without_redoing_them(tmp_path):
    config = _config(tmp_path, systems=[{"name": "closed-book", "kind": "closed-book",
                                         "generator": "interrupt-once"}])
    InterruptOnce.calls, InterruptOnce.at = 0, 7
    with pytest.raises(KeyboardInterrupt):
        evaluate(config, out=tmp_path / "run")
    partial = load_run(tmp_path / "run")
    assert partial.manifest.status == "interrupted" and partial.table is None
    assert len(partial.records) == 6
    assert (tmp_path / "run" / "questions.csv").read_text().count("\n") == 7   # header + 6 rows

    calls_before = InterruptOnce.calls
    finished = evaluate(resume=tmp_path / "run")
    assert finished.manifest.status == "complete"
    assert InterruptOnce.calls - calls_before == 4            # only the 4 questions not answered yet
    assert [r.question_id for r in finished.records[:6]] == [r.question_id for r in partial.records]
    assert [r.timings for r in finished.records[:6]] == [r.timings for r in partial.records]
    assert len({r.question_id for r in finished.records}) == 10 and finished.table.n_questions == 10


def test_a_row_cut_short_by_a_kill_is_dropped_on_resume(tmp_path):
    run = evaluate(_config(tmp_path, limit=4), out=tmp_path / "run")
    path = tmp_path / "run" / QUESTIONS
    text = path.read_text()
    path.write_text(text + text.splitlines()[0][:40])             # a kill -9 in the middle of a write
    assert len(read_records(path)) == 4
    assert len(read_records(path, repair=True)) == 4 and path.read_text() == text
    assert len(run.records) == 4


def test_a_corrupt_row_in_the_middle_is_an_error_naming_the_line(tmp_path):
    path = tmp_path / QUESTIONS
    good = QuestionRecord(system="a", question_id="q1", question="q", reference_answer="r", answer="x")
    write_records(path, [good, good])
    lines = path.read_text().splitlines()
    path.write_text(lines[0] + "\n{\"system\": 1}\n" + lines[1] + "\n")
    with pytest.raises(InputError, match=r"questions.jsonl:2: not a question record"):
        read_records(path)


def test_the_same_config_and_seed_give_the_same_answers_and_scores(tmp_path):
    first = evaluate(_config(tmp_path, limit=5), out=tmp_path / "a")
    second = evaluate(_config(tmp_path, limit=5), out=tmp_path / "b")
    strip = lambda run: [(r.question_id, r.answer, r.quality, r.hallucinated) for r in run.records]  # noqa: E731
    assert strip(first) == strip(second)
    assert first.manifest.evalset_sha256 == second.manifest.evalset_sha256


def test_run_folders_are_named_by_time_and_bench_and_listed_oldest_first(tmp_path):
    from datetime import datetime, timezone

    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert new_run_dir(tmp_path, "python-faq", when).name == "20260102-030405-python-faq"
    assert new_run_dir(tmp_path, "python-faq", when).name == "20260102-030405-python-faq-2"
    evaluate(_config(tmp_path, limit=2), out=tmp_path / "runs" / "b-run")
    (tmp_path / "runs" / "a-not-a-run").mkdir()
    assert [run.path.name for run in list_runs(tmp_path / "runs")] == ["b-run"]


def _crafted_run(tmp_path, name: str, f1: list[float]) -> Run:
    records = [QuestionRecord(system="rag", question_id=f"q{i}", question="q", reference_answer="r", answer="a",
                              quality={"token_f1": v, "rouge_l": v}, timings={"total": 1.0}, hallucinated=False)
               for i, v in enumerate(f1)]
    table = build_table(records, ["rag"], run_id=name, bench="crafted")
    from ragft.evaluate.records import RunManifest

    manifest = RunManifest(run_id=name, created_at="2026-01-01T00:00:00+00:00", bench="crafted",
                           evalset_sha256="0" * 64, systems=[])
    return Run(path=tmp_path / name, manifest=manifest, records=records, table=table)


def test_compare_pairs_the_questions_both_runs_answered_and_names_the_better_run(tmp_path):
    a = _crafted_run(tmp_path, "A", [0.2 + 0.01 * i for i in range(20)])
    b = _crafted_run(tmp_path, "B", [0.6 + 0.01 * i for i in range(20)])
    result = compare_runs(a, b)
    f1 = next(row for row in result.rows if row.key == "token_f1")
    assert f1.better == "b" and f1.difference == pytest.approx(0.4) and "paired" in f1.method
    latency = next(row for row in result.rows if row.key == "latency_p95")
    assert latency.better == "tie" and latency.difference == 0
    abstention = next(row for row in result.rows if row.key == "abstention_rate")
    assert abstention.better == "n/a" and "neither direction" in abstention.method     # unranked row


def test_cli_runs_compares_shows_and_lists(tmp_path, capsys):
    def cli(*args):
        return _run(capsys, *args)

    common = ["eval", "run", "--bench", "python-faq", "--from", str(PYTHON_DOC_TREE), "--distractors", "0",
              "--cache", str(tmp_path / "cache"),
              "--systems", "closed-book", "--limit", "3", "--warmup", "0", "--json"]
    code, out, _ = cli(*common, "--out", str(tmp_path / "runs" / "one"))
    assert code == 0 and json.loads(out)["status"] == "complete"
    code, out, _ = cli(*common, "--seed", "1", "--out", str(tmp_path / "runs" / "two"))
    assert code == 0
    code, out, _ = cli("eval", "compare", str(tmp_path / "runs" / "one"), str(tmp_path / "runs" / "two"), "--json")
    assert code == 0 and {row["system"] for row in json.loads(out)["rows"]} == {"closed-book"}
    code, out, _ = cli("eval", "show", str(tmp_path / "runs" / "one"))
    assert code == 0 and "Hallucination rate" in out and "seed says" in out
    assert "verdict, measured" in out and "nothing measured to test it" in out and "reference: the generator" in out
    code, out, _ = cli("eval", "list", "--runs-dir", str(tmp_path / "runs"), "--json")
    assert [row["status"] for row in json.loads(out)] == ["complete", "complete"]
    code, _, err = cli("eval", "compare", str(tmp_path / "runs" / "one"), str(tmp_path / "nope"))
    assert code == 1 and err.startswith("error: ") and "not a run folder" in err


def test_cli_reports_a_malformed_eval_set_line_with_its_number(tmp_path, capsys):
    evalset = tmp_path / "set.jsonl"
    evalset.write_text('{"question": "a?", "reference_answer": "b"}\n{"question": "c?",\n')
    try:
        main(["eval", "run", "--evalset", str(evalset), "--systems", "closed-book", "--out", str(tmp_path / "r")])
    except SystemExit as done:
        assert done.code == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {evalset}:2: not valid JSON") and err.count("\n") == 1


class FixedAnswer:
    """A generator that always gives the same answer or verdict: a stand-in for a model with known output."""

    def __init__(self, text: str = "Python was created by a committee in 1975."):
        self.name, self.model, self.text = "fixed", "fixed-v1", text

    def generate(self, request):
        from ragft.llm.base import Generation

        return Generation(text=self.text, input_tokens=10, output_tokens=5, model=self.model)

    def stream(self, request):
        yield self.text


def test_a_judge_adds_its_own_hallucination_row_and_its_prompt_is_recorded(tmp_path):
    config = _config(tmp_path, limit=4, judge="fixed", judge_options={"text": "UNSUPPORTED"},
                     systems=[{"name": "closed-book", "kind": "closed-book", "generator": "fixed"}])
    run = evaluate(config, out=tmp_path / "run")
    assert all(r.judge_hallucinated is True and r.hallucinated is True for r in run.records)
    judge = run.manifest.measurements["judge"]
    assert judge["generator"] == "fixed" and judge["model"] == "fixed-v1" and "{sentence}" in judge["prompt"]
    row = next(row for row in run.table.rows if row.key == "judge_hallucination_rate")
    assert row.values["closed-book"].value == 1.0 and "LLM judge" in row.values["closed-book"].method


def test_repeat_answers_each_question_once_per_seed_and_the_profile_drives_the_verdict(tmp_path):
    config = _config(tmp_path, limit=3, repeat=2, profile="legal-search",
                     systems=[{"name": "closed-book", "kind": "closed-book", "generator": "recording-seeds"}])
    RecordingSeeds.seeds.clear()
    run = evaluate(config, out=tmp_path / "run")
    assert sorted((r.question_id, r.repeat) for r in run.records) == sorted(
        (qid, rep) for qid in {r.question_id for r in run.records} for rep in (0, 1))
    assert sorted(RecordingSeeds.seeds) == [0, 0, 0, 1, 1, 1]
    assert run.table.n_questions == 3
    f1 = next(row for row in run.table.rows if row.key == "token_f1").values["closed-book"]
    assert f1.n == 6
    assert run.verdict.label == "RAG with caching and streaming"


class RecordingSeeds(ExtractiveGenerator):
    name = "recording-seeds"
    seeds: list = []

    def generate(self, request):
        RecordingSeeds.seeds.append(request.seed)
        return super().generate(request)


def test_resuming_after_the_corpus_changed_is_refused(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# A\n\nAlpha.\n")
    evalset = tmp_path / "set.jsonl"
    evalset.write_text(json.dumps({"question": "What is A?", "reference_answer": "Alpha."}) + "\n")
    config = config_from_mapping({"evalset": str(evalset), "docs": [str(docs)], "systems": "closed-book",
                                  "warmup": 0, "bootstrap_resamples": 200})
    evaluate(config, out=tmp_path / "run")
    (docs / "a.md").write_text("# A\n\nAleph.\n")
    with pytest.raises(InputError, match="the questions or the corpus changed since the run started"):
        evaluate(resume=tmp_path / "run")
