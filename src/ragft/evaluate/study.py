"""The whole study on one bench: split, fine-tune (qa+paraphrase and RAFT adapters), evaluate closed-book,
RAG (extractive and base-Gemma readers), fine-tuned and hybrid on the held-out questions, re-derive the
verdict. The face (`ragft demo`) writes the report from the returned run folder."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ragft.errors import InputError, RagftError
from ragft.evaluate.progress import RAFT_INDEX, TRAINING, EvalProgressCallback, reporter
from ragft.llm.local_model import base_models_kept


@dataclass(frozen=True)
class Budget:
    """How much compute the study spends; `tiny` is the demo's, labelled as such in every output."""

    name: str
    distractors: int          # distractor documents added to the corpus
    eval_limit: int | None    # held-out questions every system answers (None = the whole test split)
    epochs: int               # passes over each adapter's training data ...
    train_steps: int          # ... capped at this many LoRA optimiser steps per adapter
    max_seq_len: int
    max_tokens: int           # answer length cap for every generator
    paraphrases: int          # rewordings per fact in the fine-tuned adapter's data


BUDGETS = {
    "tiny": Budget("tiny", distractors=60, eval_limit=8, epochs=1, train_steps=8, max_seq_len=192,
                   max_tokens=40, paraphrases=2),
    # 3 epochs, as knowledge-injection fine-tuning needs repeated exposure (Ovadia et al. 2023 train for
    # several); on the Python FAQ: 321 paraphrase examples -> 243 steps, 107 RAFT examples -> 81 steps.
    "full": Budget("full", distractors=300, eval_limit=None, epochs=3, train_steps=400, max_seq_len=256,
                   max_tokens=64, paraphrases=3),
}


@dataclass
class StudyResult:
    out: Path
    run_dir: Path
    verdict: Any
    table: Any
    budget: Budget
    adapters: dict[str, Path] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    phases: dict[str, dict[str, float | None]] = field(default_factory=dict)   # PhaseClock.as_dict()


# The base model is read from disk once for all the study's trainings and systems: 1 read instead of 5, ~3 s
# each, mostly the tokenizer (docs/benchmarks.md, "Study").
@base_models_kept()
def run_study(out: str | Path = "ragft-study", *, bench: str = "python-faq", budget: str = "tiny",
              source_dir: str | Path | None = None, profile: str | None = "python-docs-assistant",
              seed: int = 0, progress: bool = True, on_progress: EvalProgressCallback | None = None,
              say: Callable[[str], None] = print) -> StudyResult:
    """Run every step into `out`. A re-run reuses an adapter only when its manifest records the same base model,
    data hash and hyperparameters, and resumes a run only when its config and adapters are the same; anything
    else (another budget in the same `out`) gets folders of its own (adapters/raft-full, run-full)."""
    from ragft.evaluate.benches import load_bench
    from ragft.evaluate.config import EvalConfig
    from ragft.evaluate.phases import PhaseClock
    from ragft.evaluate.splits import split
    from ragft.text import check_leakage

    plan = BUDGETS.get(budget)
    if plan is None:
        raise InputError(f"--budget {budget!r}: choose one of {', '.join(BUDGETS)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    seconds: dict[str, float] = {}
    clock = PhaseClock()

    started = time.perf_counter()
    clock.start("bench")
    data = load_bench(bench, source_dir=source_dir, distractors=plan.distractors)
    fractions = EvalConfig.model_fields["split_fractions"].default
    parts = split(data.questions, *fractions, seed=seed)
    leaked = {leak.train_id for leak in check_leakage(parts.train, parts.test).leaks}
    train = [item for item in parts.train if item.id not in leaked]
    seconds["bench"] = time.perf_counter() - started
    say(f"bench {bench}: {len(data.questions)} questions ({len(train)} train / {len(parts.test)} test; "
        f"{len(leaked)} training questions dropped as near-duplicates of test ones), "
        f"{plan.distractors} distractor documents; budget '{plan.name}'")

    report = reporter(progress, on_progress)
    adapters = _train_adapters(out, data, train, plan, seed, report, say, seconds, clock)

    started = time.perf_counter()
    clock.start("eval:start")
    run = _evaluate(out, bench, source_dir, plan, adapters, profile, seed, clock.watch(report), say)
    clock.stop()
    seconds["eval"] = time.perf_counter() - started
    _record_phases(run.path, clock)

    return StudyResult(out=out, run_dir=run.path, verdict=run.verdict, table=run.table,
                       budget=plan, adapters=adapters, seconds=seconds, phases=clock.as_dict())


def _record_phases(run_dir: Path, clock) -> None:
    """The study's phases (wall and CPU seconds, load average) into the run manifest's measurements, as
    "study_phases": where a demo's minutes went, beside what it measured. On a resumed run: this pass's."""
    from ragft.evaluate.run_folder import MANIFEST, load_manifest
    from ragft.evaluate.runs import write_json

    manifest = load_manifest(run_dir)
    manifest.measurements["study_phases"] = clock.as_dict()
    write_json(run_dir / MANIFEST, manifest)


def _train_adapters(out: Path, data, train_items, plan: Budget, seed: int, report: EvalProgressCallback,
                    say: Callable[[str], None], seconds: dict[str, float], clock) -> dict[str, Path]:
    """Two adapters, as the literature suggests: paraphrase-augmented Q/A for closed-book recall (Ovadia et
    al. 2023) and RAFT data for reading retrieved context (Zhang et al. 2024). An adapter already in `out` is
    reused only when its manifest records this study's base model, data hash, example count and
    hyperparameters; one trained otherwise (another budget) is kept and the new one goes to a folder of its own."""
    from ragft.finetune import recipes
    from ragft.finetune.dataset import data_hash
    from ragft.finetune.train_local import DEFAULT_BASE, TrainConfig, train_lora
    from ragft.llm.local_model import load_causal_lm
    from ragft.rag.engine import Index

    facts = recipes.facts_from_items(train_items, source="bench")
    config = TrainConfig(epochs=plan.epochs, batch_size=4, max_seq_len=plan.max_seq_len, max_steps=plan.train_steps,
                         seed=seed)
    wanted = {"fine-tuned": "paraphrase", "hybrid": "raft"}
    adapters: dict[str, Path] = {}
    base_sha256 = None    # the base weights hashed once (1 GB): every training starts from them
    for system, recipe in wanted.items():
        started = time.perf_counter()
        # The examples come first: their hash is what a reusable adapter must have been trained on.
        clock.start(f"examples {recipe}")
        if recipe == "paraphrase":
            examples = recipes.build("paraphrase", facts, n=plan.paraphrases, seed=seed)
        else:
            with Index.open(out / "raft-index") as index:
                clock.start("raft index")
                report(RAFT_INDEX, 0, 1, "indexing the corpus for the RAFT examples' retrieval")
                index.sync([data.corpus_dir], root=data.corpus_dir,
                           on_progress=lambda stage, done, total: report(stage, done, total, ""))
                clock.start(f"examples {recipe}")
                examples = recipes.build("raft", facts, retriever=index, seed=seed)
        identity = AdapterIdentity(base=DEFAULT_BASE, data_sha256=data_hash(examples), examples=len(examples),
                                   hyperparameters=config.model_dump(mode="json"))
        path, reusable, passed = _adapter_folder(out / "adapters", recipe, plan.name, identity)
        if reusable:
            say(f"adapter for {system}: reusing {path} (same base model, data and hyperparameters)")
            adapters[system] = path
            continue
        for other, why in passed:
            say(f"adapter for {system}: not reusing {other} ({why}); training into {path}")
        clock.start("load base model")
        model, tokenizer = load_causal_lm()      # fresh base each time: LoRA layers are injected in place
        clock.start(f"train {system}")
        with _free_core_threads():
            manifest = train_lora(examples, path, base=DEFAULT_BASE, config=config, model=model,
                                  tokenizer=tokenizer, on_progress=_lora_steps(report, system, recipe, len(examples)),
                                  overwrite=True, base_sha256=base_sha256)
        base_sha256 = manifest.base_sha256
        del model
        seconds[f"train_{system}"] = time.perf_counter() - started
        say(f"adapter for {system}: {len(examples)} examples, {manifest.steps} steps, "
            f"loss {manifest.losses[0]:.2f} -> {manifest.losses[-1]:.2f} in {manifest.seconds:.0f} s")
        adapters[system] = path
    return adapters


def _lora_steps(report: EvalProgressCallback, system: str, recipe: str, examples: int):
    """train_lora's (stage, done, total) as the study's TRAINING stage: its start says which adapter, each step
    names the system it is for."""
    def tell(stage: str, done: int, total: int) -> None:
        note = f"training the {system} adapter ({recipe} data): {examples} examples, {total} LoRA steps"
        report(TRAINING, done, total, note if done == 0 else system)
    return tell


def _free_core_threads():
    """torch threads = the cores other tasks leave free, for one training: on a shared machine two threads spent
    2.6x the wall time of one per LoRA step (docs/benchmarks.md, "Study"); on idle cores both are used."""
    import torch

    from ragft.cores import free_cores, torch_threads

    return torch_threads(torch, free_cores())


@dataclass(frozen=True)
class AdapterIdentity:
    """What an adapter was trained from, as its manifest records it: reuse needs all four to match."""

    base: str
    data_sha256: str
    examples: int
    hyperparameters: dict[str, Any]

    def differences(self, manifest) -> list[str]:
        """What differs between this and an adapter manifest, e.g. ["epochs 1, wanted 3", "data sha256"]."""
        from ragft.finetune.train_local import TrainConfig

        out = []
        if manifest.base != self.base:
            out.append(f"base {manifest.base}, wanted {self.base}")
        # Hyperparameters added to TrainConfig after an adapter was trained count as their defaults.
        recorded = {**TrainConfig().model_dump(mode="json"), **manifest.hyperparameters}
        out += [f"{key} {recorded.get(key)}, wanted {value}" for key, value in self.hyperparameters.items()
                if recorded.get(key) != value]
        if manifest.examples != self.examples:
            out.append(f"{manifest.examples} examples, wanted {self.examples}")
        if manifest.data_sha256 != self.data_sha256:
            out.append("other training data (sha256 differs)")
        return out


def _candidates(root: Path, name: str, budget: str):
    """root/name, root/name-<budget>, root/name-<budget>-2, ...: where a study's artefact may live."""
    yield root / name
    yield root / f"{name}-{budget}"
    number = 2
    while True:
        yield root / f"{name}-{budget}-{number}"
        number += 1


def _adapter_folder(root: Path, name: str, budget: str,
                    identity: AdapterIdentity) -> tuple[Path, bool, list[tuple[Path, str]]]:
    """(folder, reusable, [(folder passed over, why)]): the first candidate holding a finished adapter with this
    identity (reusable), else the first one that is free or holds no finished adapter (train there)."""
    from ragft.adapters import verify_adapter

    passed = []
    for path in _candidates(root, name, budget):
        if not path.exists():
            return path, False, passed
        try:
            manifest = verify_adapter(path)
        except RagftError:     # not a finished adapter (interrupted, edited): trained over, as before
            return path, False, passed
        differences = identity.differences(manifest)
        if not differences:
            return path, True, passed
        passed.append((path, "trained with " + "; ".join(differences)))
    raise AssertionError("the candidate folders never run out")


def _evaluate(out: Path, bench: str, source_dir, plan: Budget, adapters: dict[str, Path], profile: str | None,
              seed: int, on_progress: EvalProgressCallback, say: Callable[[str], None] = print):
    from ragft.evaluate.runner import run_eval

    systems = [
        {"name": "closed-book", "kind": "closed-book", "generator": "local"},
        {"name": "rag", "kind": "rag", "generator": "extractive"},
        # The same retrieval read by the untuned base model: beside `hybrid`, it isolates what RAFT training
        # adds to the generator.
        {"name": "rag-gemma", "kind": "rag", "generator": "local"},
        {"name": "fine-tuned", "kind": "fine-tuned", "generator": "local", "adapter": str(adapters["fine-tuned"])},
        {"name": "hybrid", "kind": "hybrid", "generator": "local", "adapter": str(adapters["hybrid"])},
    ]
    config = {
        "bench": [bench], "bench_source": str(source_dir) if source_dir else None,
        "distractors": plan.distractors, "systems": systems, "split": "test", "limit": plan.eval_limit,
        "seed": seed, "max_tokens": plan.max_tokens, "profile": profile, "warmup": 1,
    }
    run_dir, resume, passed = _run_folder(out, plan.name, config)
    for other, why in passed:
        say(f"run: not resuming {other} ({why}); running into {run_dir}")
    if resume:
        say(f"run: resuming {run_dir} (same config and adapters)")
    else:
        _seed_embedding_cache(out / "raft-index", run_dir / "index")
    return run_eval(None if resume else config, out=run_dir, resume=run_dir if resume else None,
                    on_progress=on_progress)


def _seed_embedding_cache(source: Path, index: Path) -> None:
    """The run's index starts with the RAFT index's embedding cache: the same corpus, so its chunks are embedded
    once per study, not twice (the cache is keyed by embedder name + text, so a vector is never reused across
    embedders)."""
    from ragft.files import atomic_path
    from ragft.rag.engine import EMBEDDING_CACHE_FILE

    cache, target = source / EMBEDDING_CACHE_FILE, index / EMBEDDING_CACHE_FILE
    if cache.is_file() and not target.exists():
        import sqlite3
        from contextlib import closing

        with atomic_path(target) as staging, closing(sqlite3.connect(cache)) as reading, \
                closing(sqlite3.connect(staging)) as writing:
            reading.backup(writing)


# Where the bench files came from, not what they are (their sha256 is checked when a run resumes).
_PROVENANCE_KEYS = ("bench_source", "bench_cache")


def _run_folder(out: Path, budget: str, config: dict[str, Any]) -> tuple[Path, bool, list[tuple[Path, str]]]:
    """(run folder, resume it?, [(folder passed over, why)]): a run folder is resumed only when its recorded
    config and adapters are the ones asked for now; a folder without a manifest (a start that wrote nothing)
    is cleared and used."""
    import shutil

    from ragft.evaluate.config import config_from_mapping
    from ragft.evaluate.run_folder import MANIFEST, load_manifest

    wanted = _comparable(config_from_mapping(config).model_dump(mode="json"))
    passed = []
    for path in _candidates(out, "run", budget):
        if not (path / MANIFEST).is_file():
            if path.exists():
                shutil.rmtree(path)
            return path, False, passed
        why = _run_mismatch(load_manifest(path), wanted)
        if why is None:
            return path, True, passed
        passed.append((path, why))
    raise AssertionError("the candidate folders never run out")


def _comparable(config: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in config.items() if key not in _PROVENANCE_KEYS}


def _run_mismatch(manifest, wanted: dict[str, Any]) -> str | None:
    """Why a run folder is not the run asked for (None when it is): other settings, or an adapter that changed."""
    from ragft.adapters import verify_adapter
    from ragft.evaluate.config import config_from_mapping

    try:    # re-read through today's config model: fields added since then take their defaults
        recorded = _comparable(config_from_mapping(manifest.config).model_dump(mode="json"))
    except RagftError:
        return "its config is not readable by this version"
    if recorded != wanted:
        keys = sorted(k for k in set(recorded) | set(wanted) if recorded.get(k) != wanted.get(k))
        return f"recorded with other settings: {', '.join(keys)}"
    for name, adapter in manifest.measurements.get("adapters", {}).items():
        try:
            current = verify_adapter(adapter["path"]).files
        except RagftError:
            current = None
        if current != adapter.get("files"):
            return f"the {name} adapter at {adapter['path']} changed since"
    return None
