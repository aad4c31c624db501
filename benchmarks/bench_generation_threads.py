"""Gemma 3 270M's prefill and decode speed at 1 and 2 torch threads, on random weights of its shape.

No model files and no ragft imports (torch + transformers only), so it runs on any quiet machine, e.g. pinned to 2
cores of an idle box: speed does not depend on the weights' values, and the generated token ids are compared
between settings (greedy). Settings run interleaved, `--rounds` times. "2t-prefill,1t-decode" switches to one thread
after the prompt, as LocalGenerator(threads=2, decode_threads=1) does.

    taskset -c 0,1 python benchmarks/bench_generation_threads.py [--prompt 967] [--tokens 64] [--rounds 2]
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

SETTINGS = {"1t": (1, 1), "2t": (2, 2), "2t-prefill,1t-decode": (2, 1)}


def gemma3_270m(torch):
    """Gemma 3 270M's architecture (the bundled model's config.json) with random weights."""
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    torch.manual_seed(0)
    config = Gemma3TextConfig(
        vocab_size=262144, hidden_size=640, intermediate_size=2048, num_hidden_layers=18, num_attention_heads=4,
        num_key_value_heads=1, head_dim=256, sliding_window=512, query_pre_attn_scalar=256, tie_word_embeddings=True,
        layer_types=(["sliding_attention"] * 5 + ["full_attention"]) * 3, max_position_embeddings=32768,
        rope_parameters={"full_attention": {"rope_theta": 1e6, "rope_type": "default"},
                         "sliding_attention": {"rope_theta": 1e4, "rope_type": "default"}})
    return Gemma3ForCausalLM(config).eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompt", type=int, default=967, help="prompt tokens (the bench RAG prompt's length)")
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    model = gemma3_270m(torch)
    ids = torch.randint(10, 200000, (1, args.prompt))

    class Decode(StoppingCriteria):     # called after every step; the first call comes after the prompt
        def __init__(self, threads):
            self.threads = threads

        def __call__(self, input_ids, scores, **kwargs):
            if torch.get_num_threads() != self.threads:
                torch.set_num_threads(self.threads)
            return False

    print(json.dumps({"load": Path("/proc/loadavg").read_text().split(), "cores": len(os.sched_getaffinity(0)),
                      "torch": torch.__version__}), flush=True)
    first = None
    for _ in range(args.rounds):
        for name, (prefill, decode) in SETTINGS.items():
            torch.set_num_threads(prefill)
            started, cpu = time.perf_counter(), time.process_time()
            with torch.inference_mode():
                model(input_ids=ids, logits_to_keep=1)
                prompt_s = time.perf_counter() - started
                out = model.generate(input_ids=ids, max_new_tokens=args.tokens, min_new_tokens=args.tokens,
                                     do_sample=False, top_p=None, top_k=None,
                                     stopping_criteria=StoppingCriteriaList([Decode(decode)]))
            tokens = out[0, args.prompt:].tolist()
            first = first or tokens
            print(json.dumps({"setting": name, "prompt_s": round(prompt_s, 2),
                              "generate_s": round(time.perf_counter() - started - prompt_s, 2),
                              "cpu_s": round(time.process_time() - cpu, 2), "same_tokens": tokens == first,
                              "load": Path("/proc/loadavg").read_text().split()[:4]}), flush=True)


if __name__ == "__main__":
    main()
