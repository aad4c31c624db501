"""Load on `ragft serve`: N asks from C concurrent clients on loopback against a real uvicorn process, bounded
in count and time; reports p50/p95/max latency, throughput and errors, and fails unless every ask succeeded.

    python benchmarks/bench_serve_load.py [--docs DIR] [--requests 200] [--concurrency 8] [--cap-seconds 60]
                                          [--embedder minilm] [--generator extractive] [--workers N] [--json]
    python benchmarks/bench_serve_load.py --compare [--requests 60]    # 1 vs 8 clients: 1 worker, pool, 2 processes

`--compare` runs six phases in one go, each against a fresh copy of the same index (so no phase answers from
another's cache): one client and 8 clients, with one worker thread (the server before the pool), with the
default pool (one thread per usable core) and with 2 server processes (`ragft serve --processes 2`, through the
same launcher the CLI uses: ragft.server.launch.serve); it reports uncached p50/p95 of each, the server's CPU
seconds and the 8-client/1-client ratio.

Questions are the FAQ's own section titles (lines ending in "?"), so each has an answer in the corpus. The
server runs with the default app but a raised rate limit (the default 240/min per client would answer 429s);
untimed warm-up asks first load the index and embedder (16 of them from 8 clients, so every process of a
multi-process server has loaded them), as the first visitors would.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import numpy as np

FAQ = Path(__file__).resolve().parents[1] / "tests/data/python3.11-doc/usr/share/doc/python3.11/html/_sources/faq"
SERVER = """
import sys, uvicorn
from ragft.server.app import create_app
app = create_app(sys.argv[1], sys.argv[2], rate_per_minute=1e6, burst=100000, generator=sys.argv[4],
                 workers=int(sys.argv[5]) or None)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[3]), log_level="warning")
"""
PROCESSES_SERVER = """
import sys
from ragft.server.launch import ServeSettings, serve
serve(ServeSettings(sys.argv[1], sys.argv[2], generator=sys.argv[4], processes=int(sys.argv[5]),
                    rate_per_minute=1e6, burst=100000), "127.0.0.1", int(sys.argv[3]))
"""
WARM_UP = [f"warm-up {n}: what is Python?" for n in range(16)]


def questions(docs: Path) -> list[str]:
    found = []
    for path in sorted(docs.rglob("*.rst.txt")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for line, under in zip(lines, lines[1:]):
            if line.strip().endswith("?") and re.fullmatch(r"[-=~^]{3,}", under.strip() or "x"):
                found.append(line.strip())
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def build_index(docs: Path, index: Path, embedder: str) -> dict:
    from ragft.rag.engine import Index

    with Index.open(index, embedder=embedder) as opened:
        report = opened.sync([docs], progress=False)
    return {"documents": len(report.added), "chunks": report.chunks_total}


def wait_ready(base: str, process: subprocess.Popen, limit: float = 120.0) -> None:
    import httpx

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit("server did not start")


def ask(client, question: str) -> dict:
    """One streamed ask; the seconds until the done event, or the error."""
    start = time.perf_counter()
    try:
        response = client.post("/ask/stream", data={"question": question})
        events = [json.loads(line) for line in response.text.splitlines() if line.strip()]
    except Exception as error:  # a transport failure counts as an error, not a crash of the benchmark
        return {"ok": False, "error": f"{type(error).__name__}: {error}", "seconds": time.perf_counter() - start}
    seconds = time.perf_counter() - start
    done = events[-1] if events else {}
    ok = response.status_code == 200 and done.get("type") == "done"
    return {"ok": ok, "seconds": seconds, "cached": bool(done.get("cached")), "cited": bool(done.get("citations")),
            "error": None if ok else f"HTTP {response.status_code}: {done.get('message', response.text[:200])}"}


def load(base: str, items: list[str], concurrency: int, cap: float) -> tuple[list[dict], float]:
    import httpx

    results: list[dict] = []
    start = time.perf_counter()
    clients = [httpx.Client(base_url=base, timeout=cap) for _ in range(concurrency)]
    pool = ThreadPoolExecutor(concurrency)
    try:
        futures = [pool.submit(ask, clients[i % concurrency], q) for i, q in enumerate(items)]
        try:
            for future in as_completed(futures, timeout=cap):
                results.append(future.result())
        except TimeoutError:
            pass                                      # the rest count as errors: "not finished in time"
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        for client in clients:
            client.close()
    return results, time.perf_counter() - start


def summary(results: list[dict], requested: int, wall: float) -> dict:
    seconds = np.array([r["seconds"] for r in results]) if results else np.zeros(1)
    fresh = np.array([r["seconds"] for r in results if r["ok"] and not r.get("cached")] or [np.nan])
    errors = [r["error"] for r in results if not r["ok"]] + ["not finished in time"] * (requested - len(results))
    return {
        "requests": requested, "completed": len(results), "errors": len(errors), "first_errors": errors[:3],
        "wall_s": round(wall, 2), "throughput_per_s": round(len(results) / wall, 2),
        "p50_ms": round(float(np.percentile(seconds, 50)) * 1000, 1),
        "p95_ms": round(float(np.percentile(seconds, 95)) * 1000, 1),
        "max_ms": round(float(seconds.max()) * 1000, 1),
        "uncached_p95_ms": round(float(np.nanpercentile(fresh, 95)) * 1000, 1) if not np.isnan(fresh).all() else None,
        "cache_hits": sum(1 for r in results if r.get("cached")),
        "answers_with_citations": sum(1 for r in results if r.get("cited")),
    }


def serve_phase(index: Path, scratch: Path, items: list[str], concurrency: int, cap: float, generator: str,
                workers: int, processes: int = 1) -> tuple[list[dict], float]:
    """`processes` > 1: `workers` is ignored (each process answers from its default pool)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    script, last = (SERVER, workers) if processes == 1 else (PROCESSES_SERVER, processes)
    server = subprocess.Popen([sys.executable, "-c", script, str(index), str(scratch / "runs"), str(port), generator,
                               str(last)], env={**os.environ, "TOKENIZERS_PARALLELISM": "false"})
    try:
        wait_ready(base, server)
        warm, _ = load(base, WARM_UP, 8, cap)                     # loads index + embedder in every process
        if not all(result["ok"] for result in warm):
            raise SystemExit(f"warm-up failed: {[r['error'] for r in warm if not r['ok']][:3]}")
        return load(base, items, concurrency, cap)
    finally:
        server.terminate()
        server.wait(timeout=30)


def compare(args, asked: list[str]) -> dict:
    import shutil

    items = [asked[i % len(asked)] for i in range(args.requests)]
    phases = {}
    load_avg = [round(os.getloadavg()[0], 1)]
    with tempfile.TemporaryDirectory() as scratch:
        built = Path(scratch) / "built"
        corpus = build_index(args.docs, built, args.embedder)
        for kind, workers, processes in (("1 worker", 1, 1), ("pool", 0, 1), ("2 processes", 0, 2)):
            for clients in (1, 8):
                index = Path(scratch) / f"index-{workers}-{processes}-{clients}"
                shutil.copytree(built, index)
                cpu = resource.getrusage(resource.RUSAGE_CHILDREN)     # the server and its workers, once waited for
                results, wall = serve_phase(index, Path(scratch), items, clients, args.cap_seconds, args.generator,
                                            workers, processes)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                label = f"{kind}, {clients} client{'s' if clients > 1 else ''}"
                phases[label] = {**summary(results, len(items), wall),
                                 "server_cpu_s": round(after.ru_utime - cpu.ru_utime + after.ru_stime - cpu.ru_stime, 1)}
                print(label, json.dumps(phases[label]), file=sys.stderr)
    load_avg.append(round(os.getloadavg()[0], 1))
    ratios = {kind: round(phases[f"{kind}, 8 clients"]["uncached_p95_ms"] / phases[f"{kind}, 1 client"]["uncached_p95_ms"], 2)
              for kind in ("1 worker", "pool", "2 processes")}
    speedup = {f"{clients} client{'s' if clients > 1 else ''}": round(
        phases[f"2 processes, {clients} client{'s' if clients > 1 else ''}"]["throughput_per_s"]
        / phases[f"pool, {clients} client{'s' if clients > 1 else ''}"]["throughput_per_s"], 2) for clients in (1, 8)}
    return {"corpus": corpus, "requests": len(items), "distinct_questions": len(asked), "load_avg": load_avg,
            "phases": phases, "p95_8_over_1": ratios, "throughput_2_processes_over_pool": speedup}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=Path, default=FAQ)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--cap-seconds", type=float, default=60.0)
    parser.add_argument("--embedder", default="minilm")
    parser.add_argument("--generator", default="extractive")
    parser.add_argument("--workers", type=int, default=0, help="answering threads (0: one per usable core)")
    parser.add_argument("--compare", action="store_true", help="1 vs 8 clients: 1 worker, the pool, 2 processes")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    asked = questions(args.docs)
    if not asked:
        raise SystemExit(f"no FAQ questions found under {args.docs}")
    if args.compare:
        print(json.dumps(compare(args, asked), indent=2))
        return
    items = [asked[i % len(asked)] for i in range(args.requests)]
    with tempfile.TemporaryDirectory() as scratch:
        index = Path(scratch) / "index"
        corpus = build_index(args.docs, index, args.embedder)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([sys.executable, "-c", SERVER, str(index), str(Path(scratch) / "runs"), str(port),
                                   args.generator, str(args.workers)], env={**os.environ, "TOKENIZERS_PARALLELISM": "false"})
        try:
            wait_ready(base, server)
            import httpx

            with httpx.Client(base_url=base, timeout=args.cap_seconds) as client:   # loads index + embedder
                ask(client, "warm-up: what is Python?")
            results, wall = load(base, items, args.concurrency, args.cap_seconds)
        finally:
            server.terminate()
            server.wait(timeout=30)
    result = {"corpus": {"docs": str(args.docs), **corpus, "distinct_questions": len(asked)},
              "concurrency": args.concurrency, "embedder": args.embedder, "generator": args.generator,
              "cap_seconds": args.cap_seconds, **summary(results, args.requests, wall)}
    print(json.dumps(result, indent=2) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    if result["errors"]:
        raise SystemExit(f"{result['errors']} of {args.requests} asks failed")


if __name__ == "__main__":
    main()
