"""A sample run folder written from the real record models (see sample_run.py)."""
from __future__ import annotations

import pytest

from report.sample_run import write_sample_run


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory):
    return write_sample_run(tmp_path_factory.mktemp("runs") / "sample-run")


@pytest.fixture(scope="session")
def run(sample_run):
    from ragft.report import load_run

    return load_run(sample_run)


@pytest.fixture(scope="session")
def html_page(run):
    from ragft.report import render_html

    return render_html(run)


@pytest.fixture(scope="session")
def markdown_text(run):
    from ragft.report import render_markdown

    return render_markdown(run)
