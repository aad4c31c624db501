"""Cost per query from an eval run's measured token counts, through the ragft.costs model: each system's mean
tokens become a SystemSpec priced at the config's catalog model, and every answer gets its own all-in cost."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ragft.evaluate.config import EvalConfig
from ragft.evaluate.records import QuestionRecord, RunManifest, SystemConfig
from ragft.llm.tokens import count_tokens

EMBEDDING_ROWS = {"minilm": "all-MiniLM-L6-v2-local"}     # embedder registry name -> catalog row


def price_run(config: EvalConfig, records: Sequence[QuestionRecord], manifest: RunManifest, index) -> tuple[Any, list]:
    """(CostReport, records with cost_usd): cost_usd = the system's per-query cost at the configured monthly
    volume (fixed costs spread over it) shifted by this answer's own token difference from the mean."""
    from ragft.costs import estimate, load_catalog

    catalog = load_catalog()
    corpus_tokens = _corpus_tokens(index) if index is not None else 0.0
    specs, answered = [], {}
    for system in config.systems:
        rows = [r for r in records if r.system == system.name and r.error is None]
        if rows:
            specs.append(system_spec(system, rows, config, manifest, corpus_tokens))
            answered[system.name] = rows
    if not specs:
        return {"note": "no answered questions to price"}, list(records)
    report = estimate(specs, config.volume_per_month, catalog,
                      assumptions=[f"token counts measured in eval run {manifest.run_id}, as counted by each "
                                   f"system's generator; all generators priced as {config.price_model}",
                                   *_training_assumptions(config, manifest)])
    priced = []
    for record in records:
        spec = next((s for s in specs if s.name == record.system), None)
        if spec is None or record.error is not None:
            priced.append(record)
            continue
        cost = report.system(spec.name)
        gen = catalog.generation(spec.model, fine_tuned=spec.fine_tuned)
        shift = ((record.input_tokens - spec.input_tokens) * gen.input_per_1m
                 + (record.output_tokens - spec.output_tokens) * gen.output_per_1m) / 1e6
        priced.append(record.model_copy(update={"cost_usd": cost.per_query_usd + shift}))
    return report, priced


def system_spec(system: SystemConfig, rows: Sequence[QuestionRecord], config: EvalConfig, manifest: RunManifest,
                corpus_tokens: float):
    """The cost model's view of one measured system: mean prompt, context and output tokens, its retrieval
    setup and, for tuned kinds, its training run (see _training_spec)."""
    from ragft.costs import RetrievalSpec, SystemSpec

    mean_in = float(np.mean([r.input_tokens for r in rows]))
    mean_out = float(np.mean([r.output_tokens for r in rows]))
    retrieval = None
    prompt = mean_in
    if system.kind in ("rag", "hybrid"):
        context = float(np.mean([sum(count_tokens(c.text) for c in r.contexts) for r in rows]))
        k = max(1, round(float(np.mean([len(r.contexts) for r in rows]))))
        context = min(context, mean_in)
        prompt = mean_in - context
        retrieval_s = [r.timings.get("embed", 0.0) + r.timings.get("search", 0.0) for r in rows]
        retrieval = RetrievalSpec(
            embedding_model=EMBEDDING_ROWS.get(config.embedder, "text-embedding-3-small"), vector_db="lancedb-local",
            k=k, chunk_tokens=max(context / k, 1e-6),
            query_tokens=float(np.mean([count_tokens(r.question) for r in rows])), corpus_tokens=corpus_tokens,
            retrieval_ms=float(np.median(retrieval_s)) * 1000)
    training = None
    if system.kind in ("fine-tuned", "hybrid"):
        training = _training_spec(manifest.training(system.name), rows)
    return SystemSpec(name=system.name, model=config.price_model, fine_tuned=system.kind in ("fine-tuned", "hybrid"),
                      prompt_tokens=prompt, output_tokens=mean_out, retrieval=retrieval, training=training)


def _training_spec(training: dict[str, Any], rows: Sequence[QuestionRecord]):
    """A local adapter: its examples x epochs x the mean question + answer tokens. A provider job: the tokens
    it trained on (its record's trained_tokens already count every epoch). None when nothing was recorded."""
    from ragft.costs import TrainingSpec

    if "path" in training:
        qa_tokens = float(np.mean([count_tokens(r.question) + count_tokens(r.reference_answer) for r in rows]))
        return TrainingSpec(examples=int(training.get("examples", 0)), tokens_per_example=qa_tokens,
                            epochs=float(training.get("epochs") or 1))
    if training.get("trained_tokens"):
        examples = int(training.get("examples") or 1)
        return TrainingSpec(examples=examples, tokens_per_example=training["trained_tokens"] / examples, epochs=1)
    return None


def _training_assumptions(config: EvalConfig, manifest: RunManifest) -> list[str]:
    """How each tuned system's training run was priced, or why it was not."""
    lines = []
    for system in config.systems:
        training = manifest.training(system.name)
        if system.kind not in ("fine-tuned", "hybrid") or "path" in training:
            continue
        model = system.tuned_model or "the tuned model"
        if training.get("trained_tokens"):
            lines.append(f"{system.name}: training run = the {training['trained_tokens']:,} tokens job "
                         f"{training['job']} trained on, at {config.price_model}'s training price")
        else:
            lines.append(f"{system.name}: training run not priced: no job record with trained tokens for {model} "
                         "(give --finetune-job ID from `ragft finetune jobs`)")
    return lines


def _corpus_tokens(index) -> float:
    return float(sum(count_tokens(chunk.text) for chunk in index.store.chunks()))
