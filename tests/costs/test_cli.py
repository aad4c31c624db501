"""`ragft cost` prints costs, break-evens and claims; bad input is one line on stderr and exit 1."""
from __future__ import annotations

import json

import pytest

from support import run_cli


def test_cost_json_reports_three_systems_and_break_evens(capsys, price_file):
    code, out, _ = run_cli(capsys, "cost", "--prices", str(price_file), "--model", "chat-a", "--embedding-model",
                           "embed-a", "--volume", "5000", "--k", "4", "--chunk-tokens", "250", "--json")
    assert code == 0
    data = json.loads(out)
    rag = next(s for s in data["report"]["systems"] if s["name"] == "rag")
    # (200 prompt + 4 x 250) x $1/1M + 200 x $4/1M + 200 x $0.1/1M embedding
    assert rag["variable_per_query_usd"] == pytest.approx(1200 / 1e6 + 800 / 1e6 + 20 / 1e6)
    assert len(data["report"]["break_evens"]) == 3


def test_seed_scenario_prints_its_contradictions_and_charts(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "cost", "--scenario", "seed", "--chart-dir", str(tmp_path))
    assert code == 0
    assert "does not hold" in out and "break-even (question 4 figures)" in out
    assert (tmp_path / "monthly-cost.png").read_bytes()[:4] == b"\x89PNG"


def test_prices_lists_sources_and_dates(capsys):
    code, out, _ = run_cli(capsys, "cost", "prices", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["chat"]["gpt-4o-mini"]["source"].startswith("https://")
    assert data["fine_tuning"]["gpt-4o-mini"]["as_of"] == "2024-07-23"


@pytest.mark.parametrize("args, message", [
    (["--volume", "-5"], "error: --volume: input should be greater than 0"),
    (["--tokens-per-s", "0"], "error: --tokens-per-s: input should be greater than 0"),
    (["--model", "gpt4o-mini"], "did you mean gpt-4o-mini"),
    (["--scenario", "nope"], "error: unknown scenario 'nope'"),
])
def test_bad_flags_give_one_line_errors(capsys, args, message):
    code, out, err = run_cli(capsys, "cost", *args)
    assert code == 1
    assert message in err and err.count("\n") == 1


def test_price_file_missing_a_column_is_one_line_naming_file_and_field(capsys, tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('[[vector_db]]\nname = "db"\nmonthly_fixed_usd = 1\nper_gb_month_usd = 1\n'
                    'per_1m_writes_usd = 1\nsource = "s"\nas_of = 2026-01-01\n')
    code, _, err = run_cli(capsys, "cost", "--prices", str(path))
    assert code == 1
    assert f"{path}: [[vector_db]] #1 (db): field 'per_1m_queries_usd': missing column" in err


def test_measured_inputs_from_files_drive_the_estimate(capsys, tmp_path, price_file):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(" ".join(["hello world"] * 500))  # cl100k: "hello" + 999 x " world"|" hello" = 1,000
    train = tmp_path / "train.jsonl"
    train.write_text(json.dumps({"prompt": "hello world", "completion": "hello world"}) + "\n")
    code, out, _ = run_cli(capsys, "cost", "--prices", str(price_file), "--model", "chat-a", "--embedding-model",
                           "embed-a", "--docs", str(docs), "--train", str(train), "--epochs", "1", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["inputs"]["corpus_tokens"] == 1000
    ft = next(s for s in data["report"]["systems"] if s["name"] == "fine-tuned")
    assert ft["training_run_usd"] == pytest.approx(1 * 4 * 1 * 10.0 / 1e6)  # 1 example x 4 tokens x $10/1M
    assert any("training set 1 examples" in note for note in data["report"]["assumptions"])
