"""Local Gemma 3 270M: load time (first = assemble + dequantize + cache, then cached), time to first token, tokens/s.

Reproduce: .venv/bin/python benchmarks/bench_generators.py            (uses a fresh temporary cache for the first load)
           .venv/bin/python benchmarks/bench_generators.py --cached-only
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time

QUESTION = "What year did the Eiffel Tower open?"
PASSAGE = "The Eiffel Tower in Paris opened to the public in 1889 for the World's Fair."


def _load_seconds() -> tuple[float, object, object]:
    from ragft.llm.local_model import load_causal_lm

    start = time.perf_counter()
    model, tokenizer = load_causal_lm("gemma3-270m")
    return time.perf_counter() - start, model, tokenizer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cached-only", action="store_true", help="skip the first (uncached) load")
    parser.add_argument("--new-tokens", type=int, default=64)
    args = parser.parse_args()
    import torch

    from ragft.llm import GenerationRequest, create_generator
    from ragft.llm.base import Passage

    result: dict[str, object] = {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                                 "python": platform.python_version(), "loadavg_start": os.getloadavg()[0]}
    if not args.cached_only:
        with tempfile.TemporaryDirectory() as cache:
            previous = os.environ.get("RAGFT_CACHE_DIR")
            os.environ["RAGFT_CACHE_DIR"] = cache
            result["first_load_s"] = round(_load_seconds()[0], 1)
            if previous is None:
                del os.environ["RAGFT_CACHE_DIR"]
            else:
                os.environ["RAGFT_CACHE_DIR"] = previous
    _load_seconds()   # make sure the real cache exists before timing the cached load
    seconds, model, tokenizer = _load_seconds()
    result["cached_load_s"] = round(seconds, 1)

    generator = create_generator("local", model=model, tokenizer=tokenizer)
    rag = GenerationRequest(QUESTION, (Passage(1, "p1", PASSAGE),), max_tokens=48)
    answer = generator.generate(rag)
    result["rag_answer"] = answer.text
    result["rag_prompt_tokens"] = answer.input_tokens
    result["time_to_first_token_s"] = round(answer.first_token_seconds or 0.0, 2)
    # Throughput without stop sequences: a closed-book prompt, fixed number of new tokens.
    start = time.perf_counter()
    inputs = tokenizer("The history of the Python programming language", return_tensors="pt")
    with torch.inference_mode():
        out = model.generate(**inputs, max_new_tokens=args.new_tokens, min_new_tokens=args.new_tokens, do_sample=False)
    produced = out.shape[1] - inputs["input_ids"].shape[1]
    result["greedy_tokens_per_s"] = round(produced / (time.perf_counter() - start), 1)
    result["loadavg_end"] = os.getloadavg()[0]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
