"""Seconds per LoRA training step (r=8 on q_proj/v_proj) on the real Gemma 3 270M, batch 4 x 256 tokens.

Reproduce: .venv/bin/python benchmarks/bench_lora_step.py [--steps 3] [--batch 4] [--seq 256] [--device cpu]
                                                     [--answer-fraction 1.0]
The batch is seeded random token ids (step cost does not depend on the text). --answer-fraction is the
share of positions that carry a label (the answer); ragft projects only those onto the vocabulary, so a
Q/A batch whose answers are 30% of the tokens costs less than a full-sequence one (1.0, the default).
One warm-up step is run first and not counted. CPU seconds (all threads) are reported beside wall time:
on a shared machine wall time inflates with the load; CPU time much less. Uses ragft's own training step (train_local.train_step).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--seq", type=int, default=256)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--base", default="gemma3-270m")
    parser.add_argument("--answer-fraction", type=float, default=1.0)
    args = parser.parse_args()

    import torch

    from ragft.finetune.train_local import TrainConfig, attach_lora, make_optimizer, seed_everything, train_step
    from ragft.llm.local_model import load_causal_lm

    began = time.perf_counter()
    model, tokenizer = load_causal_lm(args.base, device=args.device)
    load_seconds = time.perf_counter() - began
    config = TrainConfig(r=8, alpha=16, target_modules=("q_proj", "v_proj"), batch_size=args.batch,
                         max_seq_len=args.seq)
    seed_everything(0)
    model = attach_lora(model, config).to(args.device)
    model.train()
    optimizer, scheduler = make_optimizer(model, config.learning_rate, config.warmup_steps, args.steps + 1)
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(10, len(tokenizer) - 1, (args.batch, args.seq), generator=generator)
    labels = ids.clone()
    labels[:, : int(args.seq * (1 - args.answer_fraction))] = -100
    batch = {"input_ids": ids.to(args.device), "labels": labels.to(args.device),
             "attention_mask": torch.ones_like(ids).to(args.device)}
    timings, cpu = [], []
    for _ in range(args.steps + 1):
        start, start_cpu = time.perf_counter(), time.process_time()
        train_step(model, optimizer, scheduler, batch)
        timings.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    per_step = statistics.mean(timings[1:])
    print(json.dumps({
        "base": args.base, "device": args.device, "batch": args.batch, "seq_len": args.seq, "lora_r": 8, "answer_fraction": args.answer_fraction,
        "target_modules": ["q_proj", "v_proj"], "steps_timed": args.steps,
        "seconds_per_step_mean": round(per_step, 3), "seconds_per_step_each": [round(t, 3) for t in timings[1:]],
        "cpu_seconds_per_step_mean": round(statistics.mean(cpu[1:]), 3),
        "warmup_step_seconds": round(timings[0], 3),
        "load_average_1min_after": round(os.getloadavg()[0], 2), "tokens_per_second": round(args.batch * args.seq / per_step, 1),
        "model_load_seconds": round(load_seconds, 1), "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(), "cpu_count": os.cpu_count(), "machine": platform.machine(),
    }, indent=2))


if __name__ == "__main__":
    main()
