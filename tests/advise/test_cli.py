"""`ragft advise` through ragft.cli.main: example, file, flags, prompts; one-line errors with exit code 1."""
import json

import pytest
from typer.testing import CliRunner

import ragft.cli.advise as advise_cli
from ragft.cli import app
from support import run_cli


def verdict_of(capsys, *args: str) -> dict:
    code, out, err = run_cli(capsys, *args, "--json")
    assert (code, err) == (0, "")
    return json.loads(out)["verdict"]


def test_example_verdict_as_json(capsys):
    verdict = verdict_of(capsys, "advise", "--example", "medical-diagnosis")
    assert verdict["label"] == "RAG plus validation layer"
    assert [step["question"] for step in verdict["trace"]] == ["q1", "q2", "q3", "q4", "q5"]


def test_text_output_shows_the_verdict_the_gate_and_the_hybrid_checklist(capsys):
    code, out, _ = run_cli(capsys, "advise", "--example", "customer-support")
    assert code == 0
    assert "RAG" in out
    assert out.count("not asked") == 3
    assert "Hybrid checklist" in out and "not reached" in out


def test_list_examples_names_all_six(capsys):
    code, out, _ = run_cli(capsys, "advise", "--list-examples")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == [
        "coding-assistant", "customer-support", "financial-advisor", "legal-search", "medical-diagnosis",
        "python-docs-assistant"]


def test_flags_alone_make_a_profile(capsys):
    verdict = verdict_of(capsys, "advise", "--knowledge-valid-months", "3", "--latency-p95", "2")
    assert (verdict["stopped_at"], verdict["label"]) == ("q1", "RAG")
    assert "cost_ceiling_usd" in verdict["left_to_data"]


def test_flags_override_the_profile_file(capsys, tmp_path):
    path = tmp_path / "product.toml"
    path.write_text('knowledge_valid_months = 12\nknowledge = "style"\nlabeled_examples = 500\n')
    assert verdict_of(capsys, "advise", "--profile", str(path))["architecture"] == "fine-tuning"
    assert verdict_of(capsys, "advise", "--profile", str(path), "--knowledge-valid-months", "2")["stopped_at"] == "q1"


def test_flags_override_an_example(capsys):
    verdict = verdict_of(capsys, "advise", "--example", "legal-search", "--no-streaming")
    assert verdict["label"] == "RAG"


def test_rules_and_measurements_files_are_applied(capsys, tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text("[q1]\nmin_stable_months = 0.25\n")
    measured = tmp_path / "measured.toml"
    measured.write_text("[rag]\nhallucination_rate = 0.2\n")
    verdict = verdict_of(capsys, "advise", "--example", "customer-support", "--rules", str(rules),
                         "--measurements", str(measured))
    assert verdict["stopped_at"] is None
    assert verdict["label"] == "RAG plus validation layer"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--cost-ceiling", "abc"], "error: --cost-ceiling = 'abc' is invalid: expected a number >= 0 (USD per query)"),
        (["--latency-p95", "-1"], "error: --latency-p95 = '-1' is invalid: expected a number > 0 (seconds)"),
        (["--knowledge", "pdfs"], "error: --knowledge = 'pdfs' is invalid: expected one of documents, style, both"),
        (["--profile", "missing.toml"], "error: profile file 'missing.toml' not found: check the path"),
        (["--example", "legal"],
         "error: unknown example 'legal' (did you mean legal-search?); choose one of: "
         "coding-assistant, customer-support, financial-advisor, legal-search, medical-diagnosis, "
         "python-docs-assistant"),
        (["--example", "legal-search", "--profile", "x.toml"],
         "error: give either --profile FILE or --example NAME, not both"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_1(capsys, args, message):
    code, out, err = run_cli(capsys, "advise", *args)
    assert (code, out, err) == (1, "", message + "\n")


def test_unknown_key_in_a_profile_file_names_the_file(capsys, tmp_path):
    path = tmp_path / "product.yaml"
    path.write_text("knowledge: documents\nstreaming: true\n")
    code, _, err = run_cli(capsys, "advise", "--profile", str(path))
    assert code == 1
    assert err.startswith(f"error: {path}: unknown key 'streaming' (did you mean streaming_ok?)")
    assert err.count("\n") == 1


def test_no_input_without_a_terminal_is_a_clear_error(capsys, monkeypatch):
    monkeypatch.setattr(advise_cli, "_stdin_is_tty", lambda: False)
    code, _, err = run_cli(capsys, "advise")
    assert code == 1
    assert err.startswith("error: no profile given and stdin is not a terminal: pass --profile FILE")


def test_prompts_ask_each_answer_reask_bad_ones_and_leave_blanks_to_data(monkeypatch):
    monkeypatch.setattr(advise_cli, "_stdin_is_tty", lambda: True)
    # months, latency (bad then good), streaming, knowledge, then blanks for the remaining ten answers.
    answers = ["24", "-3", "1.5", "y", "style", "", "", "", "", "", "800", "", "", ""]
    result = CliRunner().invoke(app, ["advise", "--json"], input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    assert "latency_p95_s = '-3' is invalid" in result.output
    payload = json.loads(result.output[result.output.index("{\n"):])
    assert payload["profile"]["latency_p95_s"] == 1.5
    assert payload["profile"]["labeled_examples"] == 800
    assert payload["verdict"]["architecture"] == "fine-tuning"
    assert "cost_ceiling_usd" in payload["verdict"]["left_to_data"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    from report.sample_run import write_sample_run

    return write_sample_run(tmp_path_factory.mktemp("runs") / "sample-run")


def test_advise_run_re_derives_the_run_s_measured_verdict(capsys, run_dir):
    code, out, err = run_cli(capsys, "advise", "--run", str(run_dir), "--json")
    assert (code, err) == (0, "")
    verdict = json.loads(out)
    written = json.loads((run_dir / "verdict.json").read_text())
    assert (verdict["system"], verdict["basis"]) == ("hybrid", "quality")
    assert verdict["framework"]["architecture"] == "rag" and verdict["agrees"] is False
    assert {c["system"] for c in verdict["contenders"]} == {c["system"] for c in written["contenders"]}
    assert verdict["deciding"]["low"] > 0


def test_advise_run_with_another_profile_decides_again_without_re_measuring(capsys, run_dir):
    _, out, _ = run_cli(capsys, "advise", "--run", str(run_dir), "--latency-p95", "2.5", "--json")
    verdict = json.loads(out)
    assert (verdict["architecture"], verdict["basis"]) == ("fine-tuning", "only-feasible")
    hybrid = next(c for c in verdict["contenders"] if c["system"] == "hybrid")
    assert not hybrid["feasible"] and "over the 2.5 s budget by" in hybrid["checks"][0]["text"]
    assert any(flip.startswith("hybrid has the higher answer F1") for flip in verdict["flips"])


def test_advise_run_prints_the_decision_the_framework_and_the_contenders(capsys, run_dir):
    code, out, _ = run_cli(capsys, "advise", "--run", str(run_dir), "--example", "python-docs-assistant")
    assert code == 0
    assert "verdict, measured" in out and "the framework says: RAG" in out
    assert "contenders (generator family local)" in out and "reference: the extractive answerer" in out


def test_advise_run_names_contenders_and_refuses_a_reference_row_in_one_line(capsys, run_dir):
    _, out, _ = run_cli(capsys, "advise", "--run", str(run_dir), "--contenders", "rag,fine-tuned", "--json")
    verdict = json.loads(out)
    assert verdict["family"] == "named" and [c["system"] for c in verdict["contenders"]] == ["rag", "fine-tuned"]
    code, _, err = run_cli(capsys, "advise", "--run", str(run_dir), "--contenders", "closed-book")
    assert code == 1 and err.count("\n") == 1 and "closed-book is closed-book, a reference row" in err
