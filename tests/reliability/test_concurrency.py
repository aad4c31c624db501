"""Concurrency: one writer at a time (others wait or get a one-line refusal), readers keep answering during a
sync, and the web app answers concurrent asks correctly."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from ragft.rag.document import Document
from ragft.rag.doctor import check
from ragft.rag.engine import Index
from ragft.rag.lock import IndexBusyError, holder, write_lock
from tests.reliability.conftest import RAGFT, make_corpus, ragft

HOLD = """
import sys, time
from ragft.rag.lock import write_lock
with write_lock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


@pytest.fixture
def other_writer(tmp_path):
    """Another process holding the write lock of tmp_path/index for a few seconds."""
    index = tmp_path / "index"
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(index), "6"], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "held"
    yield index, process.pid
    process.kill()
    process.wait()


def test_a_second_writer_waits_then_gets_one_line_naming_the_holder(other_writer):
    index, pid = other_writer
    assert holder(index) == pid
    started = time.monotonic()
    with pytest.raises(IndexBusyError) as error:
        with write_lock(index, timeout=0.3):
            pass
    assert time.monotonic() - started >= 0.3
    assert str(error.value) == f"index {index.resolve()} is being written by pid {pid}; retry when it finishes"


def test_ragft_index_refuses_while_another_process_writes(other_writer, tmp_path):
    index, pid = other_writer
    make_corpus(tmp_path / "docs", 3)
    result = ragft("index", str(tmp_path / "docs"), "--index", str(index), "--embedder", "static",
                   env={"RAGFT_LOCK_WAIT": "0.2"}, check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: index {index.resolve()} is being written by pid {pid}; retry when it finishes"


def test_a_writer_whose_view_is_stale_is_refused_instead_of_overwriting(tmp_path, static_embedder):
    first = Index.open(tmp_path / "index", embedder=static_embedder, embedding_cache=False)
    second = Index.open(tmp_path / "index", embedder=static_embedder, embedding_cache=False)
    try:
        first.add([Document(id="a", text="alpha text about lists")])
        with pytest.raises(IndexBusyError, match="changed by another writer since it was opened"):
            second.add([Document(id="b", text="beta text about tuples")])
    finally:
        first.close()
        second.close()
    assert check(tmp_path / "index").consistent


def test_two_ragft_index_runs_at_once_are_serialised_without_duplicates(tmp_path):
    corpus = make_corpus(tmp_path / "docs", 40, seed=5)
    args = [RAGFT, "index", str(corpus), "--index", str(tmp_path / "index"), "--embedder", "static", "--json"]
    runs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [json.loads(run.communicate(timeout=180)[0]) for run in runs]
    assert all(run.returncode == 0 for run in runs)
    assert sorted(len(o["added"]) for o in outputs) == [0, 40]          # the second saw the first's work
    report = check(tmp_path / "index")
    assert report.consistent and report.figures["documents"] == 40
    assert report.figures["rows"] == report.figures["chunks"] == outputs[0]["chunks_total"]


def test_searches_and_asks_keep_answering_while_a_sync_runs(tmp_path, static_embedder):
    first = make_corpus(tmp_path / "docs" / "first", 20, seed=1)
    (first / "gil.md").write_text("# The GIL\n\nThe global interpreter lock lets only one thread execute Python "
                                  "bytecode at a time.\n", encoding="utf-8")
    question = "What does the global interpreter lock let a thread do?"
    with Index.open(tmp_path / "index", embedder="static") as index:
        index.sync([tmp_path / "docs"], progress=False)
        expected = [h.chunk.id for h in index.search(question, k=3, mode="bm25")]
    make_corpus(tmp_path / "docs" / "second", 150, seed=2)
    writer = subprocess.Popen([RAGFT, "index", str(tmp_path / "docs"), "--index", str(tmp_path / "index"),
                               "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    answered, opened_during = 0, 0
    with Index.open(tmp_path / "index", create=False) as reader:
        while writer.poll() is None or answered < 3:
            if writer.poll() is None:
                with Index.open(tmp_path / "index", create=False) as fresh:       # a reader opening mid-sync
                    assert fresh.search(question, k=1, mode="bm25")[0].chunk.doc_id == "first/gil.md"
                    opened_during += 1
            answer = reader.ask(question, k=3, mode="bm25", use_cache=False)
            assert [h.chunk.id for h in answer.hits] == expected
            assert [c.doc_id for c in answer.citations][:1] == ["first/gil.md"]
            answered += 1
    assert writer.returncode == 0, writer.stderr.read()
    assert opened_during >= 1 and answered >= 3
    assert check(tmp_path / "index").consistent


def test_the_web_app_answers_concurrent_asks_all_correctly(tmp_path, static_embedder):
    import httpx
    import uvicorn

    from ragft.server.app import create_app
    from tests.server.conftest import free_port

    names = ["Aldebaran", "Borealis", "Cygnus", "Draco", "Eridanus", "Fornax", "Gemini", "Hydra"]
    make_corpus(tmp_path / "docs" / "noise", 20, seed=9)
    for n, name in enumerate(names):
        (tmp_path / "docs" / f"{name.lower()}.md").write_text(
            f"# Station {name}\n\nThe weather station {name} records rainfall every {n + 2} minutes.\n")
    with Index.open(tmp_path / "index", embedder="static") as index:
        index.sync([tmp_path / "docs"], progress=False)
    port = free_port()
    app = create_app(tmp_path / "index", tmp_path / "runs", rate_per_minute=10_000, burst=1000)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.05)

        def ask(name: str) -> tuple[str, int, str]:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
                response = client.post("/ask", data={"question": f"How often does station {name} record rainfall?"})
                return name, response.status_code, response.text

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(ask, [names[i % len(names)] for i in range(32)]))
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert [status for _, status, _ in results] == [200] * 32
    for name, _, page in results:
        citations = page[page.index('id="citations"'):]
        assert f"<b>Station {name}</b>" in citations.split("</li>")[0]
        assert f"station {name} records rainfall every {names.index(name) + 2} minutes" in page
