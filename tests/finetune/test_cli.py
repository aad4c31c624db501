"""`ragft finetune ...` end to end through the CLI entry point: results, --json, one-line errors."""
from __future__ import annotations

import json

import pytest

from ragft.cli import main

from .openai_server import KEY, FakeOpenAI


def run(capsys, *args):
    with pytest.raises(SystemExit) as done:
        main(list(args))
    captured = capsys.readouterr()
    return done.value.code, captured.out, captured.err


def ok(capsys, *args):
    try:
        main(list(args))
    except SystemExit as done:
        raise AssertionError(f"exit {done.code}: {capsys.readouterr().err}") from None
    return capsys.readouterr().out


@pytest.fixture
def faq(tmp_path):
    lines = [{"question": f"What is the capital of country {i}?", "answer": f"City {i}."} for i in range(20)]
    path = tmp_path / "faq.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_prepare_writes_all_formats_and_a_manifest(capsys, faq, tmp_path):
    result = json.loads(ok(capsys, "finetune", "prepare", str(faq), "--out", str(tmp_path / "ds"),
                           "--recipe", "paraphrase", "--paraphrases", "2", "--val-fraction", "0.2", "--json"))
    assert (result["train"], result["validation"], result["facts"]) == (32, 8, 20)
    assert json.loads((tmp_path / "ds" / "prepare.json").read_text())["train_sha256"] == result["train_sha256"]
    first = json.loads((tmp_path / "ds" / "openai" / "train.jsonl").read_text().splitlines()[0])
    assert [m["role"] for m in first["messages"]] == ["user", "assistant"]
    assert (tmp_path / "ds" / "hf" / "train" / "data-00000-of-00001.arrow").is_file()


def test_prepare_refuses_leakage_against_an_eval_set_and_writes_nothing(capsys, faq, tmp_path):
    eval_set = tmp_path / "eval.jsonl"
    eval_set.write_text(json.dumps({"id": "e1", "question": "What is the capital of country 7?",
                                    "reference_answer": "City 7."}) + "\n")
    code, _, err = run(capsys, "finetune", "prepare", str(faq), "--out", str(tmp_path / "ds"),
                       "--eval-set", str(eval_set))
    assert code == 1 and not (tmp_path / "ds").exists()
    assert f"{faq}:8: error: leaks evaluation question" in err
    assert err.strip().splitlines()[-1].startswith("error: 1 problem(s) in the training data")


def test_validate_reports_a_broken_line_with_file_and_line(capsys, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "a", "completion": "b"}\n{"prompt": "x",\n')
    code, out, err = run(capsys, "finetune", "validate", str(bad), "--model", "gpt-4.1-mini")
    assert code == 1
    assert err.splitlines()[0].startswith(f"{bad}:2: error: not valid JSON")
    assert err.splitlines()[-1] == f"error: {bad}: 1 problem(s) found (listed above); fix them and re-run"


def test_estimate_refuses_a_dataset_over_the_cost_budget(capsys, faq):
    code, out, err = run(capsys, "finetune", "estimate", str(faq), "--model", "gpt-4.1", "--max-cost", "0.0001")
    assert code == 1 and "gpt-4.1" in out
    assert err.startswith("error: estimated training cost $") and err.count("\n") == 1


def test_train_with_a_missing_base_model_is_one_line(capsys, faq, tmp_path):
    code, _, err = run(capsys, "finetune", "train", str(faq), "--out", str(tmp_path / "a"),
                       "--base", str(tmp_path / "no-such-model"), "--device", "cpu")
    assert code == 1 and err.count("\n") == 1 and "neither a bundled model" in err
    assert not (tmp_path / "a").exists()


def test_train_draws_its_step_bar_with_the_loss_on_a_terminal_and_writes_the_adapter(capsys, faq, tmp_path,
                                                                                      monkeypatch):
    from ragft.adapters import verify_adapter

    from .tiny_gemma import build_tiny_gemma, build_tokenizer

    tokenizer = build_tokenizer()
    monkeypatch.setattr("ragft.finetune.train_local.load_base",
                        lambda base, device: (build_tiny_gemma(len(tokenizer)), tokenizer))
    monkeypatch.setenv("TTY_COMPATIBLE", "1")      # rich draws on the captured stderr as on a terminal
    main(["finetune", "train", str(faq), "--out", str(tmp_path / "a"), "--base", "tiny", "--device", "cpu",
          "--max-steps", "3", "--batch-size", "4"])
    out, err = capsys.readouterr()
    manifest = verify_adapter(tmp_path / "a")
    assert manifest.steps == 3 and "adapter written to" in out
    assert "training" in err and "3/3" in err and f"loss {manifest.losses[-1]:.3f}" in err


def test_jobs_create_wait_and_list_against_a_local_server(capsys, faq, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    ledger = tmp_path / "jobs.json"
    with FakeOpenAI() as server:
        out = ok(capsys, "finetune", "jobs", "create", str(faq), "--model", "gpt-4.1-mini-2025-04-14",
                 "--suffix", "faq", "--epochs", "2", "--max-cost", "1", "--wait", "--poll", "0", "--base-url", server.base_url,
                 "--ledger", str(ledger))
        assert out.strip() == ("ftjob-0001: succeeded [gpt-4.1-mini-2025-04-14] -> "
                               "ft:gpt-4.1-mini-2025-04-14:org-test:faq:0001")
        uploaded = server.state.files["file-0001"]["content"].splitlines()
        assert json.loads(uploaded[0])["messages"][0]["content"] == "Question: What is the capital of country 0?"
        listed = json.loads(ok(capsys, "finetune", "jobs", "list", "--base-url", server.base_url, "--json"))
        assert [j["status"] for j in listed] == ["succeeded"]
        code, _, err = run(capsys, "finetune", "jobs", "cancel", "ftjob-0001", "--base-url", server.base_url,
                           "--ledger", str(ledger))
        assert code == 1 and "already completed" in err and KEY not in err
    local = ok(capsys, "finetune", "jobs", "list", "--local", "--ledger", str(ledger))
    assert "ftjob-0001: succeeded" in local
