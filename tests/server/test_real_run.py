"""A real (tiny) run written by the eval runner renders as a report and opens in the app."""
from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from ragft.server.app import create_app
from server.conftest import LOCAL

runner = pytest.importorskip("ragft.evaluate.runner", reason="the eval runner is not in this tree yet")

PYTHON_DOC_TREE = Path(__file__).resolve().parents[1] / "data" / "python3.11-doc"


@pytest.fixture(scope="module")
def real_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("real-runs")
    runner.run_eval({"bench": ["python-faq"], "bench_source": str(PYTHON_DOC_TREE), "bench_cache": str(root / "cache"),
                     "distractors": 0, "systems": "closed-book,rag", "embedder": "test-server-hashing", "limit": 4,
                     "warmup": 0, "freshness_trials": 1, "profile": "customer-support", "bootstrap_resamples": 200},
                    out=root / "runs" / "tiny")
    return root / "runs"


def test_a_runner_written_run_renders_every_table_row_and_its_verdict(real_runs, index_path):
    from ragft.report import load_run, write_report

    run = load_run(real_runs / "tiny")
    paths = write_report(run.path, real_runs.parent / "out")
    page = paths[0].read_text()
    for row in run.table.rows:
        assert str(escape(row.label)) in page
    assert f'<div class="label">{escape(run.verdict.label)}</div>' in page
    assert page.count("<details>") >= len(run.table.systems)       # worst answers, and more measurements

    with TestClient(create_app(index_path, real_runs), base_url=LOCAL) as client:
        assert '<a href="/runs/tiny">tiny</a>' in client.get("/runs").text
        assert client.get("/runs/tiny").status_code == 200
