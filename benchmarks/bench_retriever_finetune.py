"""Retrieval before and after `ragft finetune retriever` on the Debian FAQ bench, or the Python FAQ (issue 17).

(a) evalset: trained on the train split of `ragft.evaluate.splits.split(seed=0)` (its questions with the chunks of
    their answers), scored on the held-out test split.
(c) documents: trained on self-supervised pairs from the corpus alone (inverse cloze, heading questions; no
    question of the bench is seen), scored on ALL the bench's questions.
Each is scored dense and hybrid (the default convex fusion), nDCG@10 and recall@10 over the top 10 chunks
(`score_retrieval`), tuned minus base with a paired bootstrap 95 % interval over the questions
(`ragft.evaluate.stats.compare_detail`). Hyperparameters are fixed before looking at any test score (no sweep).

    OMP_NUM_THREADS=1 python benchmarks/bench_retriever_finetune.py --source-dir DIR [--work DIR] [--json]
    OMP_NUM_THREADS=1 python benchmarks/bench_retriever_finetune.py --bench python-faq --distractors 100 --source-dir DIR
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")      # the shared CPU: BLAS threads spin against each other

import argparse
import json
import time
from pathlib import Path

from ragft.errors import IndexMismatchError
from ragft.evaluate.benches import load_bench
from ragft.evaluate.metrics import score_retrieval
from ragft.evaluate.splits import split
from ragft.evaluate.stats import compare_detail
from ragft.evaluate.training_pairs import bench_pairs, document_pairs
from ragft.finetune.retriever import RetrieverConfig, train_retriever
from ragft.rag.embedders.tuned import folder_reference, read_manifest
from ragft.rag.engine import Index

SPLIT_SEED = 0
MODES = ("dense", "hybrid")
METRICS = (("ndcg@10", "ndcg_at_10"), ("recall@10", "recall_at_k"))
# Chosen before any test score was seen: few pairs in (a) get more passes, (c) has pairs enough for one.
RUNS = {
    "evalset": {"config": RetrieverConfig(epochs=3, batch_size=16), "scored_on": ("test",)},
    "documents": {"config": RetrieverConfig(epochs=1, batch_size=32), "scored_on": ("all", "test")},
}


def per_question(index: Index, questions, mode: str) -> dict[str, list[float]]:
    vectors = index.embedder.embed([q.question for q in questions])
    found: dict[str, list[float]] = {label: [] for label, _ in METRICS}
    for question, vector in zip(questions, vectors):
        scores = score_retrieval(index.search(question.question, k=10, mode=mode, query_vector=vector),
                                 question.relevant_ids, k=10)
        for label, attribute in METRICS:
            found[label].append(getattr(scores, attribute))
    return found


def indexed(location: Path, embedder: str, corpus: Path) -> tuple[Index, float]:
    start = time.perf_counter()
    try:
        index = Index.open(location, embedder=embedder)
    except IndexMismatchError:        # the work folder moved: rebuilt from the embedding cache it keeps
        index = Index.open(location, embedder=embedder, rebuild=True)
    index.sync([corpus], root=corpus)
    return index, time.perf_counter() - start


def compare(base: Index, tuned: Index, questions) -> dict:
    rows = {}
    for mode in MODES:
        before, after = per_question(base, questions, mode), per_question(tuned, questions, mode)
        for label, _ in METRICS:
            c = compare_detail(after[label], before[label], n_resamples=2000, seed=0)
            rows[f"{mode} {label}"] = {"base": round(c.mean_b, 4), "tuned": round(c.mean_a, 4),
                                       "difference": round(c.difference, 4), "low": round(c.low, 4),
                                       "high": round(c.high, 4), "winner": {"a": "tuned", "b": "base"}.get(c.winner, "tie")}
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", default="debian-faq", choices=("debian-faq", "python-faq"))
    parser.add_argument("--distractors", type=int, default=None, help="distractor documents (default: the bench's)")
    parser.add_argument("--source-dir", help="an extracted Debian package tree (default: apt-get download)")
    parser.add_argument("--work", default=str(Path.home() / ".cache" / "ragft" / "bench-retriever"),
                        help="where the tuned folders and the indexes go")
    parser.add_argument("--only", choices=tuple(RUNS), help="one run only")
    parser.add_argument("--per-chunk", type=int, default=3, help="inverse-cloze sentences per chunk in (c)")
    parser.add_argument("--reuse", action="store_true", help="score the retrievers already in --work, no training")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = Path(args.work) / f"{args.bench}-{args.distractors}"
    options = {} if args.distractors is None else {"distractors": args.distractors}
    bench = load_bench(args.bench, source_dir=args.source_dir, cache_dir=work / "benches", **options)
    parts = split(bench.questions, seed=SPLIT_SEED)
    scored = {"test": parts.test, "all": bench.questions}
    base, base_s = indexed(work / "index-minilm", "minilm", bench.corpus_dir)
    summary = {"bench": bench.name, "package": f"{bench.source.package} {bench.source.version}",
               "questions": len(bench.questions), "test_questions": len(parts.test), "documents": bench.documents,
               "chunks": base.stats()["chunks"], "base_index_s": round(base_s, 1), "threads": os.environ.get(
                   "OMP_NUM_THREADS", "all"), "runs": {}}
    for source, run in RUNS.items():
        if args.only and source != args.only:
            continue
        if source == "evalset":
            pairs = bench_pairs(args.bench, split="train", seed=SPLIT_SEED, source_dir=args.source_dir,
                                cache_dir=work / "benches", distractors=args.distractors)
        else:
            pairs = document_pairs(bench.corpus_dir, seed=0, per_chunk=args.per_chunk)
        out = work / f"retriever-{source}"
        began, began_cpu = time.perf_counter(), time.process_time()
        manifest = (read_manifest(out) if args.reuse else
                    train_retriever(pairs, out, config=run["config"], overwrite=True))
        wall, cpu = time.perf_counter() - began, time.process_time() - began_cpu
        tuned, tuned_s = indexed(work / f"index-{source}", str(out), bench.corpus_dir)
        try:
            summary["runs"][source] = {
                "pairs": manifest.counts["pairs"], "queries": manifest.counts["queries"], "steps": manifest.steps,
                "hyperparameters": run["config"].model_dump(), "per_chunk": args.per_chunk,
                "training_wall_s": None if args.reuse else round(wall, 1),
                "training_cpu_s": None if args.reuse else round(cpu, 1), "steps_wall_s": manifest.seconds, "steps_cpu_s": manifest.cpu_seconds,
                "loss_first": manifest.losses[0], "loss_last": manifest.losses[-1],
                "tuned_index_s": round(tuned_s, 1), "embedder": tuned.embedder.name,
                "results": {part: {"n": len(scored[part]), **compare(base, tuned, scored[part])}
                            for part in run["scored_on"]},
                "reindex": f"ragft index DOCS --index PATH --embedder {folder_reference(out)} --rebuild",
            }
        finally:
            tuned.close()
    base.close()
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(f"{summary['package']}: {summary['questions']} questions ({summary['test_questions']} test), "
          f"{summary['documents']} documents, {summary['chunks']} chunks; threads {summary['threads']}")
    for source, run in summary["runs"].items():
        print(f"\n({'a' if source == 'evalset' else 'c'}) pairs from {source}: {run['pairs']} pairs, {run['steps']} "
              f"steps, training {run['training_wall_s']} s wall / {run['training_cpu_s']} CPU-s (mining included), "
              f"loss {run['loss_first']:.3f} -> {run['loss_last']:.3f}")
        print("| questions | retrieval | base | tuned | tuned - base [95% paired bootstrap] | winner |")
        print("|---|---|---|---|---|---|")
        for part, rows in run["results"].items():
            for label, row in rows.items():
                if label != "n":
                    print(f"| {part} ({rows['n']}) | {label} | {row['base']:.3f} | {row['tuned']:.3f} | "
                          f"{row['difference']:+.3f} [{row['low']:+.3f}, {row['high']:+.3f}] | {row['winner']} |")


if __name__ == "__main__":
    main()
