"""Hybrid fusion defaults by cross-validation over both built-in benches (Python FAQ and Debian FAQ).

Each bench's dense and BM25 rankings are fetched once per question (`ragft.evaluate.tuning.Rankings`, depth
200) and every fusion setting of the grid (convex alpha 0.3..0.9, RRF k 10/20/60 x BM25 weight, candidates
50/100/200) is scored per question, so each split seed is only a different subset of questions. For every seed
of `ragft.evaluate.splits.split`:

  within: tune on a bench's train+validation, score its own test questions;
  across: tune on one bench's train+validation, score the OTHER bench's test questions (both directions);
  pooled: the candidate default, tuned on both benches' train+validation (mean nDCG@10, and the minimax rule:
          the best worst-bench gain over dense), scored on each bench's test questions.

Held-out figures are means over seeds; the paired bootstrap interval of (setting - dense) is computed on seed 0's
test questions, and over all questions of each bench (`ragft.evaluate.stats.compare_detail`). Indexes are the
persistent ones of bench_retrieval_quality.py (only new text is embedded).

    python benchmarks/bench_fusion_crossval.py [--source-dir DIR] [--seeds 20] [--embedder minilm] [--json]
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")      # the shared CPU: BLAS threads spin against each other
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import json
import time

import numpy as np
from bench_retrieval_quality import BENCH_CACHE, BENCH_DISTRACTORS, bench_index_dir

from ragft.evaluate.benches import load_bench
from ragft.evaluate.splits import split
from ragft.evaluate.stats import compare_detail
from ragft.evaluate.tuning import Rankings, TuneGrid, describe
from ragft.rag.engine import Index
from ragft.rag.search import SearchConfig

BENCHES = ("python-faq", "debian-faq")
GRID = TuneGrid(alphas=tuple(round(a, 2) for a in np.arange(0.3, 0.901, 0.05)), rrf_ks=(10.0, 20.0, 60.0),
                bm25_weights=(0.25, 0.5, 1.0), candidates=(50, 100, 200))
K = 10
OLD_DEFAULT = SearchConfig(fusion="convex", alpha=0.65, candidates=100)


def per_question(bench: str, embedder: str, source_dir: str | None, configs: list[SearchConfig]) -> dict:
    """{"items", "dense", "configs": [per-question nDCG@10 array per config], "recall": ...} over all questions."""
    loaded = load_bench(bench, source_dir=source_dir, distractors=BENCH_DISTRACTORS, cache_dir=BENCH_CACHE)
    with Index.open(bench_index_dir(embedder, BENCH_DISTRACTORS, bench), embedder=embedder) as index:
        report = index.sync([loaded.corpus_dir], root=loaded.corpus_dir, progress=False)
        rankings = Rankings(index, loaded.questions, max(c.candidates for c in configs))
        dense = rankings.scores(None, K, mode="dense")
        scored = [rankings.scores(config, K) for config in configs]
    return {"items": loaded.questions, "chunks": report.chunks_total, "dense": dense,
            "ndcg": np.stack([s["ndcg@10"] for s in scored]), "recall": np.stack([s["recall@k"] for s in scored])}


def positions(items, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row numbers of (train+validation, test) questions for split seed `seed`."""
    row = {item.id: n for n, item in enumerate(items)}
    parts = split(items, seed=seed)
    return (np.array([row[i.id] for i in parts.train + parts.validation]), np.array([row[i.id] for i in parts.test]))


def interval(a: np.ndarray, b: np.ndarray) -> dict:
    detail = compare_detail(a, b, n_resamples=2000)
    return {"difference": round(detail.difference, 4), "low": round(detail.low, 4), "high": round(detail.high, 4),
            "winner": detail.winner}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source-dir", help="folder with the extracted .deb trees (default: apt-get download)")
    parser.add_argument("--embedder", default="minilm")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    configs = GRID.search_configs(OLD_DEFAULT)
    start, cpu = time.perf_counter(), time.process_time()
    data = {name: per_question(name, args.embedder, args.source_dir, configs) for name in BENCHES}
    scoring_s, scoring_cpu_s = time.perf_counter() - start, time.process_time() - cpu
    seeds = range(args.seeds)
    splits = {name: [positions(data[name]["items"], seed) for seed in seeds] for name in BENCHES}

    def mean_on(name: str, rows: np.ndarray) -> np.ndarray:           # nDCG@10 of every config on these rows
        return data[name]["ndcg"][:, rows].mean(axis=1)

    # Per seed: each bench's tuning-set and test-set means per config, and dense's.
    tune_means = {n: np.stack([mean_on(n, s[0]) for s in splits[n]]) for n in BENCHES}        # seeds x configs
    test_means = {n: np.stack([mean_on(n, s[1]) for s in splits[n]]) for n in BENCHES}
    dense_tune = {n: np.array([data[n]["dense"]["ndcg@10"][s[0]].mean() for s in splits[n]]) for n in BENCHES}
    dense_test = {n: np.array([data[n]["dense"]["ndcg@10"][s[1]].mean() for s in splits[n]]) for n in BENCHES}

    protocols = []
    for source in BENCHES:
        for target in BENCHES:
            picks = tune_means[source].argmax(axis=1)
            gains = np.array([test_means[target][s, p] - dense_test[target][s] for s, p in enumerate(picks)])
            protocols.append({"tuned on": source, "scored on": target, "kind": "within" if source == target
                              else "across", "test nDCG@10": round(float(np.mean([test_means[target][s, p]
                                                                                    for s, p in enumerate(picks)])), 4),
                              "gain over dense": round(float(gains.mean()), 4),
                              "seeds negative": int((gains < 0).sum()),
                              "picks": sorted({describe(configs[p]) for p in picks})[:6]})
    # Pooled rules: mean over both benches' tuning sets, and minimax gain over dense.
    pooled_mean = sum(tune_means[n] for n in BENCHES) / len(BENCHES)
    worst_gain = np.minimum(*[tune_means[n] - dense_tune[n][:, None] for n in BENCHES])
    rules = {"pooled mean": pooled_mean, "pooled minimax": worst_gain}
    pooled = []
    for rule, table in rules.items():
        picks = table.argmax(axis=1)
        row = {"rule": rule, "picks": sorted({describe(configs[p]) for p in picks})[:6]}
        for name in BENCHES:
            gains = np.array([test_means[name][s, p] - dense_test[name][s] for s, p in enumerate(picks)])
            row[name] = {"gain over dense": round(float(gains.mean()), 4), "seeds negative": int((gains < 0).sum())}
        pooled.append(row)
    # The single setting to ship: best mean over seeds of the pooled minimax rule's objective.
    overall = int(worst_gain.mean(axis=0).argmax())
    candidates = {"chosen": overall, "old default": 0}
    ship = {}
    for label, position in candidates.items():
        entry = {"setting": describe(configs[position])}
        for name in BENCHES:
            ndcg = data[name]["ndcg"][position]
            dense = data[name]["dense"]["ndcg@10"]
            test_rows = splits[name][0][1]
            entry[name] = {
                "test nDCG@10 (mean over seeds)": round(float(test_means[name][:, position].mean()), 4),
                "dense test nDCG@10": round(float(dense_test[name].mean()), 4),
                "seeds with test gain < 0": int((test_means[name][:, position] < dense_test[name]).sum()),
                "vs dense, seed-0 test": interval(ndcg[test_rows], dense[test_rows]),
                "vs dense, all questions": interval(ndcg, dense),
                "recall@10 all": round(float(data[name]["recall"][position].mean()), 4),
                "dense recall@10 all": round(float(data[name]["dense"]["recall@k"].mean()), 4),
            }
        ship[label] = entry
    # The top of the pooled-minimax table, for the docs.
    order = np.argsort(-worst_gain.mean(axis=0))[:8]
    table = [{"setting": describe(configs[p]), "worst-bench tuning gain": round(float(worst_gain[:, p].mean()), 4),
              **{f"{n} test": round(float(test_means[n][:, p].mean()), 4) for n in BENCHES}} for p in order]
    summary = {"embedder": args.embedder, "seeds": args.seeds, "settings": len(configs), "k": K,
               "questions": {n: len(data[n]["items"]) for n in BENCHES},
               "chunks": {n: data[n]["chunks"] for n in BENCHES}, "scoring_s": round(scoring_s, 1),
               "scoring_cpu_s": round(scoring_cpu_s, 1),
               "protocols": protocols, "pooled": pooled, "ship": ship, "top": table}
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(f"{len(configs)} settings x {args.seeds} split seeds; questions {summary['questions']}, chunks "
          f"{summary['chunks']}, embedder {args.embedder}; sync + scoring {summary['scoring_s']} s wall, "
          f"{summary['scoring_cpu_s']} CPU-s")
    print("\n| tuned on | scored on (test) | test nDCG@10 | gain over dense | seeds < dense |")
    print("|---|---|---|---|---|")
    for row in protocols:
        print(f"| {row['tuned on']} | {row['scored on']} | {row['test nDCG@10']:.3f} | {row['gain over dense']:+.3f} "
              f"| {row['seeds negative']}/{args.seeds} |")
    print("\n| pooled rule | " + " | ".join(f"{n} gain (seeds < dense)" for n in BENCHES) + " |")
    print("|---|---|---|")
    for row in pooled:
        print(f"| {row['rule']} | " + " | ".join(
            f"{row[n]['gain over dense']:+.3f} ({row[n]['seeds negative']}/{args.seeds})" for n in BENCHES) + " |")
    print("\ntop settings by mean worst-bench tuning gain over dense:")
    for row in table:
        print(f"  {row['setting']:<45} {row['worst-bench tuning gain']:+.4f}  "
              + "  ".join(f"{n} test {row[n + ' test']:.4f}" for n in BENCHES))
    for label, entry in ship.items():
        print(f"\n{label}: {entry['setting']}")
        for name in BENCHES:
            e = entry[name]
            s0, al = e["vs dense, seed-0 test"], e["vs dense, all questions"]
            print(f"  {name}: test {e['test nDCG@10 (mean over seeds)']:.4f} vs dense {e['dense test nDCG@10']:.4f} "
                  f"({e['seeds with test gain < 0']}/{args.seeds} seeds below); seed-0 test diff "
                  f"{s0['difference']:+.4f} [{s0['low']:+.4f}, {s0['high']:+.4f}]; all questions "
                  f"{al['difference']:+.4f} [{al['low']:+.4f}, {al['high']:+.4f}] {al['winner']}; "
                  f"recall@10 {e['recall@10 all']:.3f} vs dense {e['dense recall@10 all']:.3f}")


if __name__ == "__main__":
    main()
