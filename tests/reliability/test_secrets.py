"""A planted API key never reaches a log, an error message, a run folder or a report, even when the provider
echoes it back; keys come from the environment (or a keyring)."""
from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ragft.errors import InputError
from ragft.secrets import get_key, redact
from tests.reliability.conftest import make_corpus, ragft

PLANTED = "sk-ragftPLANTED-7f3a9c1e5b2d8046aa"
DATA = Path(__file__).resolve().parents[1] / "data"


class _EchoingProvider(BaseHTTPRequestHandler):
    """The worst provider: its 401 body quotes the Authorization header back."""

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length") or 0))
        body = json.dumps({"error": {"message": f"Incorrect API key provided: {self.headers.get('authorization')}"}})
        self.send_response(401)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())


@pytest.fixture
def echoing_provider(monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoingProvider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    for name in ("OPENAI_API_KEY", "OPENAI_COMPATIBLE_API_KEY", "ANTHROPIC_API_KEY"):
        monkeypatch.setenv(name, PLANTED)
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def _leaks(folder: Path) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.is_file() and PLANTED.encode() in p.read_bytes()]


def test_redact_scrubs_given_and_environment_secrets_and_key_shapes(monkeypatch):
    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok-0123456789abcdef")
    text = redact(f"a {PLANTED} b tok-0123456789abcdef c Bearer abcdefghijklmnopqrstu d secret-one", "secret-one")
    assert text == "a [redacted] b [redacted] c Bearer [redacted] d [redacted]"


def test_keys_come_from_the_environment_and_a_missing_one_says_how_to_set_it(monkeypatch):
    monkeypatch.setenv("RAGFT_TEST_API_KEY", PLANTED)
    assert get_key("RAGFT_TEST_API_KEY") == PLANTED
    monkeypatch.delenv("RAGFT_TEST_API_KEY")
    with pytest.raises(InputError, match="set RAGFT_TEST_API_KEY in the environment .*keyring set ragft"):
        get_key("RAGFT_TEST_API_KEY", required_for="the test provider")


def test_a_provider_echoing_the_key_leaves_no_trace_in_cli_output(echoing_provider, tmp_path):
    make_corpus(tmp_path / "docs", 3)
    ragft("index", str(tmp_path / "docs"), "--index", str(tmp_path / "index"), "--embedder", "static")
    result = ragft("ask", "what is a tuple?", "--index", str(tmp_path / "index"), "--generator",
                   "openai-compatible", "--base-url", echoing_provider, "--model", "m", "--no-cache", check=False,
                   env={"OPENAI_COMPATIBLE_API_KEY": PLANTED})
    assert result.returncode == 1 and "HTTP 401" in result.stderr and "[redacted]" in result.stderr
    assert PLANTED not in result.stdout + result.stderr
    assert _leaks(tmp_path) == []


def test_a_provider_echoing_the_key_leaves_no_trace_in_the_run_folder_or_reports(echoing_provider, tmp_path):
    from ragft.evaluate.config import config_from_mapping
    from ragft.evaluate.runner import evaluate
    from ragft.report import load_run, render_html, render_markdown

    config = config_from_mapping({
        "bench": "python-faq", "bench_source": str(DATA / "python3.11-doc"), "bench_cache": str(tmp_path / "cache"),
        "distractors": 0, "limit": 4, "warmup": 0, "freshness_trials": 0, "bootstrap_resamples": 100,
        "systems": [{"name": "closed-book", "kind": "closed-book", "generator": "openai-compatible",
                     "generator_options": {"base_url": echoing_provider, "model": "m"}}],
    })
    evaluate(config, out=tmp_path / "run")
    run = load_run(tmp_path / "run")
    assert run.records and all("[redacted]" in q.error for q in run.records)
    (tmp_path / "report.html").write_text(render_html(run))
    (tmp_path / "report.md").write_text(render_markdown(run))
    assert _leaks(tmp_path) == []


def test_a_provider_echoing_the_key_leaves_no_trace_in_server_pages_or_logs(echoing_provider, tmp_path, caplog):
    from fastapi.testclient import TestClient

    from ragft.rag.engine import Index
    from ragft.server.app import create_app

    make_corpus(tmp_path / "docs", 3)
    with Index.open(tmp_path / "index", embedder="static") as index:
        index.sync([tmp_path / "docs"], progress=False)
    app = create_app(tmp_path / "index", tmp_path / "runs", generator="openai-compatible",
                     generator_options={"base_url": echoing_provider, "model": "m"})
    caplog.set_level(logging.DEBUG)
    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as client:
        page = client.post("/ask", data={"question": "what is a tuple?"}).text
        stream = client.post("/ask/stream", data={"question": "what is a list?"}).text
    assert "HTTP 401" in page and "[redacted]" in page
    assert PLANTED not in page + stream + caplog.text
    logging.getLogger("ragft.server").error("boom with %s", PLANTED)
    assert PLANTED not in caplog.text


def test_an_eval_config_carrying_an_api_key_is_refused_before_anything_is_written(tmp_path):
    from ragft.evaluate.config import config_from_mapping

    with pytest.raises(InputError, match="api_key: keys are not taken from configs"):
        config_from_mapping({"bench": "python-faq", "systems": [
            {"name": "rag", "kind": "rag", "generator": "openai", "generator_options": {"api_key": PLANTED}}]})
