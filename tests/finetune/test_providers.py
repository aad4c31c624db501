"""OpenAI fine-tuning jobs against a local server that speaks the documented wire format."""
from __future__ import annotations

import json

import pytest
from ragft.errors import InputError, NotFoundError, ProviderError
from ragft.finetune.dataset import Example, export_openai
from ragft.finetune.providers import JobsLedger, OpenAIFineTuning

from .openai_server import FAILING_MODEL, KEY, FakeOpenAI


@pytest.fixture
def server():
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def training_file(tmp_path):
    examples = [Example(prompt=f"What is {i}?", completion=f"It is {i}.") for i in range(10)]
    return export_openai(examples, tmp_path / "train.jsonl")


def client(server, key=KEY):
    return OpenAIFineTuning(api_key=key, base_url=server.base_url)


def test_upload_then_job_runs_through_its_lifecycle_to_a_fine_tuned_model(server, training_file):
    api = client(server)
    file_id = api.upload_file(training_file)
    assert server.state.files[file_id]["content"] == training_file.read_text()
    assert server.state.files[file_id]["filename"] == "train.jsonl"

    job = api.create_job(file_id, "gpt-4.1-mini-2025-04-14", hyperparameters={"n_epochs": 2}, suffix="faq")
    assert job.status == "validating_files"
    assert server.state.job_bodies[-1]["method"] == {
        "type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2}}}
    seen, sleeps = [], []
    done = api.wait(job.id, first_interval=2, sleep=sleeps.append, on_status=lambda j: seen.append(j.status))
    assert seen == ["queued", "running", "succeeded"]
    assert sleeps == [2, 3.0]
    assert done.fine_tuned_model == "ft:gpt-4.1-mini-2025-04-14:org-test:faq:0001"
    assert done.trained_tokens > 0


def test_a_failed_job_is_returned_with_its_error(server, training_file):
    api = client(server)
    job = api.create_job(api.upload_file(training_file), FAILING_MODEL)
    done = api.wait(job.id, sleep=lambda s: None)
    assert done.status == "failed" and done.error["message"] == "Too few examples."


def test_cancel_list_and_unknown_job(server, training_file):
    api = client(server)
    file_id = api.upload_file(training_file)
    first, second = api.create_job(file_id, "m1"), api.create_job(file_id, "m2")
    assert api.cancel_job(first.id).status == "cancelled"
    assert [j.id for j in api.list_jobs(limit=1)] == [second.id]
    with pytest.raises(ProviderError, match="HTTP 400: Job ftjob-0001 has already completed"):
        api.cancel_job(first.id)
    with pytest.raises(ProviderError, match="HTTP 404: Could not find fine-tune job ftjob-9999"):
        api.get_job("ftjob-9999")


def test_wrong_key_is_a_provider_error_that_never_shows_the_key(server, training_file):
    with pytest.raises(ProviderError) as caught:
        client(server, key="sk-wrong-secret").upload_file(training_file)
    assert "HTTP 401" in str(caught.value) and "sk-wrong-secret" not in str(caught.value)


def test_missing_key_and_missing_file_are_one_line_errors(server, tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(InputError, match="OPENAI_API_KEY is not set"):
        OpenAIFineTuning(base_url=server.base_url)
    with pytest.raises(NotFoundError, match="no such training file"):
        client(server).upload_file(tmp_path / "absent.jsonl")


def test_unreachable_server_is_a_provider_error():
    api = OpenAIFineTuning(api_key=KEY, base_url="http://127.0.0.1:9/v1", timeout=2)
    with pytest.raises(ProviderError, match="ConnectError"):
        api.list_jobs()


def test_wait_gives_up_after_the_timeout_and_says_how_to_check_later(server, training_file):
    api = client(server)
    job = api.create_job(api.upload_file(training_file), "m")
    with pytest.raises(ProviderError, match="ragft finetune jobs status ftjob-0001"):
        api.wait(job.id, first_interval=10, timeout=5, sleep=lambda s: None)


def test_ledger_records_jobs_and_updates_them_in_place(server, training_file, tmp_path):
    api = client(server)
    ledger = JobsLedger(tmp_path / "jobs.json")
    job = api.create_job(api.upload_file(training_file), "m", suffix="x")
    ledger.record(job, data_file=str(training_file))
    ledger.record(api.wait(job.id, sleep=lambda s: None))
    entry = json.loads((tmp_path / "jobs.json").read_text())[job.id]
    assert entry["status"] == "succeeded" and entry["fine_tuned_model"].startswith("ft:m:")
    assert entry["data_file"] == str(training_file)
    assert KEY not in (tmp_path / "jobs.json").read_text()


def test_the_ledger_finds_a_job_by_id_or_by_the_model_it_made_and_says_what_an_eval_needs(server, training_file,
                                                                                          tmp_path):
    from ragft.finetune.providers import training_record

    api = client(server)
    ledger = JobsLedger(tmp_path / "jobs.json")
    job = api.create_job(api.upload_file(training_file), "gpt-4o-mini-2024-07-18")
    ledger.record(job, data_file=str(training_file))
    with pytest.raises(InputError, match=rf"job {job.id} is 'validating_files' .* no fine-tuned model yet; wait "
                                         rf"for it with `ragft finetune jobs status {job.id} --wait`"):
        ledger.tuned_model(job.id)
    done = api.wait(job.id, sleep=lambda s: None)
    ledger.record(done)
    assert ledger.tuned_model(job.id) == done.fine_tuned_model
    assert ledger.find(model=done.fine_tuned_model)["id"] == job.id and ledger.find(model="ft:other") is None
    record = training_record(ledger.find(job.id))
    assert record == {"job": job.id, "status": "succeeded", "base": "gpt-4o-mini-2024-07-18",
                      "trained_tokens": done.trained_tokens, "examples": 10,
                      "training_seconds": float(done.finished_at - done.created_at), "base_url": None}
    with pytest.raises(NotFoundError, match="no job ftjob-9999 recorded; record it with `ragft finetune jobs status"):
        ledger.tuned_model("ftjob-9999")


def test_a_job_recorded_before_its_times_were_kept_has_no_training_seconds(tmp_path):
    from ragft.finetune.providers import training_record

    old = {"id": "ftjob-1", "status": "succeeded", "model": "m", "fine_tuned_model": "ft:m::1", "trained_tokens": 9,
           "data_file": str(tmp_path / "gone.jsonl")}
    assert training_record(old)["training_seconds"] is None and training_record(old)["examples"] is None
