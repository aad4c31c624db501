"""A local HTTP server speaking OpenAI's files + fine-tuning wire format (just enough of it, strictly)."""
from __future__ import annotations

import json
import threading
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

KEY = "sk-test-not-a-real-key"
LIFECYCLE = ["validating_files", "queued", "running", "succeeded"]
FAILING_MODEL = "gpt-fails-in-training"


class State:
    def __init__(self):
        self.files: dict[str, dict] = {}
        self.jobs: dict[str, dict] = {}
        self.requests: list[tuple[str, str]] = []
        self.job_bodies: list[dict] = []


def parse_multipart(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    if not message.is_multipart():
        raise ValueError("not multipart")
    return {part.get_param("name", header="content-disposition"): (part.get_filename(),
                                                                  part.get_payload(decode=True))
            for part in message.iter_parts()}


def make_handler(state: State):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def reply(self, status: int, body: dict):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def error(self, status: int, message: str, code: str = "invalid_request_error"):
            self.reply(status, {"error": {"message": message, "type": code, "param": None, "code": None}})

        def authorised(self) -> bool:
            if self.headers.get("Authorization") != f"Bearer {KEY}":
                self.error(401, "Incorrect API key provided.", "invalid_api_key")
                return False
            return True

        def body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def do_POST(self):
            path = urlparse(self.path).path
            state.requests.append(("POST", path))
            body = self.body()
            if not self.authorised():
                return
            if path == "/v1/files":
                return self.upload(body)
            if path == "/v1/fine_tuning/jobs":
                return self.create(json.loads(body))
            parts = path.split("/")
            if path.endswith("/cancel") and parts[-2] in state.jobs:
                job = state.jobs[parts[-2]]
                if job["status"] in ("succeeded", "failed", "cancelled"):
                    return self.error(400, f"Job {job['id']} has already completed.")
                job["status"] = "cancelled"
                return self.reply(200, job)
            self.error(404, f"No such route {path}")

        def upload(self, body: bytes):
            try:
                fields = parse_multipart(self.headers["Content-Type"], body)
            except (ValueError, TypeError):
                return self.error(400, "Expected multipart/form-data.")
            if fields.get("purpose", (None, b""))[1] != b"fine-tune" or "file" not in fields:
                return self.error(400, "Missing 'file' or purpose != 'fine-tune'.")
            filename, content = fields["file"]
            for number, line in enumerate(content.decode().splitlines(), 1):
                record = json.loads(line)
                if [m["role"] for m in record["messages"]][-1] != "assistant":
                    return self.error(400, f"Line {number}: last message must be from the assistant.")
            file_id = f"file-{len(state.files) + 1:04d}"
            state.files[file_id] = {"id": file_id, "object": "file", "bytes": len(content),
                                    "created_at": 1700000000, "filename": filename,
                                    "purpose": "fine-tune", "content": content.decode()}
            self.reply(200, {k: v for k, v in state.files[file_id].items() if k != "content"})

        def create(self, payload: dict):
            state.job_bodies.append(payload)
            if payload.get("training_file") not in state.files:
                return self.error(400, f"invalid training_file: {payload.get('training_file')}")
            if not payload.get("model"):
                return self.error(400, "model is required")
            job_id = f"ftjob-{len(state.jobs) + 1:04d}"
            state.jobs[job_id] = {
                "id": job_id, "object": "fine_tuning.job", "model": payload["model"],
                "status": LIFECYCLE[0], "fine_tuned_model": None, "training_file": payload["training_file"],
                "validation_file": payload.get("validation_file"), "created_at": 1700000000 + len(state.jobs),
                "finished_at": None, "trained_tokens": None, "error": None, "result_files": [],
                "organization_id": "org-test", "method": payload.get("method"),
                "_suffix": payload.get("suffix") or "",
            }
            self.reply(200, state.jobs[job_id])

        def do_GET(self):
            url = urlparse(self.path)
            state.requests.append(("GET", url.path))
            if not self.authorised():
                return
            if url.path == "/v1/fine_tuning/jobs":
                limit = int(parse_qs(url.query).get("limit", ["20"])[0])
                jobs = sorted(state.jobs.values(), key=lambda j: -j["created_at"])[:limit]
                return self.reply(200, {"object": "list", "data": jobs, "has_more": len(state.jobs) > limit})
            job = state.jobs.get(url.path.rsplit("/", 1)[-1])
            if job is None:
                return self.error(404, f"Could not find fine-tune job {url.path.rsplit('/', 1)[-1]}.")
            self.advance(job)
            self.reply(200, job)

        def advance(self, job: dict):
            if job["status"] not in LIFECYCLE[:-1]:
                return
            job["status"] = LIFECYCLE[LIFECYCLE.index(job["status"]) + 1]
            if job["status"] == "succeeded" and job["model"] == FAILING_MODEL:
                job["status"] = "failed"
                job["error"] = {"code": "invalid_training_file", "message": "Too few examples.", "param": None}
            elif job["status"] == "succeeded":
                content = state.files[job["training_file"]]["content"]
                job["trained_tokens"] = 3 * len(content.split())
                job["fine_tuned_model"] = f"ft:{job['model']}:org-test:{job['_suffix']}:{job['id'][-4:]}"
                job["finished_at"] = job["created_at"] + 60

    return Handler


class FakeOpenAI:
    def __init__(self):
        self.state = State()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(self.state))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
