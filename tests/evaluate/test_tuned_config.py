"""How tuned systems are configured: an adapter (local LoRA), a tuned model by name, or a provider job whose
fine-tuned model is read from the jobs ledger."""
from __future__ import annotations

import json

import pytest

from ragft.errors import InputError, NotFoundError
from ragft.evaluate.config import config_from_mapping, parse_systems


def test_a_tuned_model_keeps_the_base_generator_and_options_for_every_system():
    systems = parse_systems("closed-book,rag,fine-tuned,hybrid", "openai-compatible", None,
                            {"model": "base", "base_url": "http://h/v1"}, tuned_model="base-ft")
    assert [(s.generator, s.tuned_model, s.adapter) for s in systems] == [
        ("openai-compatible", None, None), ("openai-compatible", None, None),
        ("openai-compatible", "base-ft", None), ("openai-compatible", "base-ft", None)]
    assert all(s.generator_options == {"model": "base", "base_url": "http://h/v1"} for s in systems)


def test_an_adapter_keeps_tuned_systems_on_the_local_generator_and_both_at_once_is_refused():
    systems = parse_systems("rag,fine-tuned", "openai", "adapters/x", {"model": "gpt-4o-mini"})
    assert [(s.generator, s.adapter) for s in systems] == [("openai", None), ("local", "adapters/x")]
    with pytest.raises(InputError, match="give --adapter .* or --tuned-model / --finetune-job .*, not both"):
        parse_systems("fine-tuned", "openai", "adapters/x", tuned_model="ft:x")


def _ledger(path, **entry):
    path.write_text(json.dumps({entry["id"]: entry}))
    return str(path)


def test_a_job_id_becomes_its_fine_tuned_model_in_the_run_config(tmp_path):
    ledger = _ledger(tmp_path / "jobs.json", id="ftjob-7", status="succeeded", model="gpt-4o-mini-2024-07-18",
                     fine_tuned_model="ft:gpt-4o-mini-2024-07-18:org::7")
    data = {"evalset": "set.jsonl", "jobs_ledger": ledger,
            "systems": [s.model_dump() for s in parse_systems("closed-book,fine-tuned", "openai", job="ftjob-7")]}
    config = config_from_mapping(data)
    assert config.systems[1].tuned_model == "ft:gpt-4o-mini-2024-07-18:org::7" and config.systems[1].job == "ftjob-7"
    # what the run folder keeps resolves again without the ledger (a resumed run needs no ledger)
    (tmp_path / "jobs.json").unlink()
    assert config_from_mapping(config.model_dump(mode="json")).systems[1].tuned_model == config.systems[1].tuned_model


def test_a_job_that_is_unknown_or_unfinished_is_a_one_line_error(tmp_path):
    ledger = _ledger(tmp_path / "jobs.json", id="ftjob-8", status="running", model="m", fine_tuned_model=None)
    systems = [s.model_dump() for s in parse_systems("fine-tuned", "openai", job="ftjob-8")]
    with pytest.raises(InputError, match=r"job ftjob-8 is 'running' in .*jobs.json, with no fine-tuned model yet"):
        config_from_mapping({"evalset": "set.jsonl", "jobs_ledger": ledger, "systems": systems})
    systems[0]["job"] = "ftjob-9"
    with pytest.raises(NotFoundError, match=r"jobs.json: no job ftjob-9 recorded"):
        config_from_mapping({"evalset": "set.jsonl", "jobs_ledger": ledger, "systems": systems})
