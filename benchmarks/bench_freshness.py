"""Freshness: seconds from `Index.add(new document)` to the first search that returns it as the top hit.

The index holds the Python FAQ bench corpus (real text, see bench_retrieval_quality.py); each trial adds a
document stating a made-up fact and searches (hybrid) with a question about it. The seed claims "index a
new document at 5pm, search finds it at 5:01pm"; the target here is under 1 s.

    python benchmarks/bench_freshness.py [--trials 20] [--source-dir DIR] [--embedder minilm] [--json]
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

from bench_retrieval_quality import BENCH_CACHE, BENCH_DISTRACTORS, bench_index_dir
from ragft.evaluate.benches import load_bench
from ragft.rag.document import Document
from ragft.rag.engine import Index

SEED = 7
NOUNS = ["zorblax", "quintaflux", "morvane", "plexidor", "venturix", "kallisto", "drummelin", "oxbrindle"]
VERBS = ["rotates", "serialises", "compresses", "validates", "caches", "indexes", "encrypts", "throttles"]


def new_fact(trial: int, rng: np.random.Generator) -> tuple[Document, str]:
    noun = f"{NOUNS[trial % len(NOUNS)]}{trial}"
    verb = VERBS[int(rng.integers(len(VERBS)))]
    count = int(rng.integers(2, 99))
    text = (f"# The {noun} module\n\nThe {noun} module {verb} at most {count} records per call. "
            f"Configure {noun} through its settings file; it was added in release {trial}.\n")
    return Document(id=f"fresh/{noun}.md", text=text, title=f"The {noun} module", source=f"fresh/{noun}.md"), \
        f"How many records does {noun} handle per call?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--source-dir")
    parser.add_argument("--embedder", default="minilm")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(SEED)
    bench = load_bench("python-faq", source_dir=args.source_dir, distractors=BENCH_DISTRACTORS,
                       cache_dir=BENCH_CACHE)
    rows = []
    # No embedding cache: each new document must really be embedded inside the timed add().
    with Index.open(bench_index_dir(args.embedder, BENCH_DISTRACTORS), embedder=args.embedder,
                    embedding_cache=False) as index:
        index.sync([bench.corpus_dir], root=bench.corpus_dir, progress=not args.json)
        index.search("warm up", k=1)
        added_ids = []
        try:
            for trial in range(args.trials):
                doc, question = new_fact(trial, rng)
                start = time.perf_counter()
                index.add([doc])
                added = time.perf_counter()
                hits = index.search(question, k=1)
                done = time.perf_counter()
                added_ids.append(doc.id)
                rows.append({"add_s": added - start, "search_s": done - added, "total_s": done - start,
                             "found_first": bool(hits) and hits[0].chunk.doc_id == doc.id})
            chunks = index.store.count()
        finally:
            index.remove(added_ids)      # leave the shared bench index as the corpus alone
    totals = np.array([r["total_s"] for r in rows])
    summary = {
        "trials": len(rows), "index_chunks": chunks, "embedder": args.embedder, "seed": SEED,
        "found_first": sum(r["found_first"] for r in rows),
        "add_p50_ms": round(float(np.median([r["add_s"] for r in rows])) * 1000, 1),
        "search_p50_ms": round(float(np.median([r["search_s"] for r in rows])) * 1000, 1),
        "total_p50_ms": round(float(np.percentile(totals, 50)) * 1000, 1),
        "total_p95_ms": round(float(np.percentile(totals, 95)) * 1000, 1),
        "total_max_ms": round(float(totals.max()) * 1000, 1),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(f"{summary['trials']} trials on a {chunks}-chunk index ({args.embedder}); "
          f"new document ranked first in {summary['found_first']}/{summary['trials']}")
    print("| add p50 ms | search p50 ms | add->top hit p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|---|")
    print(f"| {summary['add_p50_ms']} | {summary['search_p50_ms']} | {summary['total_p50_ms']} | "
          f"{summary['total_p95_ms']} | {summary['total_max_ms']} |")


if __name__ == "__main__":
    main()
