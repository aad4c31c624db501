"""`evaluate(config) -> Run` (also `run_eval`, exported as `ragft.run_eval`): every system answers the same
questions; each answer is scored, timed and priced, written to the run folder as it comes, and summed up in
the seed's table, a cost report and an advise verdict re-derived from the measurements. Runs resume."""
from __future__ import annotations

import functools
import hashlib
import platform
import shutil
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from ragft.errors import InputError, NotFoundError, RagftError
from ragft.evaluate.config import EvalConfig, config_from_mapping
from ragft.evaluate.evalset import EvalItem, load_evalset
from ragft.evaluate.evidence import GoldDocuments
from ragft.evaluate.executors import answer_all
from ragft.evaluate.progress import counter, stage
from ragft.evaluate.records import QuestionRecord, RunManifest
from ragft.evaluate.runs import (
    CONFIG,
    COST,
    MANIFEST,
    QUESTIONS,
    QUESTIONS_CSV,
    TABLE,
    VERDICT,
    QuestionLog,
    Run,
    load_manifest,
    load_run,
    new_run_dir,
    read_records,
    write_csv,
    write_json,
    write_records,
)
from ragft.evaluate.systems import BuildContext, System, SystemAnswer, build_system
from ragft.evaluate.table import Measured, TableSettings, build_table
from ragft.files import corpus_sha256, staged_dir
from ragft.secrets import redact

RETRIEVING = ("rag", "hybrid")
TUNED = ("fine-tuned", "hybrid")


@dataclass
class Questions:
    items: list[EvalItem]
    corpus_dirs: list[Path]
    origin: str                   # shown in messages: the eval-set file or the bench names
    evalset_sha256: str
    corpus_sha256: str
    provenance: dict[str, Any]
    bench_names: list[str] = field(default_factory=list)   # set for built-in benches: their corpora get copied


def run_eval(config: EvalConfig | dict | None = None, *, out: Path | str | None = None,
             resume: Path | str | None = None, progress: bool = False) -> Run:
    """Run (or, with `resume=RUN_DIR`, finish) an eval and return the run read back from its folder.

    `out`: the run folder (default runs/<UTC timestamp>-<bench>). Ctrl-C or SIGTERM leaves the rows written
    so far and marks the manifest "interrupted"; resume skips them."""
    if resume is not None:
        run_dir, manifest = Path(resume), load_manifest(resume)
        config = config_from_mapping(manifest.config, str(Path(resume) / CONFIG))
    else:
        if config is None:
            raise InputError("evaluate needs a config (or resume=RUN_DIR)")
        config = config if isinstance(config, EvalConfig) else config_from_mapping(config)
        run_dir = Path(out) if out is not None else new_run_dir("runs", config.label)
        manifest = None
    started = time.perf_counter()
    try:
        questions = load_questions(config)
    except BaseException:
        if run_dir.is_dir() and not any(run_dir.iterdir()):
            run_dir.rmdir()          # nothing was written: leave no empty run folder behind
        raise
    if manifest is None:
        manifest = _new_manifest(run_dir, config, questions)
    elif (manifest.evalset_sha256, manifest.corpus_sha256) != (questions.evalset_sha256, questions.corpus_sha256):
        raise InputError(f"{run_dir}: the questions or the corpus changed since the run started (sha256 differs); "
                         "start a new run instead of resuming")
    write_json(run_dir / CONFIG, config)
    manifest.status = "running"
    write_json(run_dir / MANIFEST, manifest)
    done_before = manifest.seconds
    try:
        with _sigterm_as_interrupt():
            _execute(config, questions, run_dir, manifest, progress)
    except BaseException:
        _stop(run_dir, manifest, "interrupted", done_before + time.perf_counter() - started)
        raise
    _stop(run_dir, manifest, "complete", done_before + time.perf_counter() - started)
    return load_run(run_dir)


evaluate = run_eval


def _stop(run_dir: Path, manifest: RunManifest, status: str, seconds: float) -> None:
    manifest.status, manifest.seconds = status, round(seconds, 3)
    write_json(run_dir / MANIFEST, manifest)
    if status != "complete":
        write_csv(run_dir / QUESTIONS_CSV, read_records(run_dir / QUESTIONS))


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """`kill PID` stops a run like Ctrl-C does: rows kept, manifest marked interrupted."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# --- questions ---------------------------------------------------------------------------------------

def load_questions(config: EvalConfig) -> Questions:
    """The eval items (bench or eval set), then the split and a seeded sample of `limit`, in original order."""
    if config.bench:
        questions = _bench_questions(config)
    else:
        path = Path(config.evalset)
        docs = [Path(d) for d in config.docs]
        for folder in docs:
            if not folder.exists():
                raise NotFoundError(f"--docs {folder}: no such folder; give the corpus the eval set points into")
        questions = Questions(load_evalset(path), docs, str(path), _sha256_bytes(path.read_bytes()),
                              corpus_sha256(docs), {"evalset": str(path.resolve())})
    items = questions.items
    if config.split != "all":
        from ragft.evaluate.splits import split

        parts = split(items, *config.split_fractions, seed=config.seed)
        items = getattr(parts, config.split)
    if config.limit is not None and config.limit < len(items):
        picked = np.sort(np.random.default_rng(config.seed).permutation(len(items))[:config.limit])
        items = [items[i] for i in picked]
    if not items:
        raise InputError(f"{questions.origin}: no questions left after split={config.split} and limit")
    questions.items = items
    return questions


def _bench_questions(config: EvalConfig) -> Questions:
    from ragft.evaluate.benches import load_bench

    items, dirs, hashes, provenance = [], [], [], {}
    for name in config.bench:
        bench = load_bench(name, cache_dir=config.bench_cache, source_dir=config.bench_source,
                           distractors=config.distractors)
        prefix = f"{name}:" if len(config.bench) > 1 else ""
        items += [item.model_copy(update={"id": prefix + item.id}) for item in bench.questions]
        dirs.append(bench.corpus_dir)
        hashes.append(bench.source.tree_sha256)
        provenance[name] = {"package": bench.source.package, "version": bench.source.version,
                            "deb_sha256": bench.source.deb_sha256, "tree_sha256": bench.source.tree_sha256,
                            "documents": bench.documents, "distractors": bench.distractors}
    text = "".join(item.model_dump_json() + "\n" for item in items)
    return Questions(items, dirs, ", ".join(config.bench), _sha256_bytes(text.encode()),
                     _sha256_bytes("".join(hashes).encode()), provenance, list(config.bench))


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _new_manifest(run_dir: Path, config: EvalConfig, questions: Questions) -> RunManifest:
    return RunManifest(
        run_id=run_dir.name, created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        bench=questions.origin, evalset_sha256=questions.evalset_sha256, corpus_sha256=questions.corpus_sha256,
        systems=config.systems, seed=config.seed, repeat=config.repeat,
        bootstrap_resamples=config.bootstrap_resamples, confidence=config.confidence,
        versions=versions(any(s.generator == "local" for s in config.systems)),
        config=config.model_dump(mode="json"),
        measurements={"questions": len(questions.items), "provenance": questions.provenance},
    )


def versions(local: bool = False) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    import ragft

    out = {"python": platform.python_version(), "ragft": ragft.__version__, "platform": platform.platform()}
    names = ["numpy", "lancedb", "pyarrow", "pydantic"] + (["torch", "transformers", "peft"] if local else [])
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


# --- the run -----------------------------------------------------------------------------------------

def _execute(config: EvalConfig, questions: Questions, run_dir: Path, manifest: RunManifest, progress: bool) -> None:
    index = _open_index(config, questions, run_dir, manifest, progress) if config.needs_index else None
    try:
        context = BuildContext(index=index, max_tokens=config.max_tokens)
        systems = [build_system(system, context) for system in config.systems]
        _check_price_model(config)
        _record_adapters(config, manifest)
        judge = _judge(config, manifest)
        write_json(run_dir / MANIFEST, manifest)
        done = {(r.system, r.question_id, r.repeat) for r in read_records(run_dir / QUESTIONS, repair=True)}
        todo = [(item, repeat) for repeat in range(config.repeat) for item in questions.items]
        remaining = [(i, r, s) for i, r in todo for s in systems if (s.name, i.id, r) not in done]
        if remaining:
            stage(progress, f"warming up on {min(config.warmup, len(questions.items))} questions (not timed)")
            _warm_up(systems, questions.items[:config.warmup], config.seed)
            stage(progress, f"answering: {len(remaining)} answers from {len(systems)} systems")
        gold = GoldDocuments(questions.corpus_dirs)
        with QuestionLog(run_dir / QUESTIONS) as log, _bar(progress, len(remaining)) as advance:
            score = functools.partial(answer_and_score, gold=gold)
            for record in answer_all(remaining, score, config, judge, index, questions.items[:config.warmup]):
                log.append(record)
                advance(record.system)
        stage(progress and config.freshness_trials > 0, "measuring freshness (new documents added and asked about)")
        _measure_freshness(config, systems, manifest, run_dir)
        stage(progress, "pricing, bootstrap intervals and the verdict")
        _summarise(config, run_dir, manifest, index)
    finally:
        if index is not None:
            index.close()


def _open_index(config: EvalConfig, questions: Questions, run_dir: Path, manifest: RunManifest, progress: bool):
    from ragft.rag.engine import Index

    folders = _corpus_snapshot(questions, run_dir)
    stage(progress, f"indexing the corpus with {config.embedder}")
    index = Index.open(run_dir / "index", embedder=config.embedder)
    start = time.perf_counter()
    for folder in folders:
        index.sync([folder], root=folder, progress=progress)
    seconds = time.perf_counter() - start
    if "index_build_seconds" not in manifest.measurements:
        stats = index.stats()
        manifest.measurements.update(index_build_seconds=round(seconds, 3), index_documents=stats["documents"],
                                     index_chunks=stats["chunks"], embedder=stats["embedder_id"])
    check_relevant_ids(questions, index)
    return index


def _corpus_snapshot(questions: Questions, run_dir: Path) -> list[Path]:
    """Bench corpora are copied into the run folder before indexing: the shared bench cache can be rebuilt by
    another process (other distractor settings) while a long index build reads it."""
    if not questions.bench_names:
        return questions.corpus_dirs
    copies = []
    for name, folder in zip(questions.bench_names, questions.corpus_dirs):
        target = run_dir / "corpus" / name
        if not target.is_dir():
            with staged_dir(target) as staging:
                shutil.copytree(folder, staging, dirs_exist_ok=True)
        copies.append(target)
    return copies


def check_relevant_ids(questions: Questions, index) -> None:
    """Refuse an eval set whose gold ids match nothing in the index: it was built from another corpus."""
    gold = sorted({rid for item in questions.items for rid in item.relevant_ids})
    if not gold:
        return
    documents = set(index.meta["documents"])
    if not any(_matches(rid, documents) for rid in gold):
        raise InputError(f"none of the {len(gold)} relevant_ids in {questions.origin} match a document in the "
                         f"index at {index.path}: were they built from another corpus?")


def _matches(rid: str, documents: set[str]) -> bool:
    return rid in documents or rid.split("#", 1)[0] in documents


def _check_price_model(config: EvalConfig) -> None:
    from ragft.costs import load_catalog

    catalog = load_catalog()
    catalog.generation(config.price_model)
    if any(s.kind in TUNED for s in config.systems):
        catalog.generation(config.price_model, fine_tuned=True)


def _record_adapters(config: EvalConfig, manifest: RunManifest) -> None:
    """What each tuned system was trained from: a local adapter's manifest, or a provider or served tuned model
    with its job record (from the jobs ledger) when there is one. Kept from the first pass on a resume."""
    from ragft.adapters import verify_adapter
    from ragft.finetune.providers import DEFAULT_LEDGER, JobsLedger, training_record

    adapters, tuned = {}, dict(manifest.measurements.get("tuned_models", {}))
    for system in config.systems:
        if system.adapter:
            m = verify_adapter(system.adapter)
            adapters[system.name] = {"path": system.adapter, "base": m.base, "training_seconds": m.seconds,
                                     "steps": m.steps, "examples": m.examples, "data_sha256": m.data_sha256,
                                     "epochs": m.hyperparameters.get("epochs"), "files": m.files}
        elif system.tuned_model and system.name not in tuned:
            entry = JobsLedger(config.jobs_ledger or DEFAULT_LEDGER).find(system.job, system.tuned_model)
            record = training_record(entry) if entry else {"job": None, "training_seconds": None,
                                                           "base": system.generator_options.get("model")}
            tuned[system.name] = {"model": system.tuned_model, "generator": system.generator, **record}
    if adapters:
        manifest.measurements["adapters"] = adapters
    if tuned:
        manifest.measurements["tuned_models"] = tuned


def _judge(config: EvalConfig, manifest: RunManifest):
    if not config.judge:
        return None
    from ragft.llm import create_generator
    from ragft.rag.grounding import JUDGE_PROMPT, LLMJudge

    generator = create_generator(config.judge, **config.judge_options)
    manifest.measurements["judge"] = {"generator": config.judge, "options": config.judge_options,
                                      "model": getattr(generator, "model", "") or config.judge,
                                      "prompt": JUDGE_PROMPT}
    return LLMJudge(generator)


def _warm_up(systems: Sequence[System], items: Sequence[EvalItem], seed: int) -> None:
    """Answer the first questions once, untimed: model loading and caches stay out of the latencies."""
    for system in systems:
        for item in items:
            try:
                system.answer(item, seed)
            except Exception:     # the timed pass records the error on the question
                pass


def answer_and_score(system: System, item: EvalItem, repeat: int, config: EvalConfig, judge=None,
                     gold=None) -> QuestionRecord:
    """One question through one system, scored; a failure is recorded on the row, never dropped."""
    base = dict(system=system.name, question_id=item.id, question=item.question,
                reference_answer=item.reference_answer, relevant_ids=list(item.relevant_ids), repeat=repeat)
    try:
        answer = system.answer(item, config.seed + repeat)
    except KeyboardInterrupt:
        raise
    except Exception as error:      # a provider outage or a model crash: keep the row with its reason
        message = redact(str(error) if isinstance(error, RagftError) else f"{type(error).__name__}: {error}")
        return QuestionRecord(answer="", error=message, **base)
    return QuestionRecord(answer=answer.answer, contexts=answer.contexts, timings=answer.timings,
                          input_tokens=answer.input_tokens, output_tokens=answer.output_tokens,
                          model=answer.model, **base, **_scores(item, answer, system.config.k, judge, gold))


def _scores(item: EvalItem, answer: SystemAnswer, k: int, judge, gold=None) -> dict[str, Any]:
    """Scores of one answer. Hallucination is checked for every system against the same evidence: the
    reference plus the gold documents' text (`gold`: an evidence.GoldDocuments; None = the reference alone);
    retrieving systems also get `grounded`, support by their own retrieved passages alone."""
    from ragft.evaluate.metrics import score_question

    texts = gold.texts(item.relevant_ids) if gold is not None else {}
    contexts = [c.text for c in answer.contexts] if answer.hits is not None else None
    row = score_question(item, answer.answer, retrieved=answer.hits, contexts=contexts, k=k,
                         evidence=list(texts.values()))
    out: dict[str, Any] = {
        "retrieval": {name: row[name] for name in ("hit_at_1", "recall_at_k", "mrr", "ndcg_at_10") if name in row},
        "quality": {name: row[name] for name in ("exact_match", "token_f1", "rouge_l")},
        "hallucinated": bool(row["hallucinated"]), "abstained": bool(row["abstained"]),
        "supported_ratio": row["supported_ratio"], "unsupported_sentences": row["unsupported_sentences"],
        "evidence_ids": list(texts),
    }
    if "grounded" in row:
        out["grounded"], out["grounded_ratio"] = bool(row["grounded"]), row["grounded_ratio"]
    if judge is not None:
        out["judge_hallucinated"] = (False if row["abstained"] else judge.check_support(
            answer.answer, list(texts.values()) + [item.reference_answer]).hallucinated)
    return out


def _bar(enabled: bool, total: int):
    return counter(enabled, total, "answering")


# --- run-level measurements ----------------------------------------------------------------------------

def _measure_freshness(config: EvalConfig, systems: Sequence[System], manifest: RunManifest, run_dir: Path) -> None:
    """Every retrieving system gets its own trials (the same index, read by its own generator)."""
    from ragft.evaluate.freshness import measure_freshness

    measured = manifest.measurements.setdefault("freshness", {})
    for system in systems:
        if system.kind in RETRIEVING and system.name not in measured and config.freshness_trials:
            trials = measure_freshness(system, config.freshness_trials, config.seed)
            measured[system.name] = [vars(t) for t in trials]
            write_json(run_dir / MANIFEST, manifest)


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


def _summarise(config: EvalConfig, run_dir: Path, manifest: RunManifest, index) -> None:
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
