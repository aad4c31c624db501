"""`ragft serve --processes N`: N uvicorn worker processes, each with its own app built from the settings the
CLI leaves in $RAGFT_SERVE_SETTINGS (never the token), the rate limit split across them, Ctrl+C stops them all."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from ragft.server.launch import SETTINGS_ENV, ServeSettings, app_from_env, parse_processes
from server.conftest import LOCAL, free_port, wait_for_health

SCRIPT = Path(__file__).with_name("hashing_serve.py")
TOKEN = "s3cret-token-for-the-processes-test"


def _workers(pid: int) -> list[int]:
    """The worker processes multiprocessing spawned under `pid` (not its resource tracker)."""
    with open(f"/proc/{pid}/task/{pid}/children") as handle:
        children = [int(child) for child in handle.read().split()]
    return [child for child in children if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _holds(pid: int, name: str) -> bool:
    """Whether process `pid` has a file called `name` open (a worker that answered has the answer cache open)."""
    folder = Path(f"/proc/{pid}/fd")
    found = False
    for fd in folder.iterdir():
        try:
            found = found or os.readlink(fd).endswith(name)
        except OSError:
            continue
    return found


def _environ(pid: int) -> dict[str, str]:
    with open(f"/proc/{pid}/environ", "rb") as handle:
        pairs = [item.decode().partition("=") for item in handle.read().split(b"\0") if item]
    return {key: value for key, _, value in pairs}


def _ask(port: int, question: str) -> dict:
    response = httpx.post(f"http://127.0.0.1:{port}/ask/stream", data={"question": question},
                          headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    events = [json.loads(line) for line in response.text.splitlines() if line.strip()]
    return {"status": response.status_code, "done": events[-1] if events else {}}


def test_two_processes_answer_with_the_token_and_ctrl_c_stops_them_all(index_path, runs_dir):
    port = free_port()
    env = {**os.environ, "RAGFT_SERVE_TOKEN": TOKEN}
    env.pop(SETTINGS_ENV, None)
    server = subprocess.Popen(
        [sys.executable, str(SCRIPT), "serve", "--port", str(port), "--index", str(index_path), "--runs",
         str(runs_dir), "--processes", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    workers: list[int] = []
    try:
        assert wait_for_health(port, server, 60, poll=0.2) == {"status": "ok", "index": True, "runs": 1}
        workers = _workers(server.pid)
        assert len(workers) == 2 and all(_alive(pid) for pid in workers)

        # The settings reach the workers as JSON; the token only through its own variable.
        settings = _environ(workers[0])[SETTINGS_ENV]
        assert TOKEN not in settings and json.loads(settings)["processes"] == 2
        assert httpx.get(f"http://127.0.0.1:{port}/ask", timeout=5).status_code == 401

        # Asks until both workers have answered (each then holds the index's answer cache open), all succeed.
        questions = ["How do I create a virtual environment?", "What does the global interpreter lock do?",
                     "Why can tuples be dictionary keys?", "What is a virtual environment?"]
        answers = []
        with ThreadPoolExecutor(8) as pool:
            for round_ in range(10):
                asked = [f"{questions[n % 4]} ({round_}.{n})" for n in range(16)]
                answers += pool.map(lambda question: _ask(port, question), asked)
                if all(_holds(pid, "answers.sqlite") for pid in workers):
                    break
        assert all(_holds(pid, "answers.sqlite") for pid in workers)
        assert {answer["status"] for answer in answers} == {200}
        unanswered = [answer["done"] for answer in answers if answer["done"].get("type") != "done"
                      or not answer["done"]["citations"]]
        assert unanswered == []
    finally:
        os.killpg(server.pid, signal.SIGINT)        # what Ctrl+C in a terminal does: the whole process group
        out, err = server.communicate(timeout=30)
    assert server.returncode == 0, err
    assert not [pid for pid in workers if _alive(pid)]
    assert out.startswith(f"ragft serve: http://127.0.0.1:{port}/?token=... ") and "2 processes" in out


def test_a_public_host_without_a_token_is_refused_before_any_process_starts(capsys, monkeypatch):
    from ragft.cli import main

    monkeypatch.delenv("RAGFT_SERVE_TOKEN", raising=False)
    with pytest.raises(SystemExit) as done:
        main(["serve", "--host", "0.0.0.0", "--processes", "2"])
    err = capsys.readouterr().err
    assert done.value.code == 1 and err.startswith("error: --host 0.0.0.0") and len(err.strip().splitlines()) == 1
    assert SETTINGS_ENV not in os.environ


@pytest.mark.parametrize("value", ["0", "-1", "two", "65", "1.5", ""])
def test_a_bad_processes_value_is_one_line(value, capsys):
    from ragft.cli import main

    with pytest.raises(SystemExit) as done:
        main(["serve", f"--processes={value}"])
    err = capsys.readouterr().err
    assert done.value.code == 1 and err.startswith(f"error: --processes {value}:")
    assert len(err.strip().splitlines()) == 1


def test_the_workers_listening_socket_is_tcp_so_answers_are_not_held_back_by_nagle():
    import socket

    from ragft.server.launch import FACTORY
    from ragft.server.tcp_config import TcpConfig

    sock = TcpConfig(FACTORY, factory=True, workers=2, host="127.0.0.1", port=free_port()).bind_socket()
    with sock:
        assert sock.proto == socket.IPPROTO_TCP and sock.get_inheritable()


def test_auto_is_the_usable_cores():
    from ragft.cores import usable_cores

    assert parse_processes("auto") == parse_processes("AUTO") == usable_cores()
    assert parse_processes("3") == 3


@pytest.mark.parametrize(("processes", "limit"), [(1, (240, 60)), (2, (120, 30)), (4, (60, 15)), (64, (3.75, 1))])
def test_each_process_enforces_its_share_of_the_rate_limit(processes, limit):
    assert ServeSettings("i", "r", processes=processes).process_limit() == limit


def test_a_worker_app_from_the_environment_refuses_past_its_share_of_the_burst(index_path, runs_dir, monkeypatch):
    settings = ServeSettings(str(index_path), str(runs_dir), processes=4, burst=20)
    monkeypatch.setenv(SETTINGS_ENV, settings.to_json())
    monkeypatch.delenv("RAGFT_SERVE_TOKEN", raising=False)
    with TestClient(app_from_env(), base_url=LOCAL) as client:
        codes = [client.get("/healthz").status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]


def test_a_worker_without_settings_or_with_bad_ones_says_how_to_start(monkeypatch):
    from ragft.errors import InputError

    monkeypatch.delenv(SETTINGS_ENV, raising=False)
    with pytest.raises(InputError, match=r"RAGFT_SERVE_SETTINGS is not set: start the server with `ragft serve`"):
        app_from_env()
    monkeypatch.setenv(SETTINGS_ENV, '{"index": "i", "color": "red"}')
    with pytest.raises(InputError, match=r"RAGFT_SERVE_SETTINGS: not the settings `ragft serve` writes"):
        app_from_env()


def test_asking_an_existing_index_takes_no_write_lock_and_writes_no_meta(index_path, runs_dir, monkeypatch):
    from ragft.rag import engine

    def no_lock(*args, **kwargs):
        raise AssertionError("serve took the index's write lock")

    monkeypatch.setattr(engine, "write_lock", no_lock)
    monkeypatch.setattr(engine.Index, "_commit_meta", lambda self: no_lock())
    owned = {name: (index_path / name).stat().st_mtime_ns for name in ("meta.json", engine.BM25_FILE)}
    meta = (index_path / "meta.json").read_bytes()
    settings = ServeSettings(str(index_path), str(runs_dir), processes=2)
    monkeypatch.setenv(SETTINGS_ENV, settings.to_json())
    with TestClient(app_from_env(), base_url=LOCAL) as client:
        page = client.post("/ask", data={"question": "What does the global interpreter lock do?"})
    assert page.status_code == 200 and "global interpreter lock" in page.text
    assert (index_path / "meta.json").read_bytes() == meta
    assert {name: (index_path / name).stat().st_mtime_ns for name in owned} == owned
