"""Shared fixtures for the web app: a small real index (hashing embedder), a runs folder, the app and a client."""
from __future__ import annotations

import socket
import subprocess
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from ragft.rag.document import Document
from ragft.rag.embedders.base import EMBEDDERS
from ragft.server.app import create_app
from report.sample_run import IMG, SCRIPT, write_sample_run
from server.hashing_serve import NAME, ServerHashingEmbedder


@pytest.fixture(scope="session", autouse=True)
def server_embedder():
    """The index and the app (session fixtures) both look the embedder up by name."""
    with EMBEDDERS.registered(NAME, ServerHashingEmbedder):
        yield

LOCAL = "http://127.0.0.1"          # without a token the app serves loopback Host names only

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_health(port: int, server: subprocess.Popen, seconds: float, poll: float = 0.1) -> dict | None:
    """/healthz of a `ragft serve` started as `server` once it answers; None if it exits or `seconds` pass."""
    deadline, health = time.monotonic() + seconds, None
    while health is None and time.monotonic() < deadline and server.poll() is None:
        try:
            health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json()
        except httpx.TransportError:
            time.sleep(poll)
    return health


DOCS = {
    "venv": ("Virtual environments", "A virtual environment isolates the packages of one project. "
             "Create a virtual environment with python -m venv DIR and activate it before installing packages."),
    "gil": ("The GIL", "The global interpreter lock lets only one thread execute Python bytecode at a time."),
    "tuples": ("Tuples", "Tuples are immutable sequences; because they are immutable they can be dictionary keys."),
    "hostile": (f"Hostile {SCRIPT}", f"Markup in documents {SCRIPT} and {IMG} must be shown as text, never run."),
}


@pytest.fixture(scope="session")
def index_path(tmp_path_factory):
    from ragft.rag.engine import Index

    path = tmp_path_factory.mktemp("server") / "index"
    with Index.open(path, embedder="test-server-hashing") as index:
        index.add([Document(id=f"{key}.md", text=text, title=title, source=f"docs/{key}.md")
                   for key, (title, text) in DOCS.items()])
    return path


@pytest.fixture(scope="session")
def runs_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs")
    write_sample_run(folder / "sample-run")
    return folder


@pytest.fixture
def client(index_path, runs_dir):
    with TestClient(create_app(index_path, runs_dir), base_url=LOCAL, raise_server_exceptions=False) as test_client:
        yield test_client
