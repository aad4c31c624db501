"""`ragft serve` starts the app on loopback and prints where; a public host without a token is refused."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from server.conftest import free_port, wait_for_health


def test_serve_listens_on_loopback_and_answers_healthz(index_path, runs_dir):
    port = free_port()
    env = {**os.environ, "RAGFT_SERVE_TOKEN": ""}
    process = subprocess.Popen(
        [sys.executable, "-c", "from ragft.cli import main; main()", "serve", "--port", str(port),
         "--index", str(index_path), "--runs", str(runs_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert wait_for_health(port, process, 20) == {"status": "ok", "index": True, "runs": 1}
    finally:
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=10)
    assert out.startswith(f"ragft serve: http://127.0.0.1:{port}/ ")


def test_serve_refuses_a_public_host_without_a_token_in_one_line(capsys, monkeypatch):
    from ragft.cli import main

    monkeypatch.delenv("RAGFT_SERVE_TOKEN", raising=False)
    with pytest.raises(SystemExit) as done:
        main(["serve", "--host", "0.0.0.0"])
    err = capsys.readouterr().err
    assert done.value.code == 1 and err.startswith("error: --host 0.0.0.0") and len(err.strip().splitlines()) == 1
