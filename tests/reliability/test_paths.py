"""Ingested and served paths stay inside their configured root: symlinks and ../ cannot reach other files."""
from __future__ import annotations

import os

import pytest

from ragft.errors import InputError, NotFoundError
from ragft.rag.discovery import discover


@pytest.fixture
def corpus_with_escape(tmp_path):
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("the private key is not for indexing\n")
    docs = tmp_path / "root" / "docs"
    docs.mkdir(parents=True)
    (docs / "ok.md").write_text("# Fine\n\nA normal file.\n")
    os.symlink(secret, docs / "escape.txt")
    return tmp_path, docs


def test_a_symlink_out_of_the_ingest_root_is_refused_naming_it(corpus_with_escape):
    tmp_path, docs = corpus_with_escape
    with pytest.raises(InputError, match=r"escape\.txt: not under the ingest root"):
        discover([docs], root=docs)


def test_a_path_outside_the_given_root_is_refused(corpus_with_escape):
    tmp_path, docs = corpus_with_escape
    with pytest.raises(InputError, match="not under the ingest root"):
        discover([tmp_path / "outside" / "secret.txt"], root=docs)


def test_dot_dot_in_a_path_resolves_before_the_root_check(corpus_with_escape):
    tmp_path, docs = corpus_with_escape
    with pytest.raises(InputError, match="not under the ingest root"):
        discover([docs / ".." / ".." / "outside" / "secret.txt"], root=docs)


def test_hidden_folders_and_symlinked_folders_are_not_walked(tmp_path):
    docs = tmp_path / "docs"
    (docs / ".git").mkdir(parents=True)
    (docs / ".git" / "notes.md").write_text("# hidden\n")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "far.md").write_text("# far\n")
    os.symlink(tmp_path / "elsewhere", docs / "linked")
    (docs / "here.md").write_text("# here\n")
    assert [s.doc_id for s in discover([docs])] == ["here.md"]


@pytest.mark.parametrize("run_id", ["..", "../..", "..%2F..%2Fetc", "%2e%2e", "sample-run%2F..%2F..", "/etc/passwd"])
def test_served_run_ids_cannot_name_a_path(run_id, tmp_path):
    from fastapi.testclient import TestClient

    from ragft.report import run_path
    from ragft.server.app import create_app
    from tests.report.sample_run import write_sample_run

    write_sample_run(tmp_path / "runs" / "sample-run")
    with pytest.raises(NotFoundError):
        run_path(tmp_path / "runs", run_id.replace("%2F", "/").replace("%2e", "."))
    with TestClient(create_app(tmp_path / "index", tmp_path / "runs"), base_url="http://127.0.0.1") as client:
        response = client.get(f"/runs/{run_id}")
        served_a_run = response.status_code == 200 and response.url.path.startswith("/runs/")
        assert not served_a_run, (response.url.path, response.status_code)
