"""`ragft report RUN` writes the files asked for; bad input is one line and exit 1."""
from __future__ import annotations

import json

import pytest

from ragft.cli import main


def run_cli(capsys, *args):
    with pytest.raises(SystemExit) as done:
        main(list(args))
        raise SystemExit(0)
    out, err = capsys.readouterr()
    return done.value.code or 0, out, err


def test_report_writes_html_and_markdown_into_the_run_folder_by_default(capsys, sample_run, tmp_path):
    import shutil

    copy = shutil.copytree(sample_run, tmp_path / "run")
    code, out, _ = run_cli(capsys, "report", str(copy))
    assert code == 0
    assert (copy / "report.html").read_text().startswith("<!doctype html>")
    assert (copy / "report.md").read_text().startswith("# RAG, fine-tuning, or both?")
    assert out.count("wrote ") == 2


def test_report_format_md_writes_only_markdown_to_out(capsys, sample_run, tmp_path):
    code, out, _ = run_cli(capsys, "report", str(sample_run), "--out", str(tmp_path / "out"), "--format", "md",
                           "--json")
    assert code == 0
    assert json.loads(out)["files"] == [str(tmp_path / "out" / "report.md")]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report.md"]


@pytest.mark.parametrize("args, message", [
    (["--format", "pdf"], "error: --format pdf is not known"),
])
def test_report_rejects_an_unknown_format(capsys, sample_run, args, message):
    code, _, err = run_cli(capsys, "report", str(sample_run), *args)
    assert code == 1 and err.startswith(message) and len(err.strip().splitlines()) == 1


def test_report_on_a_missing_folder_says_so_in_one_line(capsys, tmp_path):
    code, _, err = run_cli(capsys, "report", str(tmp_path / "missing"))
    assert code == 1 and "not found" in err and len(err.strip().splitlines()) == 1
