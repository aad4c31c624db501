"""Ingest throughput: discover + load + chunk a corpus of real documentation up to a target chunk count.

The corpus is the Python 3.11 FAQ Sphinx sources (rst) and the Debian FAQ HTML pages from the Debian
packages, copied as many times as needed (each copy in its own folder, a copy number prepended so no two
files are equal). Chunking uses the defaults (MiniLM WordPiece counts, 200 tokens, 32 overlap); a sample
of chunks is re-tokenized to confirm the bound. Wall and CPU time are both reported: on a shared machine
the CPU seconds are the comparable figure.

    python benchmarks/bench_ingest.py --from /tmp/debdata/x [--chunks 100000] [--json]

`--tiny-files N` instead measures a full `Index.sync` (static embedder, LanceDB store) of folders of N/10, N/2
and N one-line files, each size in a fresh child process: wall and CPU seconds per file and peak RSS. Per-file
cost must stay flat as the folder grows (a per-batch cost that grows with the index would show here).

    python benchmarks/bench_ingest.py --tiny-files 50000 [--json]
"""
from __future__ import annotations

import argparse
import json
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ragft.rag.chunking import chunk_document, minilm_token_counter
from ragft.rag.loaders import discover, load

SEED = 1234
PYTHON_FAQ = "usr/share/doc/python3.11/html/_sources/faq"
DEBIAN_FAQ = "usr/share/doc/debian/FAQ"


def corpus_files(root: Path) -> list[Path]:
    files = sorted((root / PYTHON_FAQ).glob("*.rst.txt")) + sorted((root / DEBIAN_FAQ).glob("*.en.html"))
    if not files:
        raise SystemExit(f"no FAQ files under {root}: extract python3.11-doc and debian-faq there (see README)")
    return files


def write_copies(files: list[Path], copies: int, target: Path) -> None:
    for copy in range(copies):
        folder = target / f"copy{copy:04d}"
        folder.mkdir(parents=True)
        for file in files:
            text = file.read_text(encoding="utf-8")
            marker = f"<!-- copy {copy} -->\n" if file.suffix == ".html" else f".. copy {copy}\n\n"
            (folder / file.name).write_text(marker + text, encoding="utf-8")


def chunks_per_copy(files: list[Path]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        write_copies(files, 1, Path(tmp))
        return sum(len(chunk_document(doc)) for source in discover([tmp]) for doc in load(source))


def run(root: Path, target_chunks: int) -> dict:
    files = corpus_files(root)
    per_copy = chunks_per_copy(files)
    copies = -(-target_chunks // per_copy)
    with tempfile.TemporaryDirectory() as tmp:
        write_copies(files, copies, Path(tmp))
        started = time.perf_counter()
        sources = discover([tmp])
        discovered, cpu_discovered = time.perf_counter(), time.process_time()
        docs = [doc for source in sources for doc in load(source)]
        loaded, cpu_loaded = time.perf_counter(), time.process_time()
        chunks = [chunk for doc in docs for chunk in chunk_document(doc)]
        chunked, cpu_chunked = time.perf_counter(), time.process_time()
    count = minilm_token_counter()
    sample = random.Random(SEED).sample(chunks, min(1000, len(chunks)))
    tokens = [count(chunk.text) for chunk in sample]
    characters = sum(len(doc.text) for doc in docs)
    return {
        "files": len(sources),
        "documents": len(docs),
        "characters": characters,
        "chunks": len(chunks),
        "discover_s": round(discovered - started, 2),
        "load_s": round(loaded - discovered, 2),
        "chunk_s": round(chunked - loaded, 2),
        "load_cpu_s": round(cpu_loaded - cpu_discovered, 2),
        "chunk_cpu_s": round(cpu_chunked - cpu_loaded, 2),
        "chunks_per_cpu_s": round(len(chunks) / (cpu_chunked - cpu_loaded)),
        "chars_per_s_load": round(characters / (loaded - discovered)),
        "sample_max_tokens": max(tokens),
        "sample_mean_tokens": round(sum(tokens) / len(tokens), 1),
        "python": platform.python_version(),
    }


def tiny_files_run(files: int) -> dict:
    """One sync of `files` one-line files (in this process; call it in a fresh child for a clean peak RSS)."""
    from ragft.rag.engine import Index

    with tempfile.TemporaryDirectory() as tmp:
        docs = Path(tmp) / "docs"
        for i in range(files):
            folder = docs / f"d{i % 100:02d}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"n{i}.txt").write_text(f"note {i} about word{i}\n")
        wall, cpu = time.perf_counter(), time.process_time()
        with Index.open(Path(tmp) / "index", embedder="static", embedding_cache=False) as index:
            report = index.sync([docs], progress=False)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert len(report.added) == files and not report.failed, (len(report.added), report.failed[:3])
    return {"files": files, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "wall_ms_per_file": round(1000 * wall / files, 3), "cpu_ms_per_file": round(1000 * cpu / files, 3),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def tiny_files(largest: int) -> dict:
    rows = []
    for files in (largest // 10, largest // 2, largest):
        child = subprocess.run([sys.executable, __file__, "--one-tiny-run", str(files)], capture_output=True,
                               text=True, check=True)
        rows.append(json.loads(child.stdout))
    small, middle, big = rows

    def marginal(key: str, a: dict, b: dict) -> float:           # per extra file: fixed costs cancel out
        return (b[key] - a[key]) / (b["files"] - a["files"])

    return {"rows": rows,
            "marginal_cpu_ms_per_file": [round(1000 * marginal("cpu_s", a, b), 3)
                                         for a, b in ((small, middle), (middle, big))],
            "marginal_cpu_ratio": round(marginal("cpu_s", middle, big) / marginal("cpu_s", small, middle), 2),
            "marginal_wall_ratio": round(marginal("wall_s", middle, big) / marginal("wall_s", small, middle), 2),
            "rss_kb_per_extra_file": [round(1024 * marginal("peak_rss_mb", a, b), 2)
                                      for a, b in ((small, middle), (middle, big))],
            "python": platform.python_version()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="root", type=Path, default=Path("/tmp/debdata/x"))
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--tiny-files", type=int, help="Measure syncs of N/10, N/2 and N one-line files instead.")
    parser.add_argument("--one-tiny-run", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_tiny_run:
        print(json.dumps(tiny_files_run(args.one_tiny_run)))
        return
    if args.tiny_files:
        result = tiny_files(args.tiny_files)
        print(json.dumps(result, indent=2) if args.json else _tiny_table(result))
        return
    result = run(args.root, args.chunks)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print("| files | characters | chunks | discover | load (CPU) | chunk (CPU) | chunks per CPU-s | sampled max / mean tokens |")
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {result['files']:,} | {result['characters']:,} | {result['chunks']:,} | {result['discover_s']} s "
        f"| {result['load_s']} s ({result['load_cpu_s']} s) | {result['chunk_s']} s ({result['chunk_cpu_s']} s) "
        f"| {result['chunks_per_cpu_s']:,} | {result['sample_max_tokens']} / {result['sample_mean_tokens']} |"
    )


def _tiny_table(result: dict) -> str:
    lines = ["| files | wall (CPU) s | wall (CPU) ms per file | peak RSS MB |", "|---|---|---|---|"]
    for row in result["rows"]:
        lines.append(f"| {row['files']:,} | {row['wall_s']} ({row['cpu_s']}) | {row['wall_ms_per_file']} "
                     f"({row['cpu_ms_per_file']}) | {row['peak_rss_mb']} |")
    lines.append(f"\nCPU ms per extra file, first half vs second half: {result['marginal_cpu_ms_per_file']} "
                 f"(ratio {result['marginal_cpu_ratio']}, wall ratio {result['marginal_wall_ratio']}); "
                 f"RSS KB per extra file: {result['rss_kb_per_extra_file']}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
