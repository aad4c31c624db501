"""`ragft eval make` and `ragft eval bench` through the real entry point."""
from __future__ import annotations

import json
from pathlib import Path

from ragft.cli import main

DATA = Path(__file__).resolve().parents[1] / "data"


def _run(capsys, *args):
    try:
        main(list(args))
        code = 0
    except SystemExit as done:
        code = done.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_eval_make_writes_the_eval_set_and_reports_counts(tmp_path, capsys):
    target = tmp_path / "set.jsonl"
    code, out, _ = _run(capsys, "eval", "make", str(DATA / "python3.11-doc"), "-o", str(target), "--json")
    assert code == 0
    summary = json.loads(out)
    # '?' headings only: installed 3, gui 4, extending 17, windows 9
    assert summary == {"path": str(target), "questions": 33, "with_relevant_ids": 33, "documents": 4,
                       "skipped": []}
    assert len(target.read_text().splitlines()) == 33


def test_eval_bench_prepare_from_a_folder(tmp_path, capsys):
    code, out, _ = _run(capsys, "eval", "bench", "prepare", "debian-faq", "--from", str(DATA / "debian-faq"),
                        "--cache", str(tmp_path), "--json")
    summary = json.loads(out)
    assert code == 0 and summary["questions"] == 14 and summary["source"]["version"] == "11.1"
    code, out, _ = _run(capsys, "eval", "bench", "list", "--cache", str(tmp_path), "--json")
    assert {row["name"]: row["prepared"] for row in json.loads(out)} == {"debian-faq": True, "python-faq": False}


def test_eval_errors_are_one_line(tmp_path, capsys):
    code, _, err = _run(capsys, "eval", "bench", "prepare", "nope", "--cache", str(tmp_path))
    assert code == 1 and err == "error: unknown bench 'nope'; choose one of: debian-faq, python-faq\n"


def test_the_table_keeps_five_system_names_whole_at_80_columns(tmp_path):
    import os
    import subprocess
    import sys

    from .test_gate import write_run

    names = {"closed-book": "closed-book", "rag": "rag", "fine-tuned": "fine-tuned", "hybrid": "hybrid",
             "rag-openai-large": "rag"}
    run = write_run(tmp_path / "run", [0.3 + 0.02 * i for i in range(8)], systems=names)
    shown = subprocess.run([sys.executable, "-c", "from ragft.cli import main; main()", "eval", "show", str(run)],
                           capture_output=True, text=True, env={**os.environ, "COLUMNS": "80"}, timeout=120,
                           check=False)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80 and "…" not in shown.stdout
    for name in names:    # each system on its own line under each metric, its name whole
        assert sum(f" {name} " in line for line in lines) >= 5
    assert any("Answer F1" in line for line in lines) and "what the seed claims" in shown.stdout
