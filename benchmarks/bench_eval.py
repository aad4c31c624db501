"""Eval bench throughput: one `ragft eval run` of 200 questions (a seeded sample of python-faq + debian-faq)
against RAG with the offline default (MiniLM + extractive), timed end to end, with the measured table.

    python benchmarks/bench_eval.py --from /tmp/debdata/x [--limit 200] [--systems rag] [--distractors N]
                                    [--cache DIR] [--out DIR] [--json]

Same as: ragft eval run --bench python-faq,debian-faq --from /tmp/debdata/x --systems rag --limit 200
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path

from ragft.evaluate.config import config_from_mapping
from ragft.evaluate.runner import evaluate
from ragft.evaluate.table import format_value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", help="folder with the extracted Debian packages (else apt-get)")
    parser.add_argument("--bench", default="python-faq,debian-faq")
    parser.add_argument("--systems", default="rag")
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--distractors", type=int, default=300)
    parser.add_argument("--cache", help="private bench cache (default: the shared ~/.cache/ragft/benches)")
    parser.add_argument("--out", help="run folder (default: a temporary folder)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    config = config_from_mapping({"bench": args.bench, "bench_source": args.source, "systems": args.systems,
                                  "limit": args.limit, "distractors": args.distractors, "bench_cache": args.cache})
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(args.out) if args.out else Path(scratch) / "run"
        start = time.perf_counter()
        run = evaluate(config, out=out, progress=not args.json)
        wall = time.perf_counter() - start
        usage = resource.getrusage(resource.RUSAGE_SELF)
    summary = {
        "command": (f"ragft eval run --bench {args.bench} --systems {args.systems} --limit {args.limit} "
                    f"--distractors {args.distractors}"),
        "cpus": os.cpu_count(), "wall_s": round(wall, 1), "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "load_average_1m": round(os.getloadavg()[0], 1),
        "index_build_s": run.manifest.measurements.get("index_build_seconds"),
        "index_chunks": run.manifest.measurements.get("index_chunks"),
        "index_documents": run.manifest.measurements.get("index_documents"),
        "questions": run.table.n_questions, "answers": len(run.records),
        "rows": {row.label: {s: format_value(v) for s, v in row.values.items()} for row in run.table.rows},
        "winners": {row.label: row.winner for row in run.table.rows},
        "verdict": run.verdict.label,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(f"{summary['command']}: {summary['questions']} questions, {summary['answers']} answers, "
          f"{summary['wall_s']} s wall, {summary['cpu_s']} s CPU on {summary['cpus']} CPUs (load average "
          f"{summary['load_average_1m']} at the end; index build {summary['index_build_s']} s, "
          f"{summary['index_documents']} documents, {summary['index_chunks']} chunks)")
    systems = run.table.systems
    print("| metric | " + " | ".join(systems) + " | winner |")
    print("|---|" + "---|" * (len(systems) + 1))
    for row in run.table.rows:
        print(f"| {row.label} | " + " | ".join(format_value(row.values[s]) for s in systems) + f" | {row.winner} |")


if __name__ == "__main__":
    main()
