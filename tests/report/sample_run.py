"""A realistic run folder written from the real record models, cost model and advisor (no runner needed):
four systems x twelve questions, seeded, with hostile text planted in a question, an answer and a context."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ragft.advise import Profile
from ragft.costs.model import RetrievalSpec, SystemSpec, TrainingSpec, estimate
from ragft.evaluate.decision import Evidence, decide
from ragft.evaluate.records import (
    MetricValue,
    QuestionRecord,
    RetrievedContext,
    RunManifest,
    RunTable,
    SystemConfig,
    TableRow,
)

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(2)>'
SYSTEMS = [
    SystemConfig(name="closed-book", kind="closed-book", generator="extractive"),
    SystemConfig(name="rag", kind="rag", generator="extractive", k=3, price_model="gpt-4o-mini"),
    SystemConfig(name="fine-tuned", kind="fine-tuned", generator="local", adapter="adapters/faq-lora",
                 price_model="gpt-4o-mini"),
    SystemConfig(name="hybrid", kind="hybrid", generator="local", adapter="adapters/faq-lora", k=3,
                 price_model="gpt-4o-mini"),
]
# A fifth contender, as a team comparing two RAG back ends would run: the report must still fit 1280 px.
FIVE_SYSTEMS = [*SYSTEMS, SystemConfig(name="rag-openai-compatible", kind="rag", generator="openai-compatible",
                                       generator_options={"model": "llama3.2:1b"}, k=3, price_model="gpt-4o-mini")]
FACTS = [
    ("How do I make a list?", "Use square brackets: [1, 2, 3]."),
    ("What is the GIL?", "A lock that lets one thread run Python bytecode at a time."),
    ("How do I copy a dict?", "Call d.copy() or dict(d)."),
    ("Why are tuples immutable?", "So they can be hashed and used as dictionary keys."),
    ("How do I create a virtual environment?", "Run python -m venv DIR."),
    ("What does the garbage collector do?", "It frees objects caught in reference cycles."),
    ("How do I read a file line by line?", "Iterate over the open file object."),
    ("How do I sort a list of dicts by a key?", "sorted(rows, key=lambda r: r['key'])."),
    (f"Is {SCRIPT} valid Python?", f"No: {IMG} is HTML, not Python."),
    ("What is a generator?", "A function that yields values lazily."),
    ("How do I format a float to two places?", "Use f'{x:.2f}'."),
    ("How do I remove duplicates from a list?", "list(dict.fromkeys(items)) keeps the order."),
]
_SPEED = {"closed-book": 0.4, "rag": 1.6, "fine-tuned": 0.9, "hybrid": 2.1, "rag-openai-compatible": 1.2}
_F1 = {"closed-book": 0.18, "rag": 0.71, "fine-tuned": 0.42, "hybrid": 0.74, "rag-openai-compatible": 0.66}


def _record(system: SystemConfig, i: int, rng: np.random.Generator) -> QuestionRecord:
    question, reference = FACTS[i]
    retrieves = system.kind in ("rag", "hybrid")
    f1 = float(np.clip(_F1[system.name] + rng.normal(0, 0.15), 0, 1))
    answer = reference if f1 > 0.6 else f"I believe it is {reference.lower()} [1]"
    if i == 8 and system.name == "rag":
        answer = f"{IMG} {SCRIPT} [1]"
    contexts = [
        RetrievedContext(chunk_id=f"faq-{(i + j) % 12}#0", doc_id=f"faq-{(i + j) % 12}",
                         text=f"Context with {SCRIPT} and {IMG}" if i == 8 else f"{FACTS[(i + j) % 12][1]} More.",
                         score=round(0.9 - 0.1 * j, 3))
        for j in range(system.k)
    ] if retrieves else []
    total = float(_SPEED[system.name] * rng.lognormal(0, 0.25))
    return QuestionRecord(
        system=system.name, question_id=f"q{i:02d}", question=question, reference_answer=reference, answer=answer,
        relevant_ids=[f"faq-{i}"], contexts=contexts,
        retrieval={"hit@1": float(rng.random() < 0.8), "recall@k": float(rng.random() < 0.9),
                   "mrr": float(rng.uniform(0.6, 1.0)), "ndcg@10": float(rng.uniform(0.6, 0.95))} if retrieves else {},
        quality={"token_f1": f1, "rouge_l": float(np.clip(f1 + 0.05, 0, 1)), "exact_match": float(f1 > 0.9)},
        hallucinated=bool(f1 < 0.3) if retrieves else None,
        unsupported_sentences=[answer] if f1 < 0.3 and retrieves else [],
        timings={"embed": 0.01 if retrieves else 0.0, "search": 0.02 if retrieves else 0.0, "total": total},
        input_tokens=600 if retrieves else 120, output_tokens=60,
    )


def _table(records: list[QuestionRecord], cost, systems: list[SystemConfig] = SYSTEMS) -> RunTable:
    names = [s.name for s in systems]

    def spread(metric: str, pick, unit: str = "", method: str = "") -> dict[str, MetricValue]:
        values = {}
        for name in names:
            own = [pick(r) for r in records if r.system == name and pick(r) is not None]
            if not own:
                values[name] = MetricValue(value=None, note="not applicable")
                continue
            mean, sd = float(np.mean(own)), float(np.std(own) / np.sqrt(len(own)))
            values[name] = MetricValue(value=mean, low=mean - 1.96 * sd, high=mean + 1.96 * sd, n=len(own),
                                       unit=unit, method=method)
        return values

    latency = {name: MetricValue(value=float(np.percentile([r.timings["total"] for r in records if r.system == name],
                                                           95)), n=12, unit="s", method="p95 of per-question totals")
               for name in names}
    per_1k = {name: MetricValue(value=cost.system(name).per_1k_queries_usd, unit="usd",
                                method="cost model at 100,000 queries/month")
              for name in names if name != "closed-book"}
    per_1k["closed-book"] = MetricValue(value=None, note="not priced")
    return RunTable(run_id="sample-run", bench="python-faq", systems=names, n_questions=12, rows=[
        TableRow(key="cost_per_1k", label="Cost per 1k queries", higher_is_better=False, values=per_1k,
                 winner="fine-tuned", winner_method="deterministic cost model",
                 seed_claim={"rag": "$4-8", "fine-tuning": "$1.50"}),
        TableRow(key="latency_p95", label="Latency (p95)", higher_is_better=False, values=latency,
                 winner="closed-book", winner_method="bootstrap of p95, 95%",
                 seed_claim={"rag": "3-4 seconds", "fine-tuning": "2-3 seconds"}),
        TableRow(key="accuracy", label="Answer F1", higher_is_better=True,
                 values=spread("f1", lambda r: r.quality.get("token_f1"), method="token F1 vs reference"),
                 winner="tie", winner_method="paired bootstrap of differences, 95%",
                 seed_claim={"rag": "88-92 percent", "fine-tuning": "92-96 percent"}),
        TableRow(key="hallucination", label="Hallucination rate", higher_is_better=False,
                 values=spread("hallucinated", lambda r: None if r.hallucinated is None else float(r.hallucinated),
                               unit="", method="sentence support checker"),
                 winner="hybrid", winner_method="paired bootstrap of differences, 95%",
                 seed_claim={"rag": "2-5 percent", "fine-tuning": "1-3 percent"}),
    ])


def write_sample_run(folder: Path, run_id: str = "sample-run", systems: list[SystemConfig] = SYSTEMS) -> Path:
    """Write manifest.json, table.json, questions.jsonl, cost.json and verdict.json into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    records = [_record(system, i, rng) for system in systems for i in range(len(FACTS))]
    extra = [SystemSpec(name=s.name, model="gpt-4o-mini", prompt_tokens=120, output_tokens=60,
                        retrieval=RetrievalSpec(k=3, chunk_tokens=180, corpus_tokens=2_000_000))
             for s in systems if s not in SYSTEMS]
    retrieval = RetrievalSpec(k=3, chunk_tokens=180, corpus_tokens=2_000_000)
    cost = estimate([
        SystemSpec(name="rag", model="gpt-4o-mini", prompt_tokens=120, output_tokens=60, retrieval=retrieval),
        SystemSpec(name="fine-tuned", model="gpt-4o-mini", fine_tuned=True, prompt_tokens=120, output_tokens=60,
                   training=TrainingSpec(examples=2000, tokens_per_example=300)),
        SystemSpec(name="hybrid", model="gpt-4o-mini", fine_tuned=True, prompt_tokens=120, output_tokens=60,
                   retrieval=retrieval, training=TrainingSpec(examples=2000, tokens_per_example=300)),
        *extra,
    ], volume_per_month=100_000)
    profile = Profile(name="Docs assistant", knowledge_valid_months=12, latency_p95_s=4, knowledge="both",
                      monthly_queries=100_000, hallucination_tolerance="zero-tolerance", validation_available=True,
                      labeled_examples=2000)
    manifest = RunManifest(run_id=run_id, created_at="2026-11-25T14:00:00Z", bench="python-faq",
                           evalset_sha256="ab" * 32, corpus_sha256="cd" * 32, systems=systems, seed=7,
                           versions={"ragft": "0.1.0", "python": "3.11"}, status="complete", seconds=42.0)
    table = _table(records, cost, systems).model_copy(update={"run_id": run_id})
    if systems is not SYSTEMS:
        table = _with_run_notes(table, systems)
    verdict = decide(Evidence(run_id=run_id, systems=systems, records=records, table=table,
                              cost=cost.model_dump(mode="json"), seed=7), profile)
    (folder / "manifest.json").write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
    (folder / "table.json").write_text(table.model_dump_json(indent=2), encoding="utf-8")
    (folder / "questions.jsonl").write_text("".join(r.model_dump_json() + "\n" for r in records), encoding="utf-8")
    (folder / "cost.json").write_text(cost.model_dump_json(indent=2), encoding="utf-8")
    (folder / "verdict.json").write_text(verdict.model_dump_json(indent=2), encoding="utf-8")
    return folder


def _with_run_notes(table: RunTable, systems: list[SystemConfig]) -> RunTable:
    """The notes a real run writes into its cells (summary._notes, _ttp_note): long text inside number cells."""
    tuned = {s.name for s in systems if s.kind in ("fine-tuned", "hybrid")}
    rows = []
    for row in table.rows:
        if row.key == "cost_per_1k":
            row = row.model_copy(update={"values": {name: value.model_copy(update={"note": (
                f"{next(s.generator for s in systems if s.name == name)} tokens priced as gpt-4o-mini"
                f"{' (fine-tuned)' if name in tuned else ''}")}) for name, value in row.values.items()}})
        rows.append(row)
    ttp = {s.name: MetricValue(value=12.3 + 40 * (s.name in tuned), unit="s", note=(
        "index build 12.3 s + adapter training 40.0 s" if s.kind == "hybrid" else
        "adapter training 40.0 s (from its manifest)" if s.name in tuned else
        "index build 12.3 s (chunk + embed + store the corpus)")) for s in systems}
    rows.insert(2, TableRow(key="time_to_production", label="Time to production", higher_is_better=False,
                            values=ttp, winner="tie", winner_method="single measurements",
                            seed_claim={"rag": "2-3 days", "fine-tuning": "2-3 days (training) plus setup"}))
    return table.model_copy(update={"rows": rows})
