"""Paired differences between the systems of one eval run: the questions each pair shares, bootstrapped.

The run's table gives one interval per system (a winner only where they do not overlap); the questions are the
same for every system, so per-question differences separate pairs that overlapping intervals cannot. Used
for the study section of docs/benchmarks.md:

    python benchmarks/study_pairs.py /tmp/evidence/run hybrid:rag-gemma rag:fine-tuned fine-tuned:closed-book
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from ragft.evaluate.stats import compare_detail

METRICS = {  # name -> (value of a question record, higher is better)
    "answer F1": (lambda r: r["quality"]["token_f1"], True),
    "hallucinated": (lambda r: float(bool(r["hallucinated"])), False),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="an eval run folder (holds questions.jsonl)")
    parser.add_argument("pairs", nargs="+", help="A:B system pairs")
    args = parser.parse_args()
    records: dict[str, dict[str, dict]] = {}
    for line in (args.run / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("error") is None and record.get("repeat", 0) == 0:
            records.setdefault(record["system"], {})[record["question_id"]] = record
    print("| A vs B | metric | A | B | A - B [95% CI, paired] | better |")
    print("|---|---|---|---|---|---|")
    for pair in args.pairs:
        a, _, b = pair.partition(":")
        if a not in records or b not in records:
            parser.error(f"{pair}: the run has systems {', '.join(records)}")
        shared = sorted(records[a].keys() & records[b].keys())
        for name, (value, higher) in METRICS.items():
            result = compare_detail([value(records[a][q]) for q in shared], [value(records[b][q]) for q in shared],
                                    higher_is_better=higher)
            better = {"a": a, "b": b, "tie": "tie"}[result.winner]
            print(f"| {a} vs {b} ({len(shared)} q) | {name} | {result.mean_a:.3f} | {result.mean_b:.3f} | "
                  f"{result.difference:+.3f} [{result.low:+.3f}, {result.high:+.3f}] | {better} |")


if __name__ == "__main__":
    main()
