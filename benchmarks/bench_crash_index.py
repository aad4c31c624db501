"""Kill campaign: SIGKILL `ragft index` K times at seeded random points of a large ingest, check the index after
every kill (`ragft doctor`'s check), finish the sync, and compare with a clean index (chunk ids, counts).

    python benchmarks/bench_crash_index.py [--files 400] [--kills 20] [--embedder static] [--seed 0] [--json]
"""
from __future__ import annotations

import argparse
import json
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RAGFT = str(Path(sys.executable).parent / "ragft")
WORDS = ("alpha beta gamma delta index vector python memory thread lock cache answer question model tune "
         "garbage collector tuple list dictionary module package virtual environment decorator").split()


def make_corpus(root: Path, files: int, seed: int) -> None:
    rng = random.Random(seed)
    for i in range(files):
        folder = root / f"part{i % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        sections = "\n\n".join(f"## Part {j}\n\n" + " ".join(rng.choice(WORDS) for _ in range(90)) for j in range(3))
        (folder / f"doc{i:04d}.md").write_text(f"# Document {i}\n\n{sections}\n", encoding="utf-8")


def stored(index: Path) -> set[str]:
    from ragft.rag.stores import open_store

    return {c.id for c in open_store(str(index)).chunks()}


def kill_once(args: list[str], index: Path, delay: float) -> bool:
    process = subprocess.Popen([RAGFT, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while process.poll() is None and not (index / "embeddings.sqlite").exists():
        time.sleep(0.02)
    time.sleep(delay)
    alive = process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait()
    return alive


def main() -> None:
    from ragft.rag.doctor import check

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=400)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--embedder", default="static")
    parser.add_argument("--max-delay", type=float, default=4.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as scratch:
        corpus, index, clean = Path(scratch) / "docs", Path(scratch) / "index", Path(scratch) / "clean"
        make_corpus(corpus, args.files, args.seed)
        command = ["index", str(corpus), "--index", str(index), "--embedder", args.embedder, "--json"]
        landed, checks, problems = 0, 0, []
        started = time.perf_counter()
        for _ in range(args.kills):
            landed += kill_once(command, index, rng.uniform(0.0, args.max_delay))
            if (index / "meta.json").exists():
                report = check(index)
                checks += 1
                problems += [f"{p.kind}: {p.detail}" for p in report.problems]
        subprocess.run([RAGFT, *command], check=True, capture_output=True)
        final = check(index)
        subprocess.run([RAGFT, "index", str(corpus), "--index", str(clean), "--embedder", args.embedder],
                       check=True, capture_output=True)
        same = stored(index) == stored(clean)
        result = {
            "files": args.files, "embedder": args.embedder, "kills": args.kills, "kills_mid_ingest": landed,
            "checks_after_kill": checks, "inconsistent_after_kill": len(problems), "first_problems": problems[:3],
            "final_consistent": final.consistent, "final_chunks": final.figures.get("rows"),
            "same_chunks_as_clean_index": same, "seconds": round(time.perf_counter() - started, 1),
        }
    print(json.dumps(result, indent=2) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    if not (final.consistent and same):
        raise SystemExit("the index did not survive the kills")


if __name__ == "__main__":
    main()
