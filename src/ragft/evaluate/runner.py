"""`evaluate(config) -> Run` (also `run_eval`, exported as `ragft.run_eval`): every system answers the same
questions; each answer is scored, timed and priced, written to the run folder as it comes, and summed up in
the seed's table, a cost report and an advise verdict re-derived from the measurements. Runs resume.

This module is the orchestration (resume, signals, the manifest, indexing, the answering loop); the questions
are `ragft.evaluate.questions`, the scoring `ragft.evaluate.scoring`, the table and verdict
`ragft.evaluate.summary`."""
from __future__ import annotations

import functools
import shutil
import signal
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Sequence

from ragft.errors import InputError
from ragft.evaluate.config import EvalConfig, config_from_mapping
from ragft.evaluate.evalset import EvalItem
from ragft.evaluate.evidence import GoldDocuments
from ragft.evaluate.executors import answer_all
from ragft.evaluate.progress import ANSWERING, FRESHNESS, INDEX, SUMMARY, WARM_UP, EvalProgressCallback, reporter
from ragft.evaluate.questions import Questions, check_relevant_ids, load_questions
from ragft.evaluate.records import RunManifest
from ragft.evaluate.run_folder import (
    CONFIG,
    MANIFEST,
    QUESTIONS,
    QUESTIONS_CSV,
    Run,
    load_manifest,
    load_run,
    read_records,
)
from ragft.evaluate.runs import QuestionLog, new_run_dir, write_csv, write_json
from ragft.evaluate.scoring import answer_and_score
from ragft.evaluate.summary import RETRIEVING, TUNED, summarise
from ragft.evaluate.systems import BuildContext, System, build_system, retriever_index_dir
from ragft.files import staged_dir
from ragft.versions import package_versions

__all__ = ["answer_and_score", "evaluate", "load_questions", "run_eval"]


def run_eval(config: EvalConfig | dict | None = None, *, out: Path | str | None = None,
             resume: Path | str | None = None, progress: bool = False,
             on_progress: EvalProgressCallback | None = None) -> Run:
    """Run (or, with `resume=RUN_DIR`, finish) an eval and return the run read back from its folder.

    `out`: the run folder (default runs/<UTC timestamp>-<bench>). Ctrl-C or SIGTERM leaves the rows written
    so far and marks the manifest "interrupted"; resume skips them. `on_progress(stage, done, total, note)` hears
    of each stage and answer (ragft.evaluate.progress); without one, `progress=True` prints plain lines on stderr."""
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
            _execute(config, questions, run_dir, manifest, reporter(progress, on_progress))
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
    names = ["numpy", "lancedb", "pyarrow", "pydantic"] + (["torch", "transformers", "peft"] if local else [])
    return package_versions(names, with_platform=True)


# --- the run -----------------------------------------------------------------------------------------

def _execute(config: EvalConfig, questions: Questions, run_dir: Path, manifest: RunManifest,
             report: EvalProgressCallback) -> None:
    index = _open_index(config, questions, run_dir, manifest, report) if config.needs_index else None
    context = BuildContext(index=index, max_tokens=config.max_tokens,
                           index_builder=functools.partial(_open_index, config, questions, run_dir, manifest, report))
    try:
        systems = [build_system(system, context) for system in config.systems]
        _check_price_model(config)
        _record_adapters(config, manifest)
        judge = _judge(config, manifest)
        write_json(run_dir / MANIFEST, manifest)
        done = {(r.system, r.question_id, r.repeat) for r in read_records(run_dir / QUESTIONS, repair=True)}
        todo = [(item, repeat) for repeat in range(config.repeat) for item in questions.items]
        remaining = [(i, r, s) for i, r in todo for s in systems if (s.name, i.id, r) not in done]
        if remaining:
            warm = min(config.warmup, len(questions.items))
            report(WARM_UP, 0, warm, f"warming up on {warm} questions (not timed)")
            _warm_up(systems, questions.items[:config.warmup], config.seed)
            report(ANSWERING, 0, len(remaining), f"answering: {len(remaining)} answers from {len(systems)} systems")
        gold = GoldDocuments(questions.corpus_dirs)
        with QuestionLog(run_dir / QUESTIONS) as log:
            score = functools.partial(answer_and_score, gold=gold)
            answered = answer_all(remaining, score, config, judge, index, questions.items[:config.warmup])
            for done, record in enumerate(answered, start=1):
                log.append(record)
                report(ANSWERING, done, len(remaining), record.system)
        if config.freshness_trials > 0:
            report(FRESHNESS, 0, config.freshness_trials, "measuring freshness (new documents added and asked about)")
        _measure_freshness(config, systems, manifest, run_dir)
        report(SUMMARY, 0, 1, "pricing, bootstrap intervals and the verdict")
        summarise(config, run_dir, manifest, index)
    finally:
        context.close()
        if index is not None:
            index.close()


def _open_index(config: EvalConfig, questions: Questions, run_dir: Path, manifest: RunManifest,
                report: EvalProgressCallback, retriever: str | None = None):
    """The run's index, or with `retriever` (a tuned embedder folder) the same corpus indexed with it."""
    from ragft.rag.engine import Index

    folders = _corpus_snapshot(questions, run_dir)
    report(INDEX, 0, len(folders), f"indexing the corpus with {retriever or config.embedder}")
    location = retriever_index_dir(run_dir, retriever) if retriever else run_dir / "index"
    retrieval = config.retrieval
    chunking = {} if retrieval is None else {"chunk_tokens": retrieval.chunk_tokens, "overlap": retrieval.overlap}
    index = Index.open(location, embedder=retriever or config.embedder, **chunking)
    wanted = None if retrieval is None else retrieval.search_config()
    if wanted is not None and index.config != wanted:
        # Saved in the index, so every opener (freshness trials, Ray workers) searches with them too.
        index.save_search_settings(wanted, tuned={"from": retrieval.source})
    start = time.perf_counter()
    for folder in folders:
        index.sync([folder], root=folder, on_progress=lambda stage, done, total: report(stage, done, total, ""))
    seconds = time.perf_counter() - start
    if retriever:
        _record_retriever(manifest, retriever, index, seconds)
    elif "index_build_seconds" not in manifest.measurements:
        stats = index.stats()
        manifest.measurements.update(index_build_seconds=round(seconds, 3), index_documents=stats["documents"],
                                     index_chunks=stats["chunks"], embedder=stats["embedder_id"])
    check_relevant_ids(questions.items, questions.origin, index)
    return index


def _record_retriever(manifest: RunManifest, retriever: str, index, seconds: float) -> None:
    """A tuned retriever's index build and training record, kept from the first pass on a resume."""
    from ragft.rag.embedders.tuned import read_manifest

    recorded = manifest.measurements.setdefault("retrievers", {})
    if retriever not in recorded:
        trained = read_manifest(Path(retriever))
        recorded[retriever] = {"embedder": index.stats()["embedder_id"], "index_build_seconds": round(seconds, 3),
                               "pairs_source": trained.pairs_source, "pairs": trained.counts.get("pairs"),
                               "training_seconds": trained.seconds, "training_cpu_seconds": trained.cpu_seconds,
                               "data_sha256": trained.data_sha256, "weights_sha256": trained.weights_sha256}


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
