"""The whole study on one bench: split, fine-tune (qa+paraphrase and RAFT adapters), evaluate closed-book,
RAG (extractive and base-Gemma readers), fine-tuned and hybrid on the held-out questions, re-derive the
verdict, write the report."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ragft.errors import InputError


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
    reports: list[Path]
    verdict: Any
    table: Any
    budget: Budget
    adapters: dict[str, Path] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def run_study(out: str | Path = "ragft-study", *, bench: str = "python-faq", budget: str = "tiny",
              source_dir: str | Path | None = None, profile: str | None = "python-docs-assistant",
              seed: int = 0, progress: bool = True, say: Callable[[str], None] = print) -> StudyResult:
    """Run every step into `out`; a re-run reuses finished adapters (their manifests say complete)."""
    from ragft.evaluate.benches import load_bench
    from ragft.evaluate.config import EvalConfig
    from ragft.evaluate.splits import check_leakage, split

    plan = BUDGETS.get(budget)
    if plan is None:
        raise InputError(f"--budget {budget!r}: choose one of {', '.join(BUDGETS)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    seconds: dict[str, float] = {}

    started = time.perf_counter()
    data = load_bench(bench, source_dir=source_dir, distractors=plan.distractors)
    fractions = EvalConfig.model_fields["split_fractions"].default
    parts = split(data.questions, *fractions, seed=seed)
    leaked = {leak.train_id for leak in check_leakage(parts.train, parts.test).leaks}
    train = [item for item in parts.train if item.id not in leaked]
    seconds["bench"] = time.perf_counter() - started
    say(f"bench {bench}: {len(data.questions)} questions ({len(train)} train / {len(parts.test)} test; "
        f"{len(leaked)} training questions dropped as near-duplicates of test ones), "
        f"{plan.distractors} distractor documents; budget '{plan.name}'")

    adapters = _train_adapters(out, data, train, plan, seed, progress, say, seconds)

    started = time.perf_counter()
    run = _evaluate(out, bench, source_dir, plan, adapters, profile, seed, progress)
    seconds["eval"] = time.perf_counter() - started

    from ragft.report import write_report

    reports = write_report(run.path)
    return StudyResult(out=out, run_dir=run.path, reports=reports, verdict=run.verdict, table=run.table,
                       budget=plan, adapters=adapters, seconds=seconds)


def _train_adapters(out: Path, data, train_items, plan: Budget, seed: int, progress: bool,
                    say: Callable[[str], None], seconds: dict[str, float]) -> dict[str, Path]:
    """Two adapters, as the literature suggests: paraphrase-augmented Q/A for closed-book recall (Ovadia et
    al. 2023) and RAFT data for reading retrieved context (Zhang et al. 2024)."""
    from ragft.finetune import recipes
    from ragft.finetune.manifest import verify_adapter
    from ragft.finetune.train_local import TrainConfig, train_lora
    from ragft.llm.local_model import load_causal_lm
    from ragft.rag.engine import Index

    facts = recipes.facts_from_items(train_items, source="bench")
    config = TrainConfig(epochs=plan.epochs, batch_size=4, max_seq_len=plan.max_seq_len, max_steps=plan.train_steps,
                         seed=seed)
    wanted = {"fine-tuned": out / "adapters" / "paraphrase", "hybrid": out / "adapters" / "raft"}
    adapters: dict[str, Path] = {}
    for system, path in wanted.items():
        if _complete(path, verify_adapter):
            say(f"adapter for {system}: reusing {path}")
            adapters[system] = path
            continue
        started = time.perf_counter()
        if system == "fine-tuned":
            examples = recipes.build("paraphrase", facts, n=plan.paraphrases, seed=seed)
        else:
            with Index.open(out / "raft-index") as index:
                index.sync([data.corpus_dir], root=data.corpus_dir, progress=progress)
                examples = recipes.build("raft", facts, retriever=index, seed=seed)
        model, tokenizer = load_causal_lm()      # fresh base each time: LoRA layers are injected in place
        manifest = train_lora(examples, path, config=config, model=model, tokenizer=tokenizer,
                              progress=progress, overwrite=True)
        del model
        seconds[f"train_{system}"] = time.perf_counter() - started
        say(f"adapter for {system}: {len(examples)} examples, {manifest.steps} steps, "
            f"loss {manifest.losses[0]:.2f} -> {manifest.losses[-1]:.2f} in {manifest.seconds:.0f} s")
        adapters[system] = path
    return adapters


def _complete(path: Path, verify: Callable[[Path], Any]) -> bool:
    try:
        verify(path)
    except Exception:
        return False
    return True


def _evaluate(out: Path, bench: str, source_dir, plan: Budget, adapters: dict[str, Path], profile: str | None,
              seed: int, progress: bool):
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
    run_dir = out / "run"
    resume = run_dir if (run_dir / "manifest.json").exists() else None
    if resume is None and run_dir.exists():
        import shutil

        shutil.rmtree(run_dir)
    return run_eval(None if resume else config, out=run_dir, resume=resume, progress=progress)
