"""MiniLM's forward pass alone, numpy against torch (and CUDA when present), on random weights of MiniLM's shape.

No model files and no ragft dependencies beyond numpy/scipy/torch: bert.py is loaded by path, so this runs on any
machine with torch (a quiet box, a GPU machine) to give the kernels' speed without the shared machine's noise.
Speed does not depend on the weights' values; agreement between backends is checked on the same random weights.
Pin the cores to measure a 2-core budget: `taskset -c 0,1`.

    python benchmarks/bench_minilm_kernels.py [--chunks 64] [--tokens 235] [--rounds 3] [--json]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

CONFIG = {"hidden_size": 384, "num_attention_heads": 12, "num_hidden_layers": 6, "intermediate_size": 1536,
          "layer_norm_eps": 1e-12, "hidden_act": "gelu", "vocab_size": 30522, "max_position_embeddings": 512}
BERT = Path(__file__).resolve().parent.parent / "src" / "ragft" / "rag" / "embedders" / "bert.py"


def load_bert_module():
    # bert.py imports ragft.cores (no dependencies of its own): registered by path so ragft need not be installed.
    cores = importlib.util.spec_from_file_location("ragft.cores", BERT.parents[2] / "cores.py")
    sys.modules.setdefault("ragft.cores", importlib.util.module_from_spec(cores))
    cores.loader.exec_module(sys.modules["ragft.cores"])
    spec = importlib.util.spec_from_file_location("ragft_bert", BERT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def random_weights(rng: np.random.Generator) -> dict[str, np.ndarray]:
    h, f = CONFIG["hidden_size"], CONFIG["intermediate_size"]

    def w(*shape, scale=0.05):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    out = {"embeddings.word_embeddings.weight": w(CONFIG["vocab_size"], h),
           "embeddings.position_embeddings.weight": w(CONFIG["max_position_embeddings"], h),
           "embeddings.token_type_embeddings.weight": w(2, h),
           "embeddings.LayerNorm.weight": 1 + w(h), "embeddings.LayerNorm.bias": w(h)}
    for i in range(CONFIG["num_hidden_layers"]):
        p = f"encoder.layer.{i}"
        for name in ("query", "key", "value"):
            out[f"{p}.attention.self.{name}.weight"], out[f"{p}.attention.self.{name}.bias"] = w(h, h), w(h)
        out[f"{p}.attention.output.dense.weight"], out[f"{p}.attention.output.dense.bias"] = w(h, h), w(h)
        out[f"{p}.intermediate.dense.weight"], out[f"{p}.intermediate.dense.bias"] = w(f, h), w(f)
        out[f"{p}.output.dense.weight"], out[f"{p}.output.dense.bias"] = w(h, f), w(h)
        for ln in ("attention.output.LayerNorm", "output.LayerNorm"):
            out[f"{p}.{ln}.weight"], out[f"{p}.{ln}.bias"] = 1 + w(h), w(h)
    return out


def chunk_flops(tokens: int) -> float:
    h, f, layers = CONFIG["hidden_size"], CONFIG["intermediate_size"], CONFIG["num_hidden_layers"]
    return layers * (2 * tokens * h * (4 * h + 2 * f) + 4 * tokens * tokens * h)


def numpy_pooled(bert, ids, mask):
    hidden = bert.forward(ids, mask)
    return np.einsum("bld,bl->bd", hidden, mask) / mask.sum(axis=1, keepdims=True)


def unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def probe(torch, seconds=1.5, device="cpu") -> float:
    x = torch.randn(32 * 235, 384, device=device)
    w = torch.randn(1536, 384, device=device)
    with torch.inference_mode():
        torch.nn.functional.linear(x, w)
        done, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            torch.nn.functional.linear(x, w)
            done += 1
        if device != "cpu":
            torch.cuda.synchronize()
        return 2 * x.shape[0] * 384 * 1536 * done / (time.perf_counter() - started) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=64)
    parser.add_argument("--tokens", type=int, default=235)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    import torch

    module = load_bert_module()
    cores = module.usable_cores()
    torch.set_num_threads(cores)
    rng = np.random.default_rng(0)
    weights = random_weights(rng)
    numpy_bert, torch_bert = module.Bert(weights, CONFIG), module.TorchBert(weights, CONFIG, "cpu")
    ids = rng.integers(1000, 29000, size=(args.chunks, args.tokens))
    mask = np.ones(ids.shape, dtype=np.float32)
    queries = {n: rng.integers(1000, 29000, size=(1, n)) for n in (12, 30)}
    batches = [slice(i, i + args.batch) for i in range(0, args.chunks, args.batch)]
    backends = {"numpy": lambda i, m: numpy_pooled(numpy_bert, i, m), "torch": torch_bert.mean_pooled}
    for fn in backends.values():
        fn(ids[:4], mask[:4])
    result = {"machine": f"{platform.processor() or platform.machine()}, {cores} usable cores, torch {torch.__version__}",
              "load_avg_start": round(os.getloadavg()[0], 2), "chunks": args.chunks, "tokens": args.tokens,
              "gflop_per_chunk": round(chunk_flops(args.tokens) / 1e9, 2), "probe_gflops": [], "runs": {}}
    vectors = {}
    for _ in range(args.rounds):
        result["probe_gflops"].append(probe(torch))
        for name, fn in backends.items():
            wall, cpu, out = timed(lambda fn=fn: np.vstack([fn(ids[b], mask[b]) for b in batches]))
            vectors[name] = unit(out)
            result["runs"].setdefault(name, []).append((wall, cpu))
    probe_gflops = float(np.median(result.pop("probe_gflops")))
    result["probe_gflops"] = round(probe_gflops, 1)
    result["bound_chunks_per_s"] = round(probe_gflops * 1e9 / chunk_flops(args.tokens), 1)
    for name, runs in result.pop("runs").items():
        wall, cpu = float(np.median([r[0] for r in runs])), float(np.median([r[1] for r in runs]))
        rate = args.chunks / wall
        result[name] = {"chunks_per_s": round(rate, 1), "cpu_s_per_chunk": round(cpu / args.chunks, 3),
                        "of_bound": round(rate / result["bound_chunks_per_s"], 2)}
    result["speedup"] = round(result["torch"]["chunks_per_s"] / result["numpy"]["chunks_per_s"], 2)
    result["max_abs_diff"] = float(np.abs(vectors["torch"] - vectors["numpy"]).max())
    # Queries one at a time; torch at the usable cores and at 1 thread, interleaved.
    latency: dict[str, list[float]] = {}
    for i in range(args.queries):
        for n, q in queries.items():
            qmask = np.ones(q.shape, dtype=np.float32)
            for label, fn, threads in (("numpy", backends["numpy"], None), (f"torch {cores}t", torch_bert.mean_pooled, cores),
                                       ("torch 1t", torch_bert.mean_pooled, 1)):
                if threads:
                    torch.set_num_threads(threads)
                wall, _, _ = timed(lambda fn=fn, q=q, qmask=qmask: fn(q, qmask))
                latency.setdefault(f"{label}, {n} tokens", []).append(wall * 1000)
    # The floor under a question on 1 thread: only its 24 GEMMs (batch 1, weights as loaded), then the whole forward
    # pass without pooling or numpy conversion: what any per-call overhead in mean_pooled would add to.
    torch.set_num_threads(1)
    functional = torch.nn.functional
    for n, question in queries.items():
        x, up = torch.randn(1, n, 384), torch.randn(1, n, 1536)
        ids_t, mask_t = torch.from_numpy(question), torch.ones(1, n)

        def gemms(x=x, up=up):
            with torch.inference_mode():
                for layer in torch_bert.layers:
                    functional.linear(x, layer["qkv_w"], layer["qkv_b"])
                    functional.linear(x, layer["out_w"], layer["out_b"])
                    functional.linear(x, layer["up_w"], layer["up_b"])
                    functional.linear(up, layer["down_w"], layer["down_b"])

        def forward(ids_t=ids_t, mask_t=mask_t):
            with torch.inference_mode():
                torch_bert._forward(ids_t, mask_t)

        for label, fn in (("GEMMs only, 1t", gemms), ("forward only, 1t", forward)):
            for _ in range(args.queries):
                wall, _, _ = timed(fn)
                latency.setdefault(f"{label}, {n} tokens", []).append(wall * 1000)
    torch.set_num_threads(cores)
    result["query_ms_p50_p95"] = {k: [round(float(np.percentile(v, 50)), 2), round(float(np.percentile(v, 95)), 2)]
                                  for k, v in latency.items()}
    if torch.cuda.is_available():
        cuda_bert = module.TorchBert(weights, CONFIG, "cuda")
        big = np.repeat(ids, 8, axis=0)
        big_mask = np.ones(big.shape, dtype=np.float32)
        ragged = mask.copy()
        ragged[::2, args.tokens // 3:] = 0    # padded rows exercise the attention mask
        cuda_out = unit(np.vstack([cuda_bert.mean_pooled(ids[b], ragged[b]) for b in batches]))
        cpu_out = unit(np.vstack([numpy_pooled(numpy_bert, ids[b], ragged[b]) for b in batches]))
        cuda_bert.mean_pooled(big[:256], big_mask[:256])
        wall, _, _ = timed(lambda: [cuda_bert.mean_pooled(big[i:i + 256], big_mask[i:i + 256])
                                    for i in range(0, len(big), 256)])
        result["cuda"] = {"device": torch.cuda.get_device_name(), "max_abs_diff_vs_numpy": float(np.abs(cuda_out - cpu_out).max()),
                          "chunks_per_s_batch256": round(len(big) / wall, 1)}
    result["load_avg_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(result, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
