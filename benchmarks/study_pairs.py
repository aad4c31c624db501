"""Paired differences between the systems of one eval run: the questions each pair shares, bootstrapped.

The run's table gives one interval per system (a winner only where they do not overlap); the questions are the
same for every system, so per-question differences separate pairs that overlapping intervals cannot. The
measured verdict uses the same `ragft.evaluate.decision.paired_difference`. Used for the study section of
docs/benchmarks.md:

    python benchmarks/study_pairs.py /tmp/evidence/run hybrid:rag-gemma rag:fine-tuned fine-tuned:closed-book
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ragft.evaluate.decision import correctness, paired_difference
from ragft.evaluate.run_folder import QUESTIONS, read_records

METRICS = {  # name -> (value of a question record, higher is better)
    "answer F1": (correctness("token_f1"), True),
    "hallucinated": (lambda r: None if r.error is not None else float(bool(r.hallucinated)), False),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="an eval run folder (holds questions.jsonl)")
    parser.add_argument("pairs", nargs="+", help="A:B system pairs")
    args = parser.parse_args()
    records = read_records(args.run / QUESTIONS)
    systems = {r.system for r in records}
    print("| A vs B | metric | A | B | A - B [95% CI, paired] | better |")
    print("|---|---|---|---|---|---|")
    for pair in args.pairs:
        a, _, b = pair.partition(":")
        if a not in systems or b not in systems:
            parser.error(f"{pair}: the run has systems {', '.join(sorted(systems))}")
        for name, (value, higher) in METRICS.items():
            d = paired_difference(records, a, b, value, higher_is_better=higher)
            if d is None:
                continue
            print(f"| {a} vs {b} ({d.n} q) | {name} | {d.mean_a:.3f} | {d.mean_b:.3f} | "
                  f"{d.difference:+.3f} [{d.low:+.3f}, {d.high:+.3f}] | {d.better} |")


if __name__ == "__main__":
    main()
