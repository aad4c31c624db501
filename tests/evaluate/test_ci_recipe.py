"""docs/ci/ragft-eval.sh runs as documented on a tiny eval set: thresholds, the cached index reused on the next
run, a paired comparison against the baseline, JUnit files for the CI."""
from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from support import run_cli

from .conftest import PYTHON_DOC_TREE

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "ci" / "ragft-eval.sh"


def _gate(tmp_path, **env):
    ragft = Path(sys.executable).parent / "ragft"
    settings = {**os.environ, "RAGFT_DOCS": str(tmp_path / "docs"), "RAGFT_EVALSET": str(tmp_path / "set.jsonl"),
                "RAGFT_CI_DIR": str(tmp_path / "ci"), "RAGFT": str(ragft),
                "RAGFT_ARGS": "--limit 4 --warmup 0 --freshness-trials 0 --price-model gpt-4o-mini", **env}
    return subprocess.run(["bash", str(SCRIPT)], env=settings, capture_output=True, text=True, timeout=900,
                          check=False)


def test_the_shell_recipe_gates_caches_the_index_and_compares_with_the_baseline(tmp_path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    for page in ("installed.rst", "windows.rst"):
        source = next(PYTHON_DOC_TREE.rglob(page + ".txt"))
        (docs / page).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    assert run_cli(capsys, "eval", "make", str(docs), "-o", str(tmp_path / "set.jsonl"))[0] == 0

    first = _gate(tmp_path, RAGFT_FAIL_UNDER="token_f1=0.05", RAGFT_FAIL_OVER="latency_p95=600")
    assert first.returncode == 0, first.stderr[-2000:]
    assert (tmp_path / "ci" / "index").is_dir() and (tmp_path / "ci" / "baseline" / "table.json").is_file()
    assert "is the baseline now" in first.stdout and "reusing the cached index" not in first.stdout

    second = _gate(tmp_path, RAGFT_FAIL_UNDER="token_f1=0.99")
    assert second.returncode == 1
    assert "reusing the cached index" in second.stdout and "FAIL rag: token_f1" in second.stderr
    run = Path(second.stdout.strip().splitlines()[-1].split("run folder ")[1].split(" (exit")[0])
    thresholds = ET.parse(run / "junit-thresholds.xml").getroot()
    assert thresholds.get("failures") == "1" and thresholds.get("tests") == "2"
    regression = ET.parse(run / "junit-regression.xml").getroot()   # same questions, same answers: no regression
    assert regression.get("tests") == "1" and regression.get("failures") == "0"
    assert "is the baseline now" not in second.stdout
