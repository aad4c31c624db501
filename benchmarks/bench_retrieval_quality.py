"""Retrieval quality of dense, BM25 and hybrid search on the Python FAQ (Debian python3.11-doc).

Questions are the FAQ question headings; the relevant document is that entry's answer text without its
heading; Python library/tutorial/howto/reference pages are distractors (corpus built by
`ragft.evaluate.benches`). Scores are nDCG@10 and recall@10 over the top 10 chunks (`score_retrieval`).
Fusion settings are chosen on the train+validation questions of `ragft.evaluate.splits.split(seed=0)`
(`--tune` shows that sweep); the test questions are reported apart, as the held-out figure.

    python benchmarks/bench_retrieval_quality.py [--source-dir DIR] [--distractors 100] [--embedder minilm] [--tune] [--json]
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")      # the shared CPU: BLAS threads spin against each other

import argparse
import json
import time
from pathlib import Path

import numpy as np

from ragft.evaluate.benches import load_bench
from ragft.evaluate.metrics import score_retrieval
from ragft.evaluate.splits import split
from ragft.rag.engine import Index

# (label, mode, search options); "hybrid" is SearchConfig's default (convex, alpha 0.65, 100 candidates).
RUNS = (
    ("dense", "dense", {}),
    ("bm25", "bm25", {}),
    ("hybrid (default: convex, alpha 0.65)", "hybrid", {}),
    ("hybrid RRF k=60, equal weights (old default)", "hybrid", {"fusion": "rrf"}),
    ("hybrid RRF k=20, bm25 weight 0.5", "hybrid", {"fusion": "rrf", "rrf_k": 20, "weights": {"bm25": 0.5}}),
)
TUNE_ALPHAS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)
TUNE_CANDIDATES = (50, 100)
SPLIT_SEED = 0
BENCH_DISTRACTORS = 100
# Its own bench cache: load_bench rebuilds a cache dir whose distractor count differs (eval uses 300).
BENCH_CACHE = Path.home() / ".cache" / "ragft" / "benches-rag-engine"


def scores_of(index: Index, questions, vectors, mode: str, options: dict, k: int = 10) -> dict[str, float]:
    ndcg, recall, mrr = [], [], []
    for question, vector in zip(questions, vectors):
        hits = index.search(question.question, k=k, mode=mode, query_vector=vector, **options)
        scores = score_retrieval(hits, question.relevant_ids, k=k)
        ndcg.append(scores.ndcg_at_10)
        recall.append(scores.recall_at_k)
        mrr.append(scores.mrr)
    return {"ndcg@10": round(float(np.mean(ndcg)), 4), "recall@10": round(float(np.mean(recall)), 4),
            "mrr": round(float(np.mean(mrr)), 4)}


def evaluate(index: Index, parts: dict[str, list]) -> dict[str, dict[str, dict[str, float]]]:
    """{part: {run label: scores}} for each named list of questions."""
    results = {}
    for part, questions in parts.items():
        vectors = index.embedder.embed([q.question for q in questions])
        results[part] = {label: scores_of(index, questions, vectors, mode, options)
                         for label, mode, options in RUNS}
    return results


def tune(index: Index, questions) -> list[dict]:
    """nDCG@10 of convex fusion over the alpha x candidates grid, on the tuning questions only."""
    from dataclasses import replace

    vectors = index.embedder.embed([q.question for q in questions])
    default, rows = index.config, []
    try:
        for candidates in TUNE_CANDIDATES:
            for alpha in TUNE_ALPHAS:
                index.config = replace(default, fusion="convex", alpha=alpha, candidates=candidates)
                rows.append({"candidates": candidates, "alpha": alpha,
                             **scores_of(index, questions, vectors, "hybrid", {})})
    finally:
        index.config = default
    return rows


def bench_index_dir(embedder: str, distractors: int, bench: str = "python-faq") -> Path:
    """A persistent index for the bench corpus, so reruns and bench_freshness.py only embed new text."""
    return Path.home() / ".cache" / "ragft" / "bench-index" / f"{bench}-{distractors}-{embedder}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source-dir", help="an extracted python3.11-doc tree (default: apt-get download)")
    # 100 distractor pages (the eval default is 300) keep the CPU-only MiniLM indexing near 1k chunks.
    parser.add_argument("--distractors", type=int, default=BENCH_DISTRACTORS)
    parser.add_argument("--embedder", default="minilm")
    parser.add_argument("--tune", action="store_true", help="also sweep convex alpha x candidates on train+validation")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    bench = load_bench("python-faq", source_dir=args.source_dir, distractors=args.distractors,
                       cache_dir=BENCH_CACHE)
    parts = split(bench.questions, seed=SPLIT_SEED)
    tuning = parts.train + parts.validation
    start = time.perf_counter()
    with Index.open(bench_index_dir(args.embedder, args.distractors), embedder=args.embedder) as index:
        report = index.sync([bench.corpus_dir], root=bench.corpus_dir, progress=not args.json)
        index_s = time.perf_counter() - start
        start = time.perf_counter()
        results = evaluate(index, {"test": parts.test, "train+validation": tuning, "all": bench.questions})
        sweep = tune(index, tuning) if args.tune else []
        search_s = time.perf_counter() - start
    summary = {
        "bench": bench.name, "package": f"{bench.source.package} {bench.source.version}",
        "questions": len(bench.questions), "documents": bench.documents, "distractors": bench.distractors,
        "chunks": report.chunks_total, "embedder": args.embedder, "index_s": round(index_s, 1),
        "search_s": round(search_s, 1), "chunking": index.catalog.chunking.to_json(),
        "split": {"seed": SPLIT_SEED, "train+validation": len(tuning), "test": len(parts.test)},
        "results": results, "tune": sweep,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(f"{summary['package']}: {summary['questions']} questions, {summary['documents']} documents "
          f"({summary['distractors']} distractors), {summary['chunks']} chunks, embedder {args.embedder}, "
          f"(chunking {summary['chunking']}), sync {summary['index_s']} s, searches {summary['search_s']} s")
    print(f"split seed {SPLIT_SEED}: {len(tuning)} train+validation questions (tuning), {len(parts.test)} test")
    print("| mode | test nDCG@10 | test recall@10 | all nDCG@10 | all recall@10 | all MRR |")
    print("|---|---|---|---|---|---|")
    for label in results["test"]:
        held, every = results["test"][label], results["all"][label]
        print(f"| {label} | {held['ndcg@10']:.3f} | {held['recall@10']:.3f} | {every['ndcg@10']:.3f} "
              f"| {every['recall@10']:.3f} | {every['mrr']:.3f} |")
    if sweep:
        print("\ntuning sweep (train+validation only): candidates alpha nDCG@10 recall@10")
        for row in sweep:
            print(f"  {row['candidates']:>4} {row['alpha']:.2f} {row['ndcg@10']:.4f} {row['recall@10']:.4f}")
        best = max(sweep, key=lambda r: r["ndcg@10"])
        print(f"best on train+validation: candidates={best['candidates']} alpha={best['alpha']}")


if __name__ == "__main__":
    main()
