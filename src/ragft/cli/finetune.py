"""`ragft finetune`: prepare/validate datasets, estimate, train a local LoRA adapter, run provider jobs."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ragft.cli.output import console, print_json

finetune_app = typer.Typer(help="Fine-tuning: datasets, estimates, local LoRA training, provider jobs.",
                           no_args_is_help=True)
jobs_app = typer.Typer(help="Provider fine-tuning jobs (OpenAI wire format; key from OPENAI_API_KEY).",
                       no_args_is_help=True)
finetune_app.add_typer(jobs_app, name="jobs")


def register(app: typer.Typer) -> None:
    app.add_typer(finetune_app, name="finetune")


def say(text: str) -> None:
    console.print(text, soft_wrap=True, highlight=False, markup=False)


def _device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _eval_questions(eval_set: Optional[Path]) -> list[str]:
    if eval_set is None:
        return []
    from ragft.evaluate.evalset import load_evalset

    return [item.question for item in load_evalset(eval_set)]


def _eval_chunks(eval_set: Optional[Path]) -> list[str]:
    from ragft.evaluate.testset import eval_chunk_texts

    return eval_chunk_texts(eval_set) if eval_set is not None else []


def _print_issues(issues) -> None:
    for issue in issues:
        typer.echo(str(issue), err=True)


# ---------------------------------------------------------------- prepare / validate

@finetune_app.command()
def prepare(
    inputs: list[Path] = typer.Argument(None, help="JSONL files of examples (chat, prompt/completion or question/answer)."),
    out: Path = typer.Option(..., "--out", help="Folder to write the prepared dataset to (must not exist)."),
    from_docs: Optional[Path] = typer.Option(None, help="Build Q/A facts offline from a FAQ-shaped corpus folder."),
    from_index: Optional[Path] = typer.Option(None, help="Build Q/A facts from this index's chunks with --generator."),
    generator: Optional[str] = typer.Option(None, help="Generator for Q/A pairs (with --from-index) or LLM paraphrases."),
    per_chunk: int = typer.Option(2, help="Q/A pairs asked per chunk (with --from-index)."),
    recipe: str = typer.Option("qa", help="qa | paraphrase | raft"),
    paraphrases: int = typer.Option(3, help="Wordings per fact (paraphrase recipe)."),
    index: Optional[Path] = typer.Option(None, help="Index used to retrieve distractor passages (raft recipe)."),
    distractors: int = typer.Option(2, help="Distractor passages per example (raft)."),
    p_no_gold: float = typer.Option(0.2, help="Share of raft examples without the gold passage."),
    system: Optional[str] = typer.Option(None, help="System message added to every example."),
    val_fraction: float = typer.Option(0.1, help="Share of facts held out for validation."),
    seed: int = typer.Option(0, help="Seed for the split and the recipes."),
    eval_set: Optional[Path] = typer.Option(None, help="Eval-set JSONL whose questions must not leak into training."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Build a training set (recipe, split, checks) and write ragft JSONL, OpenAI JSONL and an HF dataset."""
    from ragft.errors import InputError
    from ragft.finetune.prepare import prepare_dataset

    sources = [bool(inputs), from_docs is not None, from_index is not None]
    if sum(sources) != 1:
        raise InputError("give exactly one source: JSONL files, --from-docs DIR or --from-index PATH --generator NAME")
    result = prepare_dataset(
        out, inputs=inputs or [], from_docs=from_docs, from_index=from_index, generator=generator,
        per_chunk=per_chunk, recipe=recipe, paraphrases=paraphrases, index=index, distractors=distractors,
        p_no_gold=p_no_gold, system=system, val_fraction=val_fraction, seed=seed,
        eval_questions=_eval_questions(eval_set), on_issues=_print_issues, eval_chunks=_eval_chunks(eval_set))
    if as_json:
        print_json(result)
        return
    say(f"{result['train']} training and {result['validation']} validation examples "
                  f"({result['recipe']}, {result['facts']} facts) written to {out}")
    if result.get("excluded_eval_chunk_facts"):
        say(f"  left out {result['excluded_eval_chunk_facts']} facts drawn from the eval set's chunks")
    for name, path in result["files"].items():
        say(f"  {name}: {path}")


@finetune_app.command()
def validate(
    dataset: Path = typer.Argument(..., help="JSONL file of examples."),
    model: str = typer.Option("gemma3-270m", help="Model the data is for: a local base (its tokenizer counts) or a provider model."),
    context: int = typer.Option(32768, help="The model's context length in tokens."),
    max_seq_len: Optional[int] = typer.Option(256, help="Warn about examples longer than the training length."),
    eval_set: Optional[Path] = typer.Option(None, help="Eval-set JSONL to check for leakage."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Check schema, empty fields, duplicates, token lengths and leakage; one line per problem, exit 1 on errors."""
    from ragft.errors import InputError
    from ragft.finetune.dataset import read_jsonl
    from ragft.finetune.dataset import validate as run_checks
    from ragft.finetune.prepare import counter_for_model

    examples, issues = read_jsonl(dataset)
    report = run_checks(examples, issues=issues, counter=counter_for_model(model), context_length=context,
                        max_seq_len=max_seq_len, eval_questions=_eval_questions(eval_set))
    if as_json:
        print_json(report.__dict__ | {"issues": [str(i) for i in report.issues], "ok": report.ok})
    else:
        _print_issues(report.issues)
        say(f"{report.examples} examples, tokens min/median/max {report.tokens_min}/"
                      f"{report.tokens_median:g}/{report.tokens_max} ({report.token_counter}); "
                      f"{len(report.errors)} errors, {len(report.issues) - len(report.errors)} warnings")
    if not report.ok:
        raise InputError(f"{dataset}: {len(report.errors)} problem(s) found (listed above); fix them and re-run")


# ---------------------------------------------------------------- estimate / train

def _config(epochs, batch_size, learning_rate, r, alpha, max_seq_len, max_steps, checkpoint_every, seed):
    from pydantic import ValidationError

    from ragft.errors import InputError
    from ragft.finetune.train_local import TrainConfig

    try:
        return TrainConfig(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, r=r, alpha=alpha,
                           max_seq_len=max_seq_len, max_steps=max_steps, checkpoint_every=checkpoint_every,
                           seed=seed)
    except ValidationError as error:
        first = error.errors()[0]
        raise InputError(f"--{str(first['loc'][0]).replace('_', '-')}: {first['msg']}") from None


@finetune_app.command()
def estimate(
    dataset: Path = typer.Argument(..., help="JSONL file of training examples."),
    model: Optional[str] = typer.Option(None, help="Provider model to fine-tune (e.g. gpt-4.1-mini); omit for local."),
    epochs: int = typer.Option(3, help="Epochs."),
    price_per_1m: Optional[float] = typer.Option(None, help="Training price per 1M tokens (default: the catalog's)."),
    base: str = typer.Option("gemma3-270m", help="Local base model (when no --model)."),
    device: str = typer.Option("auto", help="cpu | cuda | auto"),
    batch_size: int = typer.Option(4),
    max_seq_len: int = typer.Option(256),
    max_cost: Optional[float] = typer.Option(None, help="Fail if the estimated cost exceeds this many dollars."),
    max_minutes: Optional[float] = typer.Option(None, help="Fail if the estimated local time exceeds this."),
    as_json: bool = typer.Option(False, "--json", help="Print the estimate as JSON."),
) -> None:
    """Tokens, epochs, steps and cost (provider) or time (local, from 2 measured steps) before training."""
    from ragft.finetune.dataset import load_jsonl
    from ragft.finetune.estimate import check_budget, local_estimate, provider_estimate

    examples = load_jsonl(dataset)
    if model:
        result = provider_estimate(examples, model, epochs=epochs, price_per_1m=price_per_1m)
    else:
        config = _config(epochs, batch_size, 2e-4, 8, 16, max_seq_len, None, 50, 0)
        with console.status("measuring 2 training steps on this machine..."):
            result = local_estimate(examples, config, base=base, device=_device(device))
    _show_estimate(result, as_json)
    check_budget(result, max_cost=max_cost, max_minutes=max_minutes)


def _show_estimate(result, as_json: bool) -> None:
    if as_json:
        print_json(result)
        return
    say(f"{result.target}: {result.examples} examples, {result.tokens_per_epoch:,} tokens/epoch x "
                  f"{result.epochs} epochs = {result.training_tokens:,} training tokens ({result.token_counter})")
    if result.cost_usd is not None:
        say(f"cost ${result.cost_usd:.2f} at ${result.price_per_1m}/1M ({result.price_source})")
    if result.seconds is not None:
        say(f"{result.steps} steps x {result.seconds_per_step:.2f} s (measured on {result.device}) "
                      f"= {result.seconds / 60:.1f} min")


@finetune_app.command()
def train(
    dataset: Path = typer.Argument(..., help="JSONL file of training examples."),
    out: Path = typer.Option(..., "--out", help="Adapter folder to write."),
    base: str = typer.Option("gemma3-270m", help="Bundled base model name or a local HF model folder."),
    device: str = typer.Option("auto", help="cpu | cuda | auto"),
    epochs: int = typer.Option(3),
    batch_size: int = typer.Option(4),
    learning_rate: float = typer.Option(2e-4, "--lr"),
    r: int = typer.Option(8, help="LoRA rank."),
    alpha: int = typer.Option(16, help="LoRA alpha."),
    max_seq_len: int = typer.Option(256),
    max_steps: Optional[int] = typer.Option(None, help="Stop after this many steps."),
    checkpoint_every: int = typer.Option(50, help="Write a resumable checkpoint every N steps."),
    seed: int = typer.Option(0),
    resume: bool = typer.Option(False, "--resume", help="Continue from the latest checkpoint of --out."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing adapter at --out."),
    max_minutes: Optional[float] = typer.Option(None, help="Measure 2 steps first; refuse if the estimate exceeds this."),
    as_json: bool = typer.Option(False, "--json", help="Print the adapter manifest as JSON."),
) -> None:
    """Train a LoRA adapter locally (resumable, checkpointed); the adapter is written atomically with a manifest."""
    from ragft.cli.progress import StageProgress
    from ragft.finetune.dataset import load_jsonl
    from ragft.finetune.estimate import check_budget, local_estimate
    from ragft.finetune.train_local import load_base, train_lora

    examples = load_jsonl(dataset)
    config = _config(epochs, batch_size, learning_rate, r, alpha, max_seq_len, max_steps, checkpoint_every, seed)
    device = _device(device)
    with console.status(f"loading {base}..."):
        model, tokenizer = load_base(base, device)
    if max_minutes is not None:
        result = local_estimate(examples, config, base=base, device=device, model=model, tokenizer=tokenizer)
        check_budget(result, max_minutes=max_minutes)
    try:
        with StageProgress(not as_json) as shown:
            manifest = train_lora(examples, out, base=base, config=config, device=device, resume=resume,
                                  overwrite=overwrite, model=model, tokenizer=tokenizer, base_sha256=_base_sha(base),
                                  on_progress=shown, on_step=lambda step, loss: shown.note(f"loss {loss:.3f}"))
    except KeyboardInterrupt:
        _interrupted(out, checkpoint_every)
    if as_json:
        print_json(manifest)
        return
    say(f"adapter written to {out}: {manifest.steps} steps in {manifest.seconds:.0f} s, loss "
                  f"{manifest.losses[0]:.3f} -> {manifest.losses[-1]:.3f}")


def _interrupted(out: Path, checkpoint_every: int) -> None:
    from ragft.finetune.train_local import checkpoint_root

    typer.echo(f"interrupted: nothing written to {out}; checkpoints (every {checkpoint_every} steps) are in "
               f"{checkpoint_root(out)}: run the same command with --resume to continue", err=True)
    raise SystemExit(130) from None


def _base_sha(base: str) -> str | None:
    """The GGUF sha256 of a bundled base (recorded instead of hashing the weights)."""
    from ragft.llm.local_model import BUNDLED_MODELS

    if base not in BUNDLED_MODELS:
        return None
    import importlib

    return importlib.import_module(BUNDLED_MODELS[base]).EXPECTED_SHA256


# ---------------------------------------------------------------- retriever

@finetune_app.command()
def retriever(
    pairs_from: str = typer.Option(..., "--pairs-from", help="evalset | generator | documents"),
    out: Path = typer.Option(..., "--out", help="Embedder folder to write (use it as --embedder FOLDER)."),
    docs: Optional[Path] = typer.Option(None, "--docs", help="Corpus folder (the documents the pairs come from)."),
    evalset: Optional[Path] = typer.Option(None, "--evalset", help="Eval-set JSONL (--pairs-from evalset)."),
    bench: Optional[str] = typer.Option(None, "--bench", help="A built-in bench instead of --evalset/--docs."),
    bench_source: Optional[Path] = typer.Option(None, "--from", metavar="DIR", help="Extracted Debian packages for --bench (default apt-get)."),
    split: str = typer.Option("train", help="Eval-set questions trained on: train | validation | test | all."),
    split_seed: int = typer.Option(0, help="Seed of the train/validation/test split (as `ragft eval run`)."),
    generator: Optional[str] = typer.Option(None, help="Generator drafting questions (--pairs-from generator)."),
    model: Optional[str] = typer.Option(None, help="The generator's model."),
    base_url: Optional[str] = typer.Option(None, help="The generator's server (openai-compatible)."),
    n: int = typer.Option(500, "--n", help="Chunks the generator drafts a question from."),
    per_chunk: int = typer.Option(1, help="Inverse-cloze sentences per chunk (--pairs-from documents)."),
    max_pairs: Optional[int] = typer.Option(None, help="Keep at most this many pairs (--pairs-from documents)."),
    epochs: int = typer.Option(1),
    batch_size: int = typer.Option(32),
    learning_rate: float = typer.Option(3e-5, "--lr"),
    query_tokens: int = typer.Option(32, help="Queries are cut to this many tokens while training."),
    passage_tokens: int = typer.Option(128, help="Passages are cut to this many tokens while training."),
    hard_negatives: bool = typer.Option(True, "--hard-negatives/--no-hard-negatives",
                                        help="Add one mined hard negative per pair."),
    skip_top: int = typer.Option(2, help="Nearest non-positive chunks not used as hard negatives."),
    max_steps: Optional[int] = typer.Option(None, help="Stop after this many steps."),
    max_minutes: Optional[float] = typer.Option(None, help="Stop training after this many minutes."),
    checkpoint_every: int = typer.Option(100, help="Write a resumable checkpoint every N steps."),
    seed: int = typer.Option(0),
    device: str = typer.Option("auto", help="cpu | cuda | auto"),
    name: Optional[str] = typer.Option(None, help="Name recorded in the manifest (default: the folder name)."),
    resume: bool = typer.Option(False, "--resume", help="Continue from the latest checkpoint of --out."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing folder at --out."),
    as_json: bool = typer.Option(False, "--json", help="Print the embedder manifest as JSON."),
) -> None:
    """Fine-tune the bundled MiniLM retriever on (query, passage) pairs; index with it by --embedder OUT."""
    from ragft.cli.progress import StageProgress
    from ragft.evaluate.training_pairs import collect_pairs
    from ragft.finetune.retriever import RetrieverConfig, train_retriever

    config = RetrieverConfig(learning_rate=learning_rate, epochs=epochs, batch_size=batch_size,
                             query_tokens=query_tokens, passage_tokens=passage_tokens, hard_negatives=hard_negatives,
                             skip_top=skip_top, max_steps=max_steps, checkpoint_every=checkpoint_every, seed=seed)
    if out.exists() and not overwrite:
        from ragft.errors import InputError

        raise InputError(f"{out}: already exists; choose another --out or pass --overwrite")
    with StageProgress(not as_json) as on_progress:
        pair_set = collect_pairs(pairs_from, docs=docs, evalset=evalset, bench=bench, bench_source=bench_source,
                                 split=split, split_seed=split_seed, generator=generator, model=model,
                                 base_url=base_url, n=n, per_chunk=per_chunk, max_pairs=max_pairs, seed=seed,
                                 on_progress=lambda done, total: on_progress("drafting", done, total))
        try:
            manifest = train_retriever(pair_set, out, config=config, name=name,
                                       device=None if device == "auto" else device, resume=resume,
                                       overwrite=overwrite, on_progress=on_progress,
                                       max_seconds=None if max_minutes is None else max_minutes * 60)
        except KeyboardInterrupt:
            _interrupted(out, checkpoint_every)
    if as_json:
        print_json(manifest)
        return
    early = " (stopped at --max-minutes)" if manifest.stopped_early else ""
    say(f"retriever written to {out}: {manifest.counts['pairs']} pairs ({pairs_from}), {manifest.steps} steps"
        f"{early} in {manifest.seconds:.0f} s ({manifest.cpu_seconds:.0f} CPU-s), loss {manifest.losses[0]:.3f} -> "
        f"{manifest.losses[-1]:.3f}")
    from ragft.rag.embedders.tuned import folder_reference

    say(f"index with it: ragft index DOCS --index PATH --embedder {folder_reference(out)} --rebuild")


# ---------------------------------------------------------------- provider jobs

def _client(base_url: Optional[str]):
    from ragft.finetune.providers import OpenAIFineTuning

    return OpenAIFineTuning(base_url=base_url)


def _ledger(path: Optional[Path]):
    from ragft.finetune.providers import DEFAULT_LEDGER, JobsLedger

    return JobsLedger(path or DEFAULT_LEDGER)


def _show_job(job, as_json: bool) -> None:
    if as_json:
        print_json(job)
        return
    tail = f" -> {job.fine_tuned_model}" if job.fine_tuned_model else ""
    error = f" ({job.error.get('message')})" if job.error else ""
    say(f"{job.id}: {job.status} [{job.model}]{tail}{error}")


def _wait(client, ledger, job_id: str, as_json: bool, poll: float):
    def seen(job) -> None:
        ledger.record(job)
        if not as_json:
            typer.echo(f"{job.id}: {job.status}", err=True)

    job = client.wait(job_id, first_interval=poll, on_status=seen)
    ledger.record(job)
    return job


@jobs_app.command("create")
def jobs_create(
    dataset: Path = typer.Argument(..., help="OpenAI chat JSONL (from `ragft finetune prepare`) or any ragft JSONL."),
    model: str = typer.Option(..., help="Base model to fine-tune, e.g. gpt-4.1-mini-2025-04-14."),
    validation_file: Optional[Path] = typer.Option(None, help="Validation JSONL."),
    epochs: Optional[int] = typer.Option(None, help="n_epochs (default: provider's auto)."),
    suffix: Optional[str] = typer.Option(None, help="Up to 18 characters added to the model name."),
    seed: Optional[int] = typer.Option(None),
    price_per_1m: Optional[float] = typer.Option(None, help="Training price per 1M tokens (default: the catalog's)."),
    max_cost: Optional[float] = typer.Option(None, help="Refuse to start if the estimated cost exceeds this."),
    wait: bool = typer.Option(False, "--wait", help="Poll until the job succeeds, fails or is cancelled."),
    poll: float = typer.Option(5.0, help="First polling interval in seconds with --wait (grows x1.5 to 60)."),
    base_url: Optional[str] = typer.Option(None, help="API base URL (default: $OPENAI_BASE_URL or OpenAI)."),
    ledger: Optional[Path] = typer.Option(None, help="Jobs ledger JSON (default: .ragft/finetune-jobs.json)."),
    as_json: bool = typer.Option(False, "--json", help="Print the job as JSON."),
) -> None:
    """Estimate, upload the file(s), create the job, record it in the ledger (and optionally wait)."""
    from ragft.finetune.dataset import export_openai, load_jsonl
    from ragft.finetune.estimate import DEFAULT_PROVIDER_EPOCHS, check_budget, provider_estimate
    from ragft.finetune.providers import catalog_model_name

    examples = load_jsonl(dataset)
    if max_cost is not None:
        result = provider_estimate(examples, catalog_model_name(model), epochs=epochs or DEFAULT_PROVIDER_EPOCHS,
                                   price_per_1m=price_per_1m)
        check_budget(result, max_cost=max_cost)
    client, book = _client(base_url), _ledger(ledger)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:   # always upload the canonical chat format
        training = client.upload_file(export_openai(examples, Path(tmp) / dataset.name))
        validation = None
        if validation_file:
            validation = client.upload_file(export_openai(load_jsonl(validation_file),
                                                          Path(tmp) / f"val-{validation_file.name}"))
    job = client.create_job(training, model, validation_file=validation, suffix=suffix, seed=seed,
                            hyperparameters={"n_epochs": epochs} if epochs else None)
    book.record(job, data_file=str(dataset), base_url=client.base_url)
    if wait:
        job = _wait(client, book, job.id, as_json, poll)
    _show_job(job, as_json)


@jobs_app.command("status")
def jobs_status(
    job_id: str = typer.Argument(...),
    wait: bool = typer.Option(False, "--wait", help="Poll until the job is finished."),
    poll: float = typer.Option(5.0, help="First polling interval in seconds (grows x1.5 to 60)."),
    base_url: Optional[str] = typer.Option(None),
    ledger: Optional[Path] = typer.Option(None),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Show (and record) a job's status; with --wait, poll with backoff until it is finished."""
    client, book = _client(base_url), _ledger(ledger)
    job = _wait(client, book, job_id, as_json, poll) if wait else client.get_job(job_id)
    book.record(job)
    _show_job(job, as_json)


@jobs_app.command("cancel")
def jobs_cancel(
    job_id: str = typer.Argument(...),
    base_url: Optional[str] = typer.Option(None),
    ledger: Optional[Path] = typer.Option(None),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Cancel a running job."""
    client, book = _client(base_url), _ledger(ledger)
    job = client.cancel_job(job_id)
    book.record(job)
    _show_job(job, as_json)


@jobs_app.command("list")
def jobs_list(
    limit: int = typer.Option(20),
    local: bool = typer.Option(False, "--local", help="List the local ledger only (no network)."),
    base_url: Optional[str] = typer.Option(None),
    ledger: Optional[Path] = typer.Option(None),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List recent jobs from the provider (or the local ledger with --local)."""
    if local:
        entries = list(_ledger(ledger).entries().values())[-limit:]
        if as_json:
            print_json(entries)
            return
        for entry in entries:
            say(f"{entry['id']}: {entry['status']} [{entry['model']}] {entry.get('fine_tuned_model') or ''}")
        return
    jobs = _client(base_url).list_jobs(limit)
    if as_json:
        print_json(jobs)
        return
    for job in jobs:
        _show_job(job, False)
