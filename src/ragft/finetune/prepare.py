"""Preparing a training-set folder: facts in, recipe applied per split side, checked, written in three formats."""
from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ragft.costs.tokens import TokenCounter
from ragft.errors import InputError
from ragft.finetune.dataset import (
    Example,
    Issue,
    approx_counter,
    data_hash,
    export_hf,
    export_openai,
    find_duplicates,
    read_jsonl,
    split,
    to_jsonl,
    tokenizer_counter,
    validate,
)
from ragft.finetune.manifest import staged_dir
from ragft.finetune.recipes import build, facts_from_chunks, facts_from_corpus
from ragft.text import drawn_from_eval_chunks


def counter_for_model(model: str) -> TokenCounter:
    """The model's own tokenizer for a local base; a catalog model's tokenizer; else cl100k (documented)."""
    from ragft.llm.local_model import BUNDLED_MODELS

    if model in BUNDLED_MODELS or (Path(model) / "config.json").is_file():
        from transformers import AutoTokenizer

        from ragft.llm.local_model import resolve_base

        return tokenizer_counter(AutoTokenizer.from_pretrained(resolve_base(model)), model)
    from ragft.costs.prices import load_catalog
    from ragft.costs.tokens import counter_for
    from ragft.finetune.providers import catalog_model_name

    chat = load_catalog().chat.get(catalog_model_name(model))
    return counter_for(chat.tokenizer) if chat else approx_counter()


def load_facts(inputs: Sequence[Path], from_docs: Path | None, from_index: Path | None,
               generator: Any, per_chunk: int) -> tuple[list[Example], list[Issue]]:
    if from_docs is not None:
        return facts_from_corpus(str(from_docs)), []
    if from_index is not None:
        if generator is None:
            raise InputError("--from-index needs --generator NAME to write Q/A pairs for each chunk")
        from ragft.rag.engine import Index

        with Index.open(from_index, create=False) as index:
            return facts_from_chunks(list(index.store.chunks()), generator, per_chunk), []
    facts, issues = [], []
    for path in inputs:
        more, problems = read_jsonl(path)
        facts += more
        issues += problems
    return facts, issues


def drop_bad_records(facts: list[Example], issues: list[Issue]) -> tuple[list[Example], list[Issue]]:
    """Facts without the ones that repeat an earlier fact, and the issues of every record left out: broken or
    incomplete lines (already not facts) and duplicates, as warnings: one bad record never stops a prepare."""
    repeats = find_duplicates(facts)
    dropped = {issue.where for issue in repeats}
    kept = [fact for fact in facts if fact.where not in dropped]
    skipped = sorted((Issue("warning", issue.where, f"skipped: {issue.message}") for issue in [*issues, *repeats]
                      if issue.level == "error"), key=_file_then_line)
    return kept, skipped + [issue for issue in issues if issue.level != "error"]


def _file_then_line(issue: Issue) -> tuple[str, int]:
    path, _, line = issue.where.rpartition(":")
    return (path, int(line)) if line.isdigit() else (issue.where, 0)


def _fail(issues: list[Issue], on_issues: Callable[[list[Issue]], None] | None) -> None:
    errors = [i for i in issues if i.level == "error"]
    if errors:
        if on_issues:
            on_issues(issues)
        listed = " (listed above)" if on_issues else ""
        raise InputError(f"{len(errors)} problem(s) in the training data{listed}; first: {errors[0]}")


def prepare_dataset(
    out: Path, *, inputs: Sequence[Path] = (), from_docs: Path | None = None, from_index: Path | None = None,
    generator: str | None = None, per_chunk: int = 2, recipe: str = "qa", paraphrases: int = 3,
    index: Path | None = None, distractors: int = 2, p_no_gold: float = 0.2, system: str | None = None,
    val_fraction: float = 0.1, seed: int = 0, eval_questions: Sequence[str] = (),
    on_issues: Callable[[list[Issue]], None] | None = None, eval_chunks: Sequence[str] = (),
) -> dict[str, Any]:
    """Write train/validation as ragft JSONL, OpenAI chat JSONL and an HF dataset folder into `out`.

    The split is made on facts before the recipe runs, so rewordings and RAFT variants of one fact never
    straddle train and validation. A bad input record (broken or incomplete line, invalid UTF-8, a repeat of
    an earlier fact) is skipped and reported through `on_issues` and the manifest's `skipped`; a problem of
    the built set (leakage into the eval set, an example over the context) stops before writing."""
    from ragft.llm.base import create_generator

    gen = create_generator(generator) if generator else None
    facts, issues = load_facts(inputs, from_docs, from_index, gen, per_chunk)
    facts, skipped = drop_bad_records(facts, issues)
    if skipped and on_issues:
        on_issues(skipped)
    held_out = 0
    if eval_chunks:     # chunks a generated eval set asked about (ragft.evaluate.testset): kept out of training
        kept = [f for f in facts if not drawn_from_eval_chunks(f.context, eval_chunks)]
        held_out, facts = len(facts) - len(kept), kept
    if not facts:
        first = f"; first problem: {skipped[0]}" if skipped else ""
        left_out = f" ({held_out} drawn from the eval set's chunks were left out)" if held_out else ""
        raise InputError(f"no usable facts found in the given source{left_out}{first}")
    if system:
        facts = [replace(f, system=system) for f in facts]
    train_facts, val_facts = split(facts, val_fraction, seed)
    options: dict[str, Any] = {"n": paraphrases, "generator": gen, "seed": seed, "distractors": distractors,
                               "p_no_gold": p_no_gold}
    retriever = None
    if index is not None:
        from ragft.rag.engine import Index

        retriever = options["retriever"] = Index.open(index, create=False)
    try:
        train = build(recipe, train_facts, **options)
        val = build(recipe, val_facts, **options) if val_facts else []
    finally:
        if retriever is not None:
            retriever.close()
    report = validate(train + val, eval_questions=eval_questions)
    _fail(report.issues, on_issues)
    files = {"train": "train.jsonl", "validation": "validation.jsonl", "openai_train": "openai/train.jsonl",
             "openai_validation": "openai/validation.jsonl", "hf": "hf", "manifest": "prepare.json"}
    summary = {"recipe": recipe, "facts": len(facts), "train": len(train), "validation": len(val), "seed": seed,
               "val_fraction": val_fraction, "options": {k: v for k, v in options.items()
                                                         if k not in ("generator", "retriever")},
               "generator": generator, "index": str(index) if index else None,
               "sources": [str(p) for p in inputs] or [str(from_docs or from_index)],
               "train_sha256": data_hash(train), "validation_sha256": data_hash(val),
               "tokens": report.tokens_total, "token_counter": report.token_counter,
               "excluded_eval_chunk_facts": held_out,
               "skipped": [str(issue) for issue in skipped],
               "files": {k: str(Path(out) / v) for k, v in files.items()}}
    with staged_dir(Path(out)) as tmp:
        (tmp / "train.jsonl").write_text(to_jsonl(train))
        (tmp / "validation.jsonl").write_text(to_jsonl(val))
        export_openai(train, tmp / "openai" / "train.jsonl")
        export_openai(val, tmp / "openai" / "validation.jsonl")
        export_hf({"train": train, "validation": val}, tmp / "hf")
        (tmp / "prepare.json").write_text(json.dumps(summary, indent=2))
    return summary
