"""Provider and served fine-tunes as systems, end to end through `ragft eval run`: a base model and its
fine-tune behind one local OpenAI-compatible server (tests/evaluate/served_models.py). closed-book and rag ask
the base model, fine-tuned and hybrid the tuned one; the measurements follow what the server's models know."""
from __future__ import annotations

import json

import pytest
from llm.conftest import Provider, serve

from ragft.cli import main
from ragft.evaluate.run_folder import load_run

from .served_models import BASE, FACTS, SYSTEMS, TUNED, ServedModels, eval_run, served_run, write_eval_data

__all__ = ["served_run"]     # the fixture, imported so pytest finds it here


def _row(run, key):
    return next(row for row in run.table.rows if row.key == key)


def _f1(run) -> dict[str, float]:
    return {name: value.value for name, value in _row(run, "token_f1").values.items()}


def test_the_tuned_model_answers_the_tuned_systems_and_the_base_model_the_others(served_run):
    run = served_run()
    models = {}
    for record in run.records:
        assert record.error is None
        models.setdefault(record.system, set()).add(record.model)
    assert models == {"closed-book": {BASE}, "rag": {BASE}, "fine-tuned": {TUNED}, "hybrid": {TUNED}}
    assert all(len(r.contexts) == 2 for r in run.records if r.system in ("rag", "hybrid"))
    assert all(r.contexts == [] for r in run.records if r.system in ("closed-book", "fine-tuned"))
    assert {s.name: s.tuned_model for s in run.manifest.systems} == {
        "closed-book": None, "rag": None, "fine-tuned": TUNED, "hybrid": TUNED}


def test_a_tuned_model_that_knows_the_answers_beats_rag_on_f1_and_the_reverse_server_reverses_it(served_run):
    knows, reads = _f1(served_run()), _f1(served_run(False))
    assert knows["fine-tuned"] == pytest.approx(1.0) and knows["closed-book"] == 0.0
    assert knows["fine-tuned"] > knows["rag"] > 0      # rag quotes whole passages: right but diluted
    assert reads["rag"] > 0.9 and reads["fine-tuned"] == 0.0     # the reference plus its citation "[n]"
    assert reads["rag"] > reads["fine-tuned"]


def test_a_served_tune_without_a_job_record_says_its_training_was_not_measured(served_run):
    run = served_run()
    tuned = run.manifest.measurements["tuned_models"]["fine-tuned"]
    assert tuned["model"] == TUNED and tuned["base"] == BASE and tuned["job"] is None
    ttp, fresh = _row(run, "time_to_production").values, _row(run, "freshness").values
    assert ttp["fine-tuned"].value is None and ttp["fine-tuned"].note.startswith("n/a: not measured (no job record")
    assert ttp["hybrid"].value is None and "index build" in ttp["hybrid"].note
    assert fresh["fine-tuned"].value is None and "retraining not measured" in fresh["fine-tuned"].note
    assert any("training run not priced" in line for line in run.cost.assumptions)


def test_every_retrieving_system_runs_its_own_freshness_trials(served_run):
    for run in (served_run(), served_run(False)):
        trials = run.manifest.measurements["freshness"]
        assert set(trials) == {"rag", "hybrid"} and all(len(t) == 1 for t in trials.values())
        fresh = _row(run, "freshness").values
        for name in ("rag", "hybrid"):
            assert trials[name][0]["retrieved"] and trials[name][0]["fact_in_answer"]
            assert fresh[name].value == trials[name][0]["seconds"]
            assert fresh[name].note.startswith("1/1 trials answered from the newly added document (retrieved in 1/1")
    # the base model of the first server quotes the new document whole ([1]) and cites it, as does the reader
    assert served_run().manifest.measurements["freshness"]["rag"][0]["cited"]


def test_time_to_first_token_is_measured_for_every_streaming_system(served_run):
    run = served_run()
    ttft = _row(run, "ttft_p95").values
    p95 = _row(run, "latency_p95").values
    for name in SYSTEMS.split(","):
        assert ttft[name].value is not None and 0 < ttft[name].value <= p95[name].value
    assert all(0 < r.timings["ttft"] <= r.timings["total"] for r in run.records)


def test_a_provider_job_recorded_by_ragft_finetune_jobs_is_evaluated_with_its_cost_and_duration(
        tmp_path, monkeypatch, capsys):
    """`ragft finetune jobs create --wait` records the job; `ragft eval run --finetune-job ID` evaluates the model
    it produced (served by the provider's chat endpoint) and prices and times its training from the record."""
    from finetune.openai_server import KEY, FakeOpenAI

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    evalset, docs = write_eval_data(tmp_path)
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps({"question": q, "answer": a}) + "\n" for q, a in FACTS))
    ledger = tmp_path / "jobs.json"
    with FakeOpenAI() as jobs:
        main_ok(capsys, "finetune", "jobs", "create", str(data), "--model", "gpt-4o-mini-2024-07-18", "--wait",
                "--poll", "0", "--base-url", jobs.base_url, "--ledger", str(ledger))
        trained_tokens = jobs.state.jobs["ftjob-0001"]["trained_tokens"]
    tuned = "ft:gpt-4o-mini-2024-07-18:org-test::0001"
    served = Provider(respond=ServedModels(tuned=tuned, base="gpt-4o-mini"), prompt_tokens=None)
    with serve(served, openai_key=KEY) as chat:
        monkeypatch.setenv("OPENAI_BASE_URL", f"{chat.url}/v1")
        eval_run("--generator", "openai", "--model", "gpt-4o-mini", "--finetune-job", "ftjob-0001",
                 "--jobs-ledger", str(ledger), "--systems", "rag,fine-tuned", "--evalset", str(evalset),
                 "--docs", str(docs), "--warmup", "0", "--freshness-trials", "0", "--out", str(tmp_path / "run"))
    run = load_run(tmp_path / "run")
    assert {r.model for r in run.records if r.system == "fine-tuned"} == {tuned}
    assert run.manifest.systems[1].tuned_model == tuned and run.manifest.systems[1].job == "ftjob-0001"
    record = run.manifest.measurements["tuned_models"]["fine-tuned"]
    assert (record["job"], record["base"], record["training_seconds"]) == ("ftjob-0001", "gpt-4o-mini-2024-07-18", 60)
    assert record["trained_tokens"] == trained_tokens and record["examples"] == len(FACTS)
    ttp, fresh = _row(run, "time_to_production").values, _row(run, "freshness").values
    assert ttp["fine-tuned"].value == 60 and "provider job ftjob-0001" in ttp["fine-tuned"].note
    assert fresh["fine-tuned"].value == 60 and fresh["fine-tuned"].note.startswith("retrain and deploy")
    assert fresh["rag"].note == "n/a: not measured (freshness_trials = 0)"
    cost = {s.name: s for s in run.cost.systems}
    assert cost["fine-tuned"].training_run_usd == pytest.approx(trained_tokens * 3.00 / 1e6)
    assert _f1(run)["fine-tuned"] == pytest.approx(1.0)


def main_ok(capsys, *args: str) -> str:
    try:
        main(list(args))
    except SystemExit as done:
        if done.code:
            raise AssertionError(f"exit {done.code}: {capsys.readouterr().err}") from None
    return capsys.readouterr().out


def test_served_models_script_reads_the_request_ragft_sends():
    from ragft.llm.base import GenerationRequest, Passage
    from ragft.llm.generators.openai import ChatCompletionsGenerator

    body = ChatCompletionsGenerator(client=None, model=BASE, name="t").body(GenerationRequest(
        question=FACTS[0][0], passages=(Passage(1, "c1", "Some text.", "Title"), Passage(2, "c2", FACTS[0][1]))))
    assert ServedModels(tuned_knows=True)(body) == "Title: Some text. [1]"
    assert ServedModels(tuned_knows=False)(body) == f"{FACTS[0][1]} [2]"
    assert ServedModels()(dict(body, model=TUNED)) == FACTS[0][1]


def test_the_measured_verdict_follows_the_server_fine_tuning_when_the_tune_knows_rag_when_it_does_not(served_run):
    knows = served_run(True, "--profile", "python-docs-assistant").verdict
    reads = served_run(False, "--profile", "python-docs-assistant").verdict
    assert knows.framework.architecture == reads.framework.architecture == "rag"   # the profile alone
    assert knows.architecture in ("fine-tuning", "hybrid") and knows.agrees is False
    assert {c.system for c in knows.contenders} == {"rag", "fine-tuned", "hybrid"}
    assert reads.architecture == "rag" and reads.system == "rag"
    assert "closed-book" in {r.system for r in knows.references}
