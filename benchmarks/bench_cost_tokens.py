"""How far the chars/4 approximation (used for Claude and self-hosted models) strays from a real BPE count,
and how fast corpus tokens are counted, on the Debian-packaged Python FAQ and Debian FAQ.

Extract the data first (see the team brief): apt-get download python3.11-doc debian-faq && dpkg-deb -x ... DIR
    python benchmarks/bench_cost_tokens.py --root /tmp/debdata/x [--json]
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

from ragft.costs.tokens import counter_for, measure_corpus

CORPORA = {
    "python3.11 FAQ (rst)": "usr/share/doc/python3.11/html/_sources/faq",
    "Debian FAQ (txt.gz)": "usr/share/doc/debian/FAQ",
}


def measure(folder: Path) -> dict:
    result = {}
    for tokenizer in ("cl100k_base", "chars/4"):
        start = time.perf_counter()
        corpus = measure_corpus(folder, counter_for(tokenizer))
        result[tokenizer] = {"tokens": corpus.tokens, "seconds": time.perf_counter() - start,
                             "files": corpus.files, "characters": corpus.characters}
    result["chars4_over_cl100k"] = result["chars/4"]["tokens"] / result["cl100k_base"]["tokens"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", default="/tmp/debdata/x")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = {name: measure(Path(args.root) / rel) for name, rel in CORPORA.items()}
    if args.json:
        print(json.dumps({"python": platform.python_version(), "results": results}, indent=2))
        return
    print("| corpus | files | characters | cl100k tokens | chars/4 tokens | chars/4 / cl100k | cl100k time |")
    print("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        cl, c4 = r["cl100k_base"], r["chars/4"]
        print(f"| {name} | {cl['files']} | {cl['characters']:,} | {cl['tokens']:,} | {c4['tokens']:,} | "
              f"{r['chars4_over_cl100k']:.2f} | {cl['seconds']:.2f} s |")


if __name__ == "__main__":
    main()
