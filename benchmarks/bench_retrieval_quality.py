"""Retrieval quality of dense, BM25 and hybrid search on the Python FAQ (Debian python3.11-doc).

Questions are the FAQ question headings; the relevant document is that entry's answer text without its
heading; Python library/tutorial/howto/reference pages are distractors (corpus built by
`ragft.evaluate.benches`). Scores are nDCG@10 and recall@10 over the top 10 chunks (`score_retrieval`).

    python benchmarks/bench_retrieval_quality.py [--source-dir DIR] [--distractors 100] [--embedder minilm] [--json]
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from ragft.evaluate.benches import load_bench
from ragft.evaluate.metrics import score_retrieval
from ragft.rag.engine import Index

# (label, mode, search options); the dense-leaning variant's weights were picked on the even-numbered
# questions while exploring (docs/benchmarks.md says so), the defaults are RRF k=60 with equal weights.
RUNS = (
    ("dense", "dense", {}),
    ("bm25", "bm25", {}),
    ("hybrid", "hybrid", {}),
    ("hybrid rrf_k=20 bm25 weight 0.5", "hybrid", {"rrf_k": 20, "weights": {"bm25": 0.5}}),
)
BENCH_DISTRACTORS = 100
# Its own bench cache: load_bench rebuilds a cache dir whose distractor count differs (eval uses 300).
BENCH_CACHE = Path.home() / ".cache" / "ragft" / "benches-rag-engine"


def evaluate(index: Index, questions, k: int = 10) -> dict[str, dict[str, float]]:
    vectors = index.embedder.embed([q.question for q in questions])
    results = {}
    for label, mode, options in RUNS:
        ndcg, recall, mrr = [], [], []
        for question, vector in zip(questions, vectors):
            hits = index.search(question.question, k=k, mode=mode, query_vector=vector, **options)
            scores = score_retrieval(hits, question.relevant_ids, k=k)
            ndcg.append(scores.ndcg_at_10)
            recall.append(scores.recall_at_k)
            mrr.append(scores.mrr)
        results[label] = {"ndcg@10": round(float(np.mean(ndcg)), 4), "recall@10": round(float(np.mean(recall)), 4),
                         "mrr": round(float(np.mean(mrr)), 4)}
    return results


def bench_index_dir(embedder: str, distractors: int) -> Path:
    """A persistent index for the bench corpus, so reruns and bench_freshness.py only embed new text."""
    return Path.home() / ".cache" / "ragft" / "bench-index" / f"python-faq-{distractors}-{embedder}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source-dir", help="an extracted python3.11-doc tree (default: apt-get download)")
    # 100 distractor pages (the eval default is 300) keep the CPU-only MiniLM indexing near 1k chunks.
    parser.add_argument("--distractors", type=int, default=BENCH_DISTRACTORS)
    parser.add_argument("--embedder", default="minilm")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    bench = load_bench("python-faq", source_dir=args.source_dir, distractors=args.distractors,
                       cache_dir=BENCH_CACHE)
    start = time.perf_counter()
    with Index.open(bench_index_dir(args.embedder, args.distractors), embedder=args.embedder) as index:
        report = index.sync([bench.corpus_dir], root=bench.corpus_dir, progress=not args.json)
        index_s = time.perf_counter() - start
        results = evaluate(index, bench.questions)
    summary = {
        "bench": bench.name, "package": f"{bench.source.package} {bench.source.version}",
        "questions": len(bench.questions), "documents": bench.documents, "distractors": bench.distractors,
        "chunks": report.chunks_total, "embedder": args.embedder, "index_s": round(index_s, 1),
        "chunking": index.meta["chunking"],
        "results": results,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(f"{summary['package']}: {summary['questions']} questions, {summary['documents']} documents "
          f"({summary['distractors']} distractors), {summary['chunks']} chunks, embedder {args.embedder}, "
          f"(chunking {summary['chunking']}), sync took {summary['index_s']} s")
    print("| mode | nDCG@10 | recall@10 | MRR |")
    print("|---|---|---|---|")
    for mode, scores in results.items():
        print(f"| {mode} | {scores['ndcg@10']:.3f} | {scores['recall@10']:.3f} | {scores['mrr']:.3f} |")


if __name__ == "__main__":
    main()
