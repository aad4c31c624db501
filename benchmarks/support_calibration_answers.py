"""Generate the answers of the support-checker calibration set (tests/data/support-calibration/): real output of
the local Gemma 3 270M model, closed-book and reading retrieved passages (RAG), on seeded questions of the
python-faq and debian-faq benches, with the evidence the eval checks every answer against (reference + gold
document text, ragft.evaluate.evidence). The labels are added by a reader afterwards (see the README there).

Prompts, retrieval and stop sequences are the library's (`completion_prompt`, `Index.search`, the base
model's stops: what `ragft eval run --generator local` sends); decoding is greedy, batched with left padding
(a 2-core machine cannot afford one-at-a-time generation for 160 answers), so an answer can differ from the
unbatched one by floating-point ties.

    python benchmarks/support_calibration_answers.py --questions 100 --rag-questions 52 --k 2 \
        --index RUN/index --out answers.jsonl
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from ragft.evaluate.benches import load_bench
from ragft.evaluate.evidence import GoldDocuments
from ragft.llm.base import GenerationRequest, Passage
from ragft.llm.prompts import PROMPT_STOPS, completion_prompt
from ragft.llm.streaming import StopScanner


def questions(count: int, seed: int, cache: str | None):
    items, folders = [], []
    for name in ("python-faq", "debian-faq"):
        bench = load_bench(name, cache_dir=cache, distractors=0)
        items += [(name, item) for item in bench.questions]
        folders.append(bench.corpus_dir)
    picked = np.sort(np.random.default_rng(seed).permutation(len(items))[:count])
    return [items[i] for i in picked], folders


def generate(model, tokenizer, prompts: list[str], max_tokens: int, batch: int) -> list[str]:
    import torch

    tokenizer.padding_side = "left"
    out = []
    for start in range(0, len(prompts), batch):
        chunk = prompts[start:start + batch]
        inputs = tokenizer(chunk, return_tensors="pt", padding=True)
        with torch.inference_mode():
            sequences = model.generate(**inputs, max_new_tokens=max_tokens, do_sample=False, top_p=None, top_k=None,
                                       pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id)
        for row in sequences[:, inputs["input_ids"].shape[1]:]:
            scanner = StopScanner(PROMPT_STOPS["completion-v1"])
            text = scanner.feed(tokenizer.decode(row, skip_special_tokens=True))
            out.append((text + scanner.finish()).strip())
        print(f"  {min(start + batch, len(prompts))}/{len(prompts)} at {time.strftime('%H:%M:%S')}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=100, help="closed-book answers (seeded sample)")
    parser.add_argument("--rag-questions", type=int, default=52, help="RAG answers: the first N of those questions")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--k", type=int, default=2, help="passages per RAG prompt (2 keeps prefill affordable)")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--batch", type=int, default=50, help="closed-book batch; RAG batches are a quarter")
    parser.add_argument("--bench-cache")
    parser.add_argument("--index", required=True, help="an Index over both bench corpora (ragft eval run builds one)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    from ragft.llm.local_model import load_causal_lm
    from ragft.rag.engine import Index

    picked, folders = questions(args.questions, args.seed, args.bench_cache)
    gold = GoldDocuments(folders)
    model, tokenizer = load_causal_lm("gemma3-270m")
    rows = []
    closed = [GenerationRequest(question=item.question, max_tokens=args.max_tokens) for _, item in picked]
    with Index.open(args.index) as index:
        rag = []
        for _, item in picked[:args.rag_questions]:
            hits = index.search(item.question, k=args.k)
            rag.append(GenerationRequest(question=item.question, max_tokens=args.max_tokens, passages=tuple(
                Passage(ref=i + 1, chunk_id=h.chunk.id, text=h.chunk.text, title=h.chunk.title)
                for i, h in enumerate(hits))))
    for system, requests, batch in (("closed-book", closed, args.batch), ("rag", rag, max(1, args.batch // 4))):
        print(system, flush=True)
        answers = generate(model, tokenizer, [completion_prompt(r) for r in requests], args.max_tokens, batch)
        for (bench, item), request, answer in zip(picked, requests, answers):
            rows.append({"id": f"{system}/{bench}:{item.id}", "question": item.question,
                         "reference": item.reference_answer, "evidence": list(gold.texts(item.relevant_ids).values()),
                         "passages": [p.text for p in request.passages], "answer": answer, "system": system})
        Path(args.out).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


if __name__ == "__main__":
    main()
