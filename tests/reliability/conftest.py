"""Shared helpers for the reliability tests: generated corpora and the `ragft` command in a subprocess."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

RAGFT = str(Path(sys.executable).parent / "ragft")
WORDS = ("alpha beta gamma delta index vector python memory thread lock cache answer question model tune "
         "garbage collector tuple list dictionary module package virtual environment decorator").split()


def make_corpus(root: Path, files: int, seed: int = 0) -> Path:
    """`files` small markdown files in 10 sub-folders, two sections each, seeded words."""
    rng = random.Random(seed)
    for i in range(files):
        folder = root / f"part{i % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        body = " ".join(rng.choice(WORDS) for _ in range(90))
        tail = " ".join(rng.choice(WORDS) for _ in range(90))
        (folder / f"doc{i:03d}.md").write_text(f"# Document {i}\n\n{body}\n\n## Details {i}\n\n{tail}\n",
                                               encoding="utf-8")
    return root


def ragft(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 120,
          check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([RAGFT, *args], cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True,
                            text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"ragft {' '.join(args)} exited {result.returncode}: {result.stderr[-2000:]}")
    return result


def doctor(index: Path) -> dict:
    result = ragft("doctor", "--index", str(index), "--json", check=False)
    return json.loads(result.stdout)


def kill_after(command: list[str], ready, delay: float, cwd: Path | None = None, limit: float = 120) -> bool:
    """Start `command`, wait until ready() (or exit), sleep `delay`, SIGKILL; True if it was killed mid-run."""
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + limit
    try:
        while not ready() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(delay)
        alive = process.poll() is None
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        return alive
    finally:
        if process.poll() is None:
            process.kill()


@pytest.fixture(scope="session")
def static_embedder():
    """The bundled static embedder, created once (its table is distilled once per machine and cached)."""
    from ragft.rag.embedders import create_embedder

    return create_embedder("static")
