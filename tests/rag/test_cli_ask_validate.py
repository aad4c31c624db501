"""`ragft ask --validate` / `--refuse-unsupported` through the real entry point, on a small indexed corpus."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from support import run_cli
from ragft.rag.grounding import UNSUPPORTED_REFUSAL

FABRICATED = ("Tuples are immutable sequences, often used to group heterogeneous values together. [1] "
              "Tuples were added to Python by Microsoft in 2019. [1]")


class _ChatCompletions(BaseHTTPRequestHandler):
    """Streams FABRICATED as the answer to every chat completion, in the OpenAI SSE wire format."""

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        chunks = [{"choices": [{"index": 0, "delta": {"role": "assistant", "content": FABRICATED},
                                "finish_reason": None}]},
                  {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
                  {"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 9, "total_tokens": 18}}]
        lines = [f"data: {json.dumps({'id': 'c1', 'object': 'chat.completion.chunk', 'model': 'm', **c})}\n\n"
                 for c in chunks] + ["data: [DONE]\n\n"]
        data = "".join(lines).encode()
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def fabricating_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ChatCompletions)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def _ask_fabricated(capsys, indexed, url, *flags):
    return run_cli(capsys, "ask", "are tuples immutable sequences", "--index", indexed, "--generator",
                   "openai-compatible", "--base-url", url, "--model", "m", "--no-cache", *flags)


def test_validate_reports_every_sentence_of_an_extractive_answer_as_supported(indexed, capsys):
    code, out, _ = run_cli(capsys, "ask", "are tuples immutable sequences", "--index", indexed, "--validate", "--json")
    result = json.loads(out)
    validation = result["validation"]
    assert code == 0 and "Tuples are immutable sequences" in result["answer"]
    assert validation["unsupported_count"] == 0 and validation["refused"] is False and validation["sentences"]
    assert all(s["supported"] and s["score"] == 1.0 for s in validation["sentences"])


def test_validate_marks_the_unsupported_sentence_in_the_printed_answer(indexed, fabricating_server, capsys):
    code, out, _ = _ask_fabricated(capsys, indexed, fabricating_server, "--validate")
    assert code == 0 and "Tuples were added to Python by Microsoft in 2019. [1]" in out
    assert "validation: 1/2 sentences supported by the retrieved chunks" in out
    assert "UNSUPPORTED: Tuples were added to Python by Microsoft in 2019." in out
    assert "[1] tuples.md" in out


def test_validate_json_gives_per_sentence_support_and_scores(indexed, fabricating_server, capsys):
    code, out, _ = _ask_fabricated(capsys, indexed, fabricating_server, "--validate", "--json")
    validation = json.loads(out)["validation"]
    assert code == 0 and [s["supported"] for s in validation["sentences"]] == [True, False]
    assert validation["sentences"][0]["score"] == 1.0 and validation["sentences"][1]["score"] < 0.75
    assert validation["supported_ratio"] == 0.5 and validation["threshold"] == 0.75


def test_refuse_unsupported_replaces_the_answer_with_a_refusal(indexed, fabricating_server, capsys):
    code, out, _ = _ask_fabricated(capsys, indexed, fabricating_server, "--refuse-unsupported", "--json")
    result = json.loads(out)
    assert code == 0 and result["answer"] == UNSUPPORTED_REFUSAL and result["validation"]["refused"] is True
    assert result["validation"]["unsupported_answer"] == FABRICATED
    code, out, _ = _ask_fabricated(capsys, indexed, fabricating_server, "--refuse-unsupported")
    assert out.startswith(UNSUPPORTED_REFUSAL) and "Microsoft" in out.split("validation:", 1)[1]


def test_refuse_unsupported_keeps_a_supported_answer(indexed, capsys):
    code, out, _ = run_cli(capsys, "ask", "are tuples immutable sequences", "--index", indexed,
                           "--refuse-unsupported", "--json")
    result = json.loads(out)
    assert code == 0 and result["answer"] != UNSUPPORTED_REFUSAL and result["validation"]["refused"] is False
