"""The openai embedder against a local server speaking the /v1/embeddings wire format."""
from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from ragft.errors import InputError, ProviderError
from ragft.llm.http import ProviderClient
from ragft.rag.embedders import create_embedder
from ragft.rag.embedders.openai import OpenAIEmbedder

KEY = "sk-test-0123456789abcdef"


def fake_vector(text: str, dim: int) -> list[float]:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")
    return np.random.default_rng(seed).standard_normal(dim).round(6).tolist()


class EmbeddingsServer(ThreadingHTTPServer):
    """Answers POST /v1/embeddings like OpenAI (data in reverse order); `failures` statuses are served first."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), EmbeddingsHandler)
        self.requests: list[dict] = []
        self.failures: list[int] = []
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class EmbeddingsHandler(BaseHTTPRequestHandler):
    server: EmbeddingsServer

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        if self.headers.get("Authorization") != f"Bearer {KEY}":
            return self.reply(401, {"error": {"message": f"Incorrect API key provided: {self.headers.get('Authorization')}"}})
        if self.server.failures:
            return self.reply(self.server.failures.pop(0), {"error": {"message": "Rate limit reached"}})
        dim = body.get("dimensions") or {"text-embedding-3-large": 3072}.get(body["model"], 1536)
        data = [{"object": "embedding", "index": i, "embedding": fake_vector(t, dim)} for i, t in enumerate(body["input"])]
        self.reply(200, {"object": "list", "data": data[::-1], "model": body["model"], "usage": {"prompt_tokens": 3}})

    def reply(self, status: int, payload: dict):
        raw = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


@pytest.fixture
def server():
    srv = EmbeddingsServer()
    yield srv
    srv.shutdown()
    srv.server_close()


def expected(texts: list[str], dim: int) -> np.ndarray:
    vectors = np.array([fake_vector(t, dim) for t in texts], dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_batches_post_to_embeddings_with_bearer_key_and_vectors_follow_index(server):
    texts = [f"passage number {i}" for i in range(5)]
    embedder = create_embedder("openai", api_key=KEY, base_url=server.base_url, batch_size=2)
    vectors = embedder.embed(texts)
    assert [len(r["body"]["input"]) for r in server.requests] == [2, 2, 1]
    assert {r["path"] for r in server.requests} == {"/v1/embeddings"}
    assert {r["auth"] for r in server.requests} == {f"Bearer {KEY}"}
    assert server.requests[0]["body"]["model"] == "text-embedding-3-small"
    assert vectors.shape == (5, 1536) and vectors.dtype == np.float32
    assert np.allclose(vectors, expected(texts, 1536), atol=1e-6)


def test_key_and_base_url_come_from_the_environment(server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    embedder = create_embedder("openai", model="text-embedding-3-large")
    assert embedder.dim == 3072 and embedder.name == "openai:text-embedding-3-large"
    assert embedder.embed(["hello"]).shape == (1, 3072)


def test_shortened_dimensions_are_requested_and_named(server):
    embedder = create_embedder("openai", api_key=KEY, base_url=server.base_url, dimensions=256)
    assert embedder.embed(["hi"]).shape == (1, 256)
    assert server.requests[0]["body"]["dimensions"] == 256
    assert embedder.name == "openai:text-embedding-3-small:256"


def test_rate_limits_and_server_errors_are_retried_with_backoff(server):
    server.failures = [429, 503]
    client = ProviderClient("openai", server.base_url, {"Authorization": f"Bearer {KEY}"}, KEY, backoff_seconds=0.01)
    vectors = OpenAIEmbedder(client, "text-embedding-3-small", 1536).embed(["a", "b"])
    assert len(server.requests) == 3
    assert np.allclose(vectors, expected(["a", "b"], 1536), atol=1e-6)


def test_persistent_failure_is_one_line_provider_error(server):
    server.failures = [500] * 5
    client = ProviderClient("openai", server.base_url, {"Authorization": f"Bearer {KEY}"}, KEY, max_retries=1, backoff_seconds=0.01)
    with pytest.raises(ProviderError) as info:
        OpenAIEmbedder(client, "text-embedding-3-small", 1536).embed(["a"])
    assert "HTTP 500" in str(info.value) and "\n" not in str(info.value)


def test_rejected_key_never_appears_in_the_error(server):
    embedder = create_embedder("openai", api_key=KEY + "-wrong", base_url=server.base_url)
    with pytest.raises(ProviderError) as info:
        embedder.embed(["a"])
    message = str(info.value)
    assert "401" in message and "OPENAI_API_KEY" in message
    assert KEY not in message


def test_missing_key_and_unknown_model_dimension_are_input_errors(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(InputError, match="OPENAI_API_KEY"):
        create_embedder("openai")
    with pytest.raises(InputError, match="dimensions=N"):
        create_embedder("openai", api_key=KEY, model="my-local-embedder")
