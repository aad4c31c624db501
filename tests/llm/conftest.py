"""A local HTTP server on 127.0.0.1 that speaks the OpenAI Chat Completions and Anthropic Messages wire formats."""
from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator

import pytest

OPENAI_KEY = "sk-test-openai-0123456789abcdef"
ANTHROPIC_KEY = "sk-ant-test-0123456789abcdef"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Provider:
    """What the fake provider answers; `fail_first` statuses are returned (in order) before any success.
    `respond(body)`, when set, answers each request from its body (e.g. per model name) instead of `answer`."""

    answer: str = "Python was created by Guido van Rossum [1]."
    fail_first: list[int] = field(default_factory=list)
    always_status: int | None = None
    stream_error: bool = False
    received: list[Received] = field(default_factory=list)
    respond: Callable[[dict[str, Any]], str] | None = None
    prompt_tokens: int | None = 42      # None: the words of the request's messages

    def text(self, body: dict[str, Any]) -> str:
        return self.respond(body) if self.respond is not None else self.answer

    def pieces(self, body: dict[str, Any] | None = None) -> list[str]:
        words = (self.answer if body is None else self.text(body)).split(" ")
        return [w if i == 0 else f" {w}" for i, w in enumerate(words)]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_POST(self):
        length = int(self.headers.get("content-length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        provider = self.server.provider
        provider.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        if self.path == "/v1/chat/completions":
            self._openai(provider, body)
        elif self.path == "/v1/messages":
            self._anthropic(provider, body)
        else:
            self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

    def _status_override(self, provider: Provider) -> int | None:
        if provider.fail_first:
            return provider.fail_first.pop(0)
        return provider.always_status

    def _openai(self, provider: Provider, body: dict[str, Any]) -> None:
        expected = self.server.openai_key
        if expected and self.headers.get("authorization") != f"Bearer {expected}":
            return self._json(401, {"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error",
                                              "code": "invalid_api_key"}})
        if "model" not in body or not body.get("messages"):
            return self._json(400, {"error": {"message": "model and messages are required"}})
        status = self._status_override(provider)
        if status:
            return self._json(status, {"error": {"message": f"simulated {status}", "type": "server_error"}})
        pieces = provider.pieces(body)
        prompt = provider.prompt_tokens
        if prompt is None:
            prompt = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
        usage = {"prompt_tokens": prompt, "completion_tokens": len(pieces), "total_tokens": 0}
        if not body.get("stream"):
            message = {"role": "assistant", "content": provider.text(body)}
            return self._json(200, {"id": "c1", "object": "chat.completion", "model": body["model"], "usage": usage,
                                    "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]})
        events = [{"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}]
        events += [{"choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}]} for p in pieces]
        events.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append({"choices": [], "usage": usage})
        chunks = [{"id": "c1", "object": "chat.completion.chunk", "model": body["model"], **e} for e in events]
        self._sse([(None, json.dumps(c)) for c in chunks] + [(None, "[DONE]")])

    def _anthropic(self, provider: Provider, body: dict[str, Any]) -> None:
        if self.headers.get("x-api-key") != self.server.anthropic_key:
            return self._json(401, {"type": "error", "error": {"type": "authentication_error",
                                                               "message": "invalid x-api-key"}})
        if self.headers.get("anthropic-version") != "2023-06-01":
            return self._json(400, {"type": "error", "error": {"type": "invalid_request_error",
                                                               "message": "anthropic-version header is required"}})
        if "max_tokens" not in body or any(m["role"] == "system" for m in body.get("messages", [])):
            return self._json(400, {"type": "error", "error": {"type": "invalid_request_error",
                                                               "message": "bad request body"}})
        status = self._status_override(provider)
        if status:
            return self._json(status, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
        start = {"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant",
                 "content": [], "model": body["model"], "stop_reason": None,
                 "usage": {"input_tokens": 37, "output_tokens": 1}}}
        events = [("message_start", start),
                  ("content_block_start", {"type": "content_block_start", "index": 0,
                                           "content_block": {"type": "text", "text": ""}}),
                  ("ping", {"type": "ping"})]
        if provider.stream_error:
            events.append(("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}))
        events += [("content_block_delta", {"type": "content_block_delta", "index": 0,
                                            "delta": {"type": "text_delta", "text": p}}) for p in provider.pieces(body)]
        events += [("content_block_stop", {"type": "content_block_stop", "index": 0}),
                   ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                      "usage": {"output_tokens": len(provider.pieces(body))}}),
                   ("message_stop", {"type": "message_stop"})]
        self._sse([(name, json.dumps(data)) for name, data in events])

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _sse(self, events: list[tuple[str | None, str]]) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.end_headers()
        for name, data in events:
            prefix = f"event: {name}\n" if name else ""
            self.wfile.write(f"{prefix}data: {data}\n\n".encode())
            self.wfile.flush()
        self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    provider: Provider
    openai_key: str | None
    anthropic_key: str
    url: str


@contextmanager
def serve(provider: Provider | None = None, openai_key: str | None = OPENAI_KEY) -> Iterator[_Server]:
    """A running server on 127.0.0.1 (any test folder can use it: `from llm.conftest import serve`)."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.provider, server.openai_key, server.anthropic_key = provider or Provider(), openai_key, ANTHROPIC_KEY
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def provider_server():
    """A fresh server: `.url` is its base URL, `.provider` scripts its answers and records what it received."""
    with serve() as server:
        yield server
