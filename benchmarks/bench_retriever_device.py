"""`ragft finetune retriever` on a GPU beside the CPU of the same machine (issue 17 (c) on the Debian FAQ).

Trains the self-supervised (documents-only) retriever of `bench_retriever_finetune.py` with the same pairs and
hyperparameters on CUDA, and the first `--cpu-steps` steps of the same run on the CPU, side by side in one
process: seconds per step on each, the losses of the shared steps (same seed, same batches: they must agree to
float noise), then dense nDCG@10 / recall@10 over all the bench's questions before and after, ranked by exact
cosine over the bench's chunks (no vector store needed, so it runs where lancedb is not installed). The tuned
folder written on the GPU is read back on the CPU through both MiniLM paths (numpy and torch must agree).

    python benchmarks/bench_retriever_device.py --source-dir DIR [--device cuda] [--cpu-steps 3] [--steps N] [--json OUT]
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from ragft.evaluate.benches import load_bench
from ragft.evaluate.metrics import score_retrieval
from ragft.evaluate.stats import compare_detail
from ragft.evaluate.training_pairs import document_pairs
from ragft.finetune.retriever import RetrieverConfig, train_retriever

CONFIG = RetrieverConfig(epochs=1, batch_size=32)      # (c) of bench_retriever_finetune.RUNS
PER_CHUNK = 3


def dense_scores(embedder, chunks, questions) -> dict[str, list[float]]:
    """Per question nDCG@10 and recall@10 of an exact cosine top 10 over `chunks`."""
    matrix = embedder.embed([chunk.text for chunk in chunks])
    queries = embedder.embed([q.question for q in questions])
    found: dict[str, list[float]] = {"ndcg@10": [], "recall@10": []}
    for question, vector in zip(questions, queries):
        top = np.argsort(-(matrix @ vector), kind="stable")[:10]
        scores = score_retrieval([chunks[i] for i in top], question.relevant_ids, k=10)
        found["ndcg@10"].append(scores.ndcg_at_10)
        found["recall@10"].append(scores.recall_at_k)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source-dir", help="an extracted debian-faq package tree (default: apt-get download)")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--cpu-steps", type=int, default=3, help="steps of the same run timed on the CPU")
    parser.add_argument("--steps", type=int, help="stop the device run after this many steps (a smoke test)")
    parser.add_argument("--json", help="write the results here too")
    args = parser.parse_args()

    import torch

    from ragft.rag.embedders import create_embedder

    bench = load_bench("debian-faq", source_dir=args.source_dir)
    pairs = document_pairs(bench.corpus_dir, per_chunk=PER_CHUNK)
    result = {"torch": torch.__version__, "device": args.device, "pairs": len(pairs.pairs),
              "chunks": len(pairs.chunks), "questions": len(bench.questions), "config": CONFIG.model_dump(mode="json")}
    if args.device == "cuda":
        result["gpu"] = torch.cuda.get_device_name(0)
    with tempfile.TemporaryDirectory() as work:
        runs = {}
        on_device = CONFIG.model_copy(update={"max_steps": args.steps}) if args.steps else CONFIG
        cpu_run = CONFIG.model_copy(update={"max_steps": args.cpu_steps})
        for label, device, config in (("device", args.device, on_device), ("cpu", "cpu", cpu_run)):
            began, began_cpu = time.perf_counter(), time.process_time()
            manifest = train_retriever(pairs, Path(work) / label, config=config, device=device)
            runs[label] = {"wall_s": round(time.perf_counter() - began, 2),
                            "cpu_s": round(time.process_time() - began_cpu, 2),
                            "training_s": manifest.seconds, "training_cpu_s": manifest.cpu_seconds,
                            "losses": [round(x, 5) for x in manifest.losses],
                            "steps": len(manifest.losses)}
        result["runs"] = runs
        shared = min(len(runs["device"]["losses"]), len(runs["cpu"]["losses"]))
        result["loss_max_abs_difference_shared_steps"] = float(np.max(np.abs(
            np.array(runs["device"]["losses"][:shared]) - np.array(runs["cpu"]["losses"][:shared]))))

        folder = Path(work) / "device"
        on_numpy = create_embedder(str(folder), backend="numpy")
        on_torch = create_embedder(str(folder), backend="torch")
        probe = [chunk.text for chunk in pairs.chunks[:16]]
        result["numpy_vs_torch_max_abs"] = float(np.max(np.abs(on_numpy.embed(probe) - on_torch.embed(probe))))

        base = create_embedder("minilm", backend="torch")
        before = dense_scores(base, pairs.chunks, bench.questions)
        after = dense_scores(on_torch, pairs.chunks, bench.questions)
        rows = {}
        for metric in before:
            c = compare_detail(after[metric], before[metric], n_resamples=2000, seed=0)
            rows[f"dense {metric}"] = {"base": round(c.mean_b, 4), "tuned": round(c.mean_a, 4),
                                       "difference": round(c.difference, 4), "low": round(c.low, 4),
                                       "high": round(c.high, 4)}
        result["all_questions"] = rows
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        Path(args.json).write_text(text)


if __name__ == "__main__":
    main()
