"""A question's 24 MiniLM GEMMs (6 layers: fused QKV, output, up, down) at batch 1, in float32 against the smaller
weight formats torch offers on this CPU: float16, bfloat16 and int8 weight-only (`_weight_int8pack_mm`).

Issue 19 asks for query embedding p95 < 10 ms; in float32 these GEMMs alone are the floor (bench_minilm_kernels.py),
and smaller weights were the only way left below it. This measures whether torch makes them faster here.

Reproduce: PYTHONPATH=src .venv/bin/python benchmarks/bench_query_precisions.py --calls 120
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

SHAPES = [(1152, 384), (384, 384), (1536, 384), (384, 1536)] * 6    # (out, in) of each GEMM, 6 layers


def timed(run, calls: int) -> tuple[float, float]:
    times = []
    for _ in range(calls + 20):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    times = np.array(times[20:]) * 1000
    return round(float(np.median(times)), 2), round(float(np.percentile(times, 95)), 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=120)
    parser.add_argument("--tokens", default="12,30")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)       # what `minilm` uses for a question (docs/benchmarks.md)
    weights = [torch.randn(n, k) * 0.05 for n, k in SHAPES]
    int8 = []
    for w in weights:
        scale = w.abs().amax(dim=1) / 127
        int8.append((torch.round(w / scale[:, None]).to(torch.int8).contiguous(), scale.float().contiguous()))
    halves, bfloats = [w.half() for w in weights], [w.bfloat16() for w in weights]
    linear = torch.nn.functional.linear
    print(json.dumps({"load_start": os.getloadavg()[0], "torch": torch.__version__}))
    for tokens in (int(t) for t in args.tokens.split(",")):
        inputs = [torch.randn(tokens, k) for _, k in SHAPES]
        as_half, as_bf16 = [x.half() for x in inputs], [x.bfloat16() for x in inputs]
        with torch.inference_mode():
            rows = {
                "float32": timed(lambda: [linear(x, w) for x, w in zip(inputs, weights)], args.calls),
                "float16": timed(lambda: [linear(x, w) for x, w in zip(as_half, halves)], args.calls),
                "bfloat16": timed(lambda: [linear(x, w) for x, w in zip(as_bf16, bfloats)], args.calls),
                "int8 weight-only": timed(lambda: [torch.ops.aten._weight_int8pack_mm(x, q, s)
                                                   for x, (q, s) in zip(inputs, int8)], args.calls),
            }
        for name, (p50, p95) in rows.items():
            print(json.dumps({"tokens": tokens, "weights": name, "p50_ms": p50, "p95_ms": p95}))
    print(json.dumps({"load_end": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
