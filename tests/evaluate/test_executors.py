"""Who answers an eval: threads (`--concurrency N`) against a local OpenAI-compatible server that throttles once,
and Ray actors (`--engine ray`) on a real local Ray. Either way questions.jsonl holds the records a one-at-a-time
run writes, in the same order."""
from __future__ import annotations

import json
import threading
import time

import pytest

from llm.conftest import Provider, _Handler, _Server
from ragft.evaluate.config import config_from_mapping
from ragft.evaluate.executors import in_order
from ragft.evaluate.runner import evaluate
from ragft.evaluate.run_folder import QUESTIONS, read_records
from ragft.rag.embedders.base import EMBEDDERS
from ragft.testing import HashingEmbedder

from .conftest import PYTHON_DOC_TREE


class _Throttling(_Handler):
    """Chat Completions answering each question with a text of its own after `delay` seconds; the first request
    gets 429 with Retry-After. Counts requests and the most in flight at once."""

    def do_POST(self):
        server = self.server
        with server.lock:
            server.in_flight += 1
            server.peak = max(server.peak, server.in_flight)
            server.requests += 1
            throttle, server.throttle = server.throttle, False
        try:
            time.sleep(server.delay)
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
            if throttle:
                return self._json_with(429, {"error": {"message": "rate limited", "type": "rate_limit"}},
                                       {"retry-after": "0.3"})
            question = body["messages"][-1]["content"]
            self._openai(Provider(answer=f"Echo {len(question)}: {question.split()[-1]}"), body)
        finally:
            with server.lock:
                server.in_flight -= 1

    def _json_with(self, status, payload, headers):
        data = json.dumps(payload).encode()
        self.send_response(status)
        for name, value in {"content-type": "application/json", "content-length": str(len(data)),
                            **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def throttling_server():
    server = _Server(("127.0.0.1", 0), _Throttling)
    server.provider, server.openai_key, server.anthropic_key = Provider(), None, ""
    server.lock, server.in_flight, server.peak, server.requests = threading.Lock(), 0, 0, 0
    server.throttle, server.delay = True, 0.05
    server.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def run(root, name, **options):
    config = config_from_mapping({
        "bench": "python-faq", "bench_source": str(PYTHON_DOC_TREE), "bench_cache": str(root / "cache"),
        "distractors": 4, "limit": 8, "warmup": 0, "freshness_trials": 0, "bootstrap_resamples": 100,
        "embedder": "test-hashing", **options})
    return evaluate(config, out=root / name)


def comparable(run_folder):
    """The records as written, in order, without what may differ between executions (timings)."""
    return [r.model_dump(exclude={"timings"}) for r in read_records(run_folder.path / QUESTIONS)]


def test_concurrent_requests_honour_a_429_and_write_what_a_sequential_run_writes(tmp_path, throttling_server):
    systems = [{"name": kind, "kind": kind, "generator": "openai-compatible",
                "generator_options": {"model": "echo", "base_url": throttling_server.url}}
               for kind in ("closed-book", "rag")]
    with EMBEDDERS.registered("test-hashing", HashingEmbedder):
        one = run(tmp_path, "one", systems=systems)
        assert throttling_server.peak == 1 and throttling_server.requests == 16 + 1
        throttling_server.throttle, throttling_server.peak, throttling_server.requests = True, 0, 0
        many = run(tmp_path, "many", systems=systems, concurrency=6)
    assert throttling_server.requests == 16 + 1                 # the throttled request was retried, once
    assert throttling_server.peak > 1                           # requests really were in flight together
    records = comparable(many)
    assert not any(r["error"] for r in records)
    assert records == comparable(one)
    assert len({r["answer"] for r in records}) > 4              # per-question answers, so order is checked


def test_in_order_yields_in_submission_order_with_at_most_a_window_in_flight():
    submitted, finished = [], []

    def submit(n):
        submitted.append(n)
        assert len(submitted) - len(finished) <= 3
        return n

    def result(n):
        finished.append(n)
        return n * 10

    assert list(in_order(range(7), submit, result, window=3)) == [0, 10, 20, 30, 40, 50, 60]


def test_ray_actors_answer_and_the_records_equal_a_local_run(tmp_path, ray_cluster):
    with EMBEDDERS.registered("test-hashing", HashingEmbedder):
        local = run(tmp_path, "local", systems="closed-book,rag")
        distributed = run(tmp_path, "ray", systems="closed-book,rag", engine="ray", concurrency=2)
    records = comparable(distributed)
    assert records == comparable(local) and len(records) == 16
    assert any(r["contexts"] for r in records) and not any(r["error"] for r in records)
    assert distributed.manifest.config["engine"] == "ray"
