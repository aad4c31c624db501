"""Local generation with Gemma 3 270M: time to first token, total time and CPU seconds per generation setting,
A/B interleaved on one fixed prompt of 5 real Python FAQ passages (greedy), with the generated token ids compared.

Reproduce: PYTHONPATH=src .venv/bin/python benchmarks/bench_local_generation.py --tokens 64 --rounds 2
           PYTHONPATH=src .venv/bin/python benchmarks/bench_local_generation.py --tokens 256 --rounds 1 --variants plain,1thread
           PYTHONPATH=src .venv/bin/python benchmarks/bench_local_generation.py --tokens 256 --rounds 2 \
               --variants 1thread,2thread --generator-threads 1,2,auto
"""
from __future__ import annotations

import argparse
import json
import os
import threading
import time
from pathlib import Path

FAQ = Path(__file__).resolve().parents[1] / "tests/data/python3.11-doc/usr/share/doc/python3.11/html/_sources/faq"
QUESTION = "Why does Python sometimes take so long to start?"

# name -> (torch threads or None for the process default, keyword arguments for model.generate, attention)
VARIANTS: dict[str, tuple[int | None, dict, str]] = {
    "plain": (None, {}, "sdpa"),                      # what LocalGenerator did before issue 19
    "eager": (None, {}, "eager"),
    "static": (None, {"cache_implementation": "static"}, "sdpa"),
    "static-eager": (None, {"cache_implementation": "static"}, "eager"),
    "1thread": (1, {}, "sdpa"),
    "1thread-eager": (1, {}, "eager"),
    "1thread-static": (1, {"cache_implementation": "static"}, "sdpa"),
    "1thread-static-eager": (1, {"cache_implementation": "static"}, "eager"),
    "2thread": (2, {}, "sdpa"),
}


def passages():
    from ragft.llm.base import Passage
    from ragft.rag.chunking import chunk_document
    from ragft.rag.document import Document

    text = (FAQ / "windows.rst.txt").read_text()
    chunks = chunk_document(Document(id="faq/windows", text=text, title="Python on Windows FAQ"))
    words = {w.lower().strip("?") for w in QUESTION.split()}
    ranked = sorted(chunks, key=lambda c: -sum(w.lower() in words for w in c.text.split()))[:5]
    return tuple(Passage(i + 1, c.id, c.text, c.title) for i, c in enumerate(ranked))


def timed(model, tokenizer, inputs, tokens: int, threads: int | None, kwargs: dict, attention: str) -> dict:
    import torch
    from transformers import TextIteratorStreamer

    default_threads = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    model.set_attn_implementation(attention)
    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True)
    result: dict = {}

    def run() -> None:
        with torch.inference_mode():
            out = model.generate(**inputs, max_new_tokens=tokens, min_new_tokens=tokens, do_sample=False,
                                 top_p=None, top_k=None, streamer=streamer, **kwargs)
        result["ids"] = out[0, inputs["input_ids"].shape[1]:].tolist()

    cpu, start = time.process_time(), time.perf_counter()
    thread = threading.Thread(target=run)
    thread.start()
    first = None
    for _ in streamer:
        first = first or time.perf_counter() - start
    thread.join()
    torch.set_num_threads(default_threads)
    return {"ttft_s": round(first or 0.0, 2), "total_s": round(time.perf_counter() - start, 2),
            "cpu_s": round(time.process_time() - cpu, 2), "ids": result["ids"], "load": os.getloadavg()[0]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--variants", default=",".join(VARIANTS), help="forced-length variants; '' for none")
    parser.add_argument("--generator-threads", default="1,2,auto", help="LocalGenerator thread settings compared")
    args = parser.parse_args()
    import torch

    from ragft.llm.base import GenerationRequest
    from ragft.llm.local_model import load_causal_lm
    from ragft.llm.prompts import PROMPT_FORMATS

    model, tokenizer = load_causal_lm("gemma3-270m")
    prompt = PROMPT_FORMATS["completion-v1"](GenerationRequest(QUESTION, passages()))
    inputs = tokenizer(prompt, return_tensors="pt")
    names = [name for name in args.variants.split(",") if name]
    print(json.dumps({"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                      "prompt_tokens": int(inputs["input_ids"].shape[1]), "new_tokens": args.tokens}), flush=True)
    rows: dict[str, list[dict]] = {name: [] for name in names}
    for _ in range(args.rounds):
        for name in names:
            row = timed(model, tokenizer, inputs, args.tokens, *VARIANTS[name])
            rows[name].append(row)
            print(json.dumps({"variant": name, **{k: v for k, v in row.items() if k != "ids"},
                              "same_ids_as_first": row["ids"] == rows[names[0]][0]["ids"]}), flush=True)
    if names:
        print(json.dumps({"forced_text": tokenizer.decode(rows[names[0]][0]["ids"])}))
    # The real answer path (LocalGenerator: stop sequences, streaming) at each thread setting, interleaved; "auto"
    # is what LocalGenerator does by default (the free cores, sampled when the generator is made: printed).
    from ragft.cores import busy_elsewhere
    from ragft.llm.generators.local import LocalGenerator

    request = GenerationRequest(QUESTION, passages(), max_tokens=args.tokens)
    texts = {}
    for _ in range(args.rounds):
        for setting in args.generator_threads.split(","):
            threads = setting if setting == "auto" else int(setting)
            generator = LocalGenerator(model=model, tokenizer=tokenizer, threads=threads)
            busy = busy_elsewhere()
            cpu = time.process_time()
            answer = generator.generate(request)
            texts.setdefault(setting, answer.text)
            print(json.dumps({"generator_threads": setting, "threads_used": generator.threads, "busy_elsewhere": busy,
                              "ttft_s": round(answer.first_token_seconds or 0.0, 2), "total_s": round(answer.seconds, 2),
                              "cpu_s": round(time.process_time() - cpu, 2), "output_tokens": answer.output_tokens,
                              "load": os.getloadavg()[0], "same_text": len(set(texts.values())) == 1}), flush=True)
    print(json.dumps({"answer": next(iter(texts.values()))}))


if __name__ == "__main__":
    main()
