"""The run's summary: pricing, the seed's table with its per-system notes, the measured rows (time to
production, freshness) and the verdict re-derived from the measurements."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from ragft.evaluate.config import EvalConfig
from ragft.evaluate.records import QuestionRecord, RunManifest
from ragft.evaluate.run_folder import COST, QUESTIONS, QUESTIONS_CSV, TABLE, VERDICT, read_records
from ragft.evaluate.runs import write_csv, write_json, write_records
from ragft.evaluate.table import Measured, TableSettings, build_table

RETRIEVING = ("rag", "hybrid")
TUNED = ("fine-tuned", "hybrid")


def summarise(config: EvalConfig, run_dir: Path, manifest: RunManifest, index) -> None:
    from ragft.evaluate.pricing import price_run

    records = read_records(run_dir / QUESTIONS)
    names = [s.name for s in config.systems]
    report, records = price_run(config, records, manifest, index)
    write_json(run_dir / COST, report)
    write_records(run_dir / QUESTIONS, records)
    write_csv(run_dir / QUESTIONS_CSV, records)
    settings = TableSettings(resamples=config.bootstrap_resamples, confidence=config.confidence, seed=config.seed,
                             notes=_notes(config, records))
    table = build_table(records, names, run_id=manifest.run_id, bench=manifest.bench,
                        measured=measured_rows(config, manifest), settings=settings)
    write_json(run_dir / TABLE, table)
    write_json(run_dir / VERDICT, verdict_for(config, table, records, report, manifest))


def _notes(config: EvalConfig, records: Sequence[QuestionRecord]) -> dict[str, dict[str, str]]:
    """Per row and system, what the number means; a note starting "by construction" marks a value the
    system's design fixes (the table shows it next to the value)."""
    notes: dict[str, dict[str, str]] = {"retrieval_accuracy": {}, "cost_per_1k": {}, "hallucination_rate": {},
                                        "abstention_rate": {}, "grounded_rate": {}}
    for system in config.systems:
        if system.kind not in RETRIEVING:
            notes["retrieval_accuracy"][system.name] = "no retrieval: see answer F1"
            notes["grounded_rate"][system.name] = "no retrieval: no passages of its own"
        notes["cost_per_1k"][system.name] = (f"{system.generator} tokens priced as {config.price_model}"
                                             f"{' (fine-tuned)' if system.kind in TUNED else ''}")
        own = [r for r in records if r.system == system.name and r.error is None]
        with_gold = [r for r in own if r.relevant_ids]
        missing = sum(not r.evidence_ids for r in with_gold)
        if own and (not with_gold or missing == len(with_gold)):
            notes["hallucination_rate"][system.name] = ("checked against the reference answer only: no gold "
                                                        "document text was available to this run")
        elif missing:
            notes["hallucination_rate"][system.name] = (f"{missing}/{len(with_gold)} questions checked against "
                                                        "the reference only (gold document not found)")
        if system.generator == "extractive" and system.kind in RETRIEVING:
            notes["grounded_rate"][system.name] = ("by construction: the extractive answerer only quotes its "
                                                   "retrieved passages")
            notes["hallucination_rate"].setdefault(system.name, (
                "quotes passages: supported whenever it quoted a gold document, so retrieval decides this number"))
        elif system.generator == "extractive":
            notes["abstention_rate"][system.name] = ("by construction: the extractive answerer needs passages, "
                                                     "so it always abstains closed-book")
            notes["hallucination_rate"].setdefault(system.name, (
                "by construction: it always abstains closed-book, and an abstention is not a hallucination"))
    return notes


def measured_rows(config: EvalConfig, manifest: RunManifest) -> dict[str, dict[str, Measured]]:
    """Time to production and freshness per system, from what the run measured, the adapter manifests and
    the provider jobs' records."""
    build = manifest.measurements.get("index_build_seconds")
    freshness = manifest.measurements.get("freshness", {})
    ttp: dict[str, Measured] = {}
    fresh: dict[str, Measured] = {}
    for system in config.systems:
        training = manifest.training(system.name)
        trained = training.get("training_seconds")
        if system.kind == "closed-book":
            ttp[system.name] = Measured(note="n/a: nothing to build (the generator as it is)")
            fresh[system.name] = Measured(note="n/a: knowledge fixed in the model's weights")
            continue
        parts = {"rag": [build], "fine-tuned": [trained], "hybrid": [build, trained]}[system.kind]
        note = _ttp_note(system.kind, build, trained, training)
        if system.retriever:        # rag over its own index: the retriever's training, then that index's build
            record = manifest.measurements.get("retrievers", {}).get(system.retriever, {})
            parts = [record.get("training_seconds"), record.get("index_build_seconds")]
            note = (f"retriever training {parts[0]:.1f} s (its manifest) + index build {parts[1]:.1f} s"
                    if None not in parts else "n/a: not measured (no record of the retriever)")
        ttp[system.name] = (Measured(samples=(float(sum(parts)),), note=note) if None not in parts
                            else Measured(note=note))
        if system.kind == "fine-tuned":
            fresh[system.name] = _retrain_measure(trained, training)
        elif config.freshness_trials == 0 and not freshness.get(system.name):
            fresh[system.name] = Measured(note="n/a: not measured (freshness_trials = 0)")
        else:
            fresh[system.name] = _freshness_measure(freshness.get(system.name, []))
    return {"time_to_production": ttp, "freshness": fresh}


def _training_source(training: dict[str, Any]) -> str:
    if "path" in training:
        return "adapter training (its manifest)"
    if training.get("job"):
        return f"provider job {training['job']}, created to fine-tuned model ready (jobs ledger)"
    return ""


def _untimed(training: dict[str, Any]) -> str:
    model = training.get("model", "the tuned model")
    if training.get("job"):
        return f"n/a: not measured (job {training['job']} has no recorded start and finish)"
    return (f"n/a: not measured (no job record for {model}; "
            "give --finetune-job ID from `ragft finetune jobs`)")


def _ttp_note(kind: str, build: float | None, trained: float | None, training: dict[str, Any] | None = None) -> str:
    training = training or {}
    if kind == "rag":
        return f"index build {build:.1f} s (chunk + embed + store the corpus)"
    if trained is None:
        untimed = _untimed(training)
        return untimed if kind == "fine-tuned" else f"{untimed}; index build {build:.1f} s"
    source = _training_source(training)
    if kind == "fine-tuned":
        return f"{source}: {trained:.1f} s"
    return f"index build {build:.1f} s + {source}: {trained:.1f} s"


def _retrain_measure(trained: float | None, training: dict[str, Any]) -> Measured:
    """A fine-tuned model learns a new fact by retraining: its measured training (and, for a provider, deploy)
    time is its freshness."""
    if trained is None:
        return Measured(note=_untimed(training).replace("n/a: not measured", "n/a: retraining not measured"))
    if "path" in training:
        note = "retrain: adapter training seconds from its manifest (deploy = loading the adapter, not timed)"
    else:
        note = f"retrain and deploy: provider job {training['job']}, created to fine-tuned model ready"
    return Measured(samples=(float(trained),), note=note)


def _freshness_measure(trials: list[dict[str, Any]]) -> Measured:
    """Seconds from adding a new document until an answer uses it: trials where the answer cites the document
    or states its new fact with the document retrieved; n/a says what the trials saw instead."""
    if not trials:
        return Measured(note="n/a: not measured (no freshness trials ran)")
    used = [t for t in trials if t["cited"] or (t["fact_in_answer"] and t.get("retrieved", True))]
    seen = (f"retrieved in {sum(bool(t.get('retrieved')) for t in trials)}/{len(trials)}, "
            f"cited in {sum(t['cited'] for t in trials)}, fact stated in {sum(t['fact_in_answer'] for t in trials)}"
            if any("retrieved" in t for t in trials) else f"cited in {sum(t['cited'] for t in trials)}")
    if not used:
        return Measured(note=f"n/a: 0/{len(trials)} trials answered from the newly added document ({seen})")
    return Measured(samples=tuple(t["seconds"] for t in used),
                    note=f"{len(used)}/{len(trials)} trials answered from the newly added document ({seen})")


def verdict_for(config: EvalConfig, table, records: Sequence[QuestionRecord], cost: Any,
                manifest: RunManifest) -> Any:
    """The measured verdict (ragft.evaluate.decision) for the config's profile, the framework's beside it."""
    from ragft.advise.examples import load_profile_or_example
    from ragft.evaluate.decision import Evidence, decide

    evidence = Evidence(run_id=manifest.run_id, systems=config.systems, records=records, table=table,
                        cost=cost.model_dump(mode="json") if hasattr(cost, "model_dump") else cost,
                        measurements=manifest.measurements, resamples=config.bootstrap_resamples,
                        confidence=config.confidence, seed=config.seed, named=config.contenders)
    return decide(evidence, load_profile_or_example(config.profile))
