"""The screened output projection (ragft.llm.screened_head) against the float32 one, side by side in one process.

Part 1, the projection alone: Gemma 3 270M's 262,144 x 640 output matrix times one hidden state, float32 against
float16, on 1 and 2 torch threads. Part 2, real answers: Python FAQ questions (tests/data) answered by Gemma 3 270M
closed-book and with 5 passages each (the top chunks of the FAQ pages by word overlap), greedy, max 40 tokens, through
two LocalGenerators sharing one model: one screened (the default), one with screened_head=False. The order alternates
per request (ABBA). Every answer text is compared; wall, CPU seconds, TTFT and the rows recomputed are recorded.

Reproduce: PYTHONPATH=src .venv/bin/python benchmarks/bench_screened_head.py --questions 8 --json
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import time
from pathlib import Path

FAQ = Path(__file__).resolve().parents[1] / "tests/data/python3.11-doc/usr/share/doc/python3.11/html/_sources/faq"


def requests(count: int, tokens: int) -> list[tuple[str, object]]:
    from ragft.llm.base import GenerationRequest, Passage
    from ragft.qa.faq import parse_rst_faq
    from ragft.rag.chunking import chunk_document
    from ragft.rag.document import Document

    entries, chunks = [], []
    for page in sorted(FAQ.glob("*.rst.txt")):
        text = page.read_text()
        entries += parse_rst_faq(text)
        chunks += chunk_document(Document(id=f"faq/{page.stem}", text=text, title=page.stem))
    out = []
    for entry in entries[:count]:
        words = {w.lower().strip("?.,") for w in entry.question.split()}
        ranked = sorted(chunks, key=lambda c: -sum(w.lower().strip("?.,") in words for w in c.text.split()))[:5]
        passages = tuple(Passage(i + 1, c.id, c.text, c.title) for i, c in enumerate(ranked))
        out.append(("closed-book", GenerationRequest(entry.question, max_tokens=tokens)))
        out.append(("rag", GenerationRequest(entry.question, passages, max_tokens=tokens)))
    return out


def projection_alone(rounds: int) -> list[dict]:
    import torch

    weight = torch.randn(262144, 640) * 0.03
    hidden = torch.randn(1, 640)
    rows = []
    for threads in (1, 2):
        for name, w, h in (("float32", weight, hidden), ("float16", weight.half(), hidden.half())):
            torch.set_num_threads(threads)
            times = []
            with torch.inference_mode():
                for _ in range(rounds + 3):
                    start = time.perf_counter()
                    torch.nn.functional.linear(h, w)
                    times.append(time.perf_counter() - start)
            times = sorted(times[3:])
            rows.append({"part": "projection", "dtype": name, "threads": threads,
                         "p50_ms": round(1000 * statistics.median(times), 1), "max_ms": round(1000 * times[-1], 1)})
    return rows


def rss_gb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=20, help="timed calls per projection setting")
    parser.add_argument("--json", action="store_true", help="one JSON object per line instead of a table")
    args = parser.parse_args()
    import torch

    from ragft.llm.generators.local import LocalGenerator
    from ragft.llm.local_model import load_causal_lm

    rows = projection_alone(args.rounds)
    threads = torch.get_num_threads()
    model, tokenizer = load_causal_lm("gemma3-270m")
    rss_before = rss_gb()
    screened = LocalGenerator(model=model, tokenizer=tokenizer)
    plain = LocalGenerator(model=model, tokenizer=tokenizer, screened_head=False)
    screened.load()
    head = model.get_output_embeddings()
    totals = {"float32": [0.0, 0.0], "screened": [0.0, 0.0]}
    same = 0
    work = requests(args.questions, args.tokens)
    for i, (kind, request) in enumerate(work):
        order = [("float32", plain), ("screened", screened)]
        if i % 2:
            order.reverse()
        answers = {}
        for name, generator in order:
            cpu = time.process_time()
            answers[name] = generator.generate(request)
            totals[name][0] += answers[name].seconds
            totals[name][1] += time.process_time() - cpu
        same += answers["float32"].text == answers["screened"].text
        rows.append({"part": "answer", "kind": kind, "question": request.question[:60],
                     "float32_s": round(answers["float32"].seconds, 2), "screened_s": round(answers["screened"].seconds, 2),
                     "float32_ttft_s": round(answers["float32"].first_token_seconds or 0, 2),
                     "screened_ttft_s": round(answers["screened"].first_token_seconds or 0, 2),
                     "output_tokens": answers["screened"].output_tokens,
                     "same_text": answers["float32"].text == answers["screened"].text, "load": os.getloadavg()[0]})
    recomputed = sorted(head.screened_rows)
    rows.append({"part": "summary", "answers": len(work), "same_text": same, "torch_threads": threads,
                 "float32_wall_s": round(totals["float32"][0], 1), "float32_cpu_s": round(totals["float32"][1], 1),
                 "screened_wall_s": round(totals["screened"][0], 1), "screened_cpu_s": round(totals["screened"][1], 1),
                 "wall_ratio": round(totals["float32"][0] / totals["screened"][0], 2),
                 "rows_recomputed_p50": recomputed[len(recomputed) // 2], "rows_recomputed_max": recomputed[-1],
                 "max_rss_gb_before_install": rss_before, "max_rss_gb_end": rss_gb(), "load_end": os.getloadavg()[0]})
    for row in rows:
        print(json.dumps(row) if args.json else "  ".join(f"{k}={v}" for k, v in row.items()), flush=True)


if __name__ == "__main__":
    main()
