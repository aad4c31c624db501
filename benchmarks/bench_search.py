"""Search latency of the RAG engine at 10k and 100k chunks (dense, BM25, hybrid), and index open cost.

Synthetic but realistic shapes: 384-dim unit vectors (MiniLM's size) and ~150-token chunks drawn from a
Zipfian 30k-word vocabulary; queries are 4 words drawn from the same distribution. Query embedding is
excluded (measured by the embedders' benchmark); timings are for the search call itself.

    python benchmarks/bench_search.py [--sizes 10000 100000] [--queries 200] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from ragft.rag.bm25 import BM25Index
from ragft.rag.document import Chunk
from ragft.rag.search import search
from ragft.rag.stores.lancedb_store import LanceDBStore

SEED = 1234
DIM = 384
VOCAB = 30_000


def synthetic_corpus(n: int, rng: np.random.Generator) -> tuple[list[Chunk], np.ndarray]:
    words = np.array([f"w{i}" for i in range(VOCAB)])
    probs = 1.0 / np.arange(1, VOCAB + 1) ** 1.07
    probs /= probs.sum()
    lengths = rng.integers(80, 220, size=n)
    tokens = rng.choice(VOCAB, size=int(lengths.sum()), p=probs)
    chunks, start = [], 0
    for i, length in enumerate(lengths):
        text = " ".join(words[tokens[start : start + length]])
        start += length
        chunks.append(Chunk(id=f"c{i}", doc_id=f"d{i // 8}", text=text, metadata={"source": f"docs/d{i // 8}.md"}))
    vectors = rng.normal(size=(n, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return chunks, vectors


def percentiles(samples: list[float]) -> dict[str, float]:
    ms = np.array(samples) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 2), "p95_ms": round(float(np.percentile(ms, 95)), 2)}


def bench_size(n: int, queries: int, rng: np.random.Generator) -> dict:
    chunks, vectors = synthetic_corpus(n, rng)
    with tempfile.TemporaryDirectory() as folder:
        store = LanceDBStore(folder)
        start = time.perf_counter()
        for i in range(0, n, 5000):
            store.upsert(chunks[i : i + 5000], vectors[i : i + 5000])
        write_s = time.perf_counter() - start
        start = time.perf_counter()
        bm25 = BM25Index.build([c.id for c in chunks], [c.text for c in chunks])
        bm25_build_s = time.perf_counter() - start
        bm25.save(Path(folder) / "bm25.npz", "bench")
        start = time.perf_counter()
        BM25Index.load(Path(folder) / "bm25.npz", "bench")
        bm25_load_s = time.perf_counter() - start
        start = time.perf_counter()
        store = LanceDBStore(folder)
        store_open_s = time.perf_counter() - start

        query_vectors = rng.normal(size=(queries, DIM)).astype(np.float32)
        query_vectors /= np.linalg.norm(query_vectors, axis=1, keepdims=True)
        query_texts = [" ".join(chunks[int(rng.integers(n))].text.split()[j] for j in (3, 17, 29, 41))
                       for _ in range(queries)]
        result = {"chunks": n, "write_s": round(write_s, 2), "store_open_s": round(store_open_s, 2),
                  "bm25_build_s": round(bm25_build_s, 2), "bm25_load_s": round(bm25_load_s, 3)}
        for mode, where in (("dense", None), ("bm25", None), ("hybrid", None), ("hybrid", {"prefix": "docs/d1"})):
            for text, vector in zip(query_texts[:5], query_vectors[:5]):   # warm-up
                search(store, bm25, text, vector, k=10, mode=mode, where=where)
            samples = []
            for text, vector in zip(query_texts, query_vectors):
                start = time.perf_counter()
                search(store, bm25, text, vector, k=10, mode=mode, where=where)
                samples.append(time.perf_counter() - start)
            result[mode + ("+filter" if where else "")] = percentiles(samples)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(SEED)
    results = {
        "seed": SEED, "dim": DIM, "queries": args.queries,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "sizes": [bench_size(n, args.queries, rng) for n in args.sizes],
    }
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"machine: {results['machine']}; seed {SEED}; {args.queries} queries, k=10")
    print("| chunks | dense p50/p95 ms | BM25 p50/p95 ms | hybrid p50/p95 ms | hybrid+filter p50/p95 ms |")
    print("|---|---|---|---|---|")
    for r in results["sizes"]:
        cells = [f"{r[m]['p50_ms']} / {r[m]['p95_ms']}" for m in ("dense", "bm25", "hybrid", "hybrid+filter")]
        print(f"| {r['chunks']:,} | " + " | ".join(cells) + " |")
    print("\n| chunks | LanceDB write s | store open (load to memory) s | BM25 rebuild s | BM25 load s |")
    print("|---|---|---|---|---|")
    for r in results["sizes"]:
        print(f"| {r['chunks']:,} | {r['write_s']} | {r['store_open_s']} | {r['bm25_build_s']} | {r['bm25_load_s']} |")


if __name__ == "__main__":
    main()
