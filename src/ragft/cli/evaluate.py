"""`ragft eval`: eval sets (`make`), the built-in benchmarks (`bench list`, `bench prepare`) and the bench
itself (`run`, `compare`, `show`, `list`) over ragft.evaluate.runner.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ragft.cli.output import console, err_console, print_json

eval_app = typer.Typer(help="Measure systems on the same questions: eval sets and built-in benchmarks.",
                       no_args_is_help=True)
bench_app = typer.Typer(help="Built-in benchmarks made from real Debian packages.", no_args_is_help=True)
eval_app.add_typer(bench_app, name="bench")


def register(app: typer.Typer) -> None:
    app.add_typer(eval_app, name="eval")


@eval_app.command("make")
def make(
    corpus: Path = typer.Argument(..., metavar="CORPUS", help="Folder (or file): FAQ-shaped Markdown/RST or Q/A JSONL; any documents with --generator or --structure."),
    output: Path = typer.Option(Path("evalset.jsonl"), "--output", "--out", "-o", metavar="FILE", help="Where to write the eval set."),
    json_out: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    generator: Optional[str] = typer.Option(None, "--generator", metavar="NAME", help="Draft questions from plain documents with this generator (local, openai, anthropic, openai-compatible; none = structure only)."),
    model: Optional[str] = typer.Option(None, "--model", metavar="NAME", help="Model of --generator (local: base model)."),
    base_url: Optional[str] = typer.Option(None, "--base-url", metavar="URL", help="Server of an openai-compatible generator."),
    n: int = typer.Option(200, "--n", metavar="N", help="Questions wanted (one chunk sampled per question, stratified by document)."),
    seed: int = typer.Option(0, "--seed", metavar="N", help="Seed of the chunk sample."),
    price_model: Optional[str] = typer.Option(None, "--price-model", metavar="MODEL", help="Catalog model the estimate is priced at (default --model)."),
    structure: bool = typer.Option(False, "--structure", help="Also take pairs from headings and definition lists (free, offline)."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask before spending (needed without a terminal)."),
) -> None:
    """Build an eval set: from a corpus shaped as questions and answers, or (--generator/--structure) from
    any documents, with a cost estimate first and quality filters."""
    if generator is not None or structure:
        from ragft.cli.testset import make_from_docs

        return make_from_docs(corpus, output, generator, model=model, base_url=base_url, n=n, seed=seed,
                              price_model=price_model, structure=structure, yes=yes, json_out=json_out)
    from ragft.evaluate.evalset import make_evalset, save_evalset

    skipped: list[tuple[str, str]] = []
    items = make_evalset(corpus, skipped=skipped)
    save_evalset(items, output)
    summary = {"path": str(output), "questions": len(items),
               "with_relevant_ids": sum(bool(i.relevant_ids) for i in items),
               "documents": len({d for i in items for d in i.relevant_ids}),
               "skipped": [{"path": path, "reason": reason} for path, reason in skipped]}
    if json_out:
        return print_json(summary)
    console.print(f"wrote {summary['questions']} questions from {summary['documents']} documents to {output}",
                  soft_wrap=True)
    for _, reason in skipped:
        err_console.print(f"skipped {reason}", markup=False, highlight=False, soft_wrap=True)


@bench_app.command("list")
def list_(
    cache: Optional[Path] = typer.Option(None, "--cache", metavar="DIR", help="Bench cache (default ~/.cache/ragft/benches)."),
    json_out: bool = typer.Option(False, "--json", help="Print the list as JSON."),
) -> None:
    """The built-in benchmarks, their Debian package and whether they are prepared."""
    from ragft.evaluate.benches import default_cache_dir, list_benches

    home = cache or default_cache_dir()
    rows = [{"name": spec.name, "package": spec.package, "description": spec.description,
             "prepared": (home / spec.name / "build" / "manifest.json").is_file()} for spec in list_benches()]
    if json_out:
        return print_json(rows)
    from rich.table import Table

    table = Table("bench", "package", "prepared", "what")
    for row in rows:
        table.add_row(row["name"], row["package"], "yes" if row["prepared"] else "no", row["description"])
    console.print(table)


@bench_app.command("prepare")
def prepare(
    name: str = typer.Argument(..., metavar="NAME", help="python-faq or debian-faq."),
    source: Optional[Path] = typer.Option(None, "--from", metavar="DIR",
                                          help="Folder holding the extracted package (dpkg-deb -x); default: apt-get download."),
    cache: Optional[Path] = typer.Option(None, "--cache", metavar="DIR", help="Bench cache (default ~/.cache/ragft/benches)."),
    distractors: int = typer.Option(300, "--distractors", metavar="N", help="Distractor documents added to the corpus."),
    json_out: bool = typer.Option(False, "--json", help="Print the bench summary as JSON."),
) -> None:
    """Download (or read) the package, build the corpus and questions.jsonl, and print where they are."""
    from ragft.evaluate.benches import load_bench

    with err_console.status(f"preparing {name}..."):
        bench = load_bench(name, cache_dir=cache, source_dir=source, distractors=distractors)
    summary = {"name": bench.name, "questions": len(bench.questions), "documents": bench.documents,
               "distractors": bench.distractors, "corpus_dir": str(bench.corpus_dir),
               "questions_path": str(bench.questions_path), "source": bench.source}
    if json_out:
        return print_json(summary)
    src = bench.source
    console.print(f"{bench.name}: {summary['questions']} questions, {bench.documents} documents "
                  f"({bench.distractors} distractors) from {src.package} {src.version}")
    console.print(f"  corpus    {bench.corpus_dir}\n  questions {bench.questions_path}")
    console.print(f"  sha256    {src.deb_sha256 or 'no .deb (' + src.origin + ')'}")


# --- run, compare, show, list (the bench: ragft.evaluate.runner) ---------------------------------------

_RUN_FLAGS = ("bench", "evalset", "docs", "systems", "k", "limit", "repeat", "seed", "split", "warmup", "embedder",
              "price_model", "freshness_trials", "judge", "profile", "distractors", "engine", "concurrency", "address")


@eval_app.command("run")
def run(
    config_file: Optional[Path] = typer.Option(None, "--config", metavar="FILE", help="Run config (TOML/YAML/JSON); flags override it."),
    bench: Optional[str] = typer.Option(None, "--bench", metavar="NAMES", help="Built-in bench(es): python-faq, debian-faq (comma-separated)."),
    evalset: Optional[Path] = typer.Option(None, "--evalset", metavar="FILE", help="Eval-set JSONL (ragft eval make)."),
    docs: Optional[list[Path]] = typer.Option(None, "--docs", metavar="DIR", help="Corpus folder(s) for --evalset (repeatable)."),
    systems: Optional[str] = typer.Option(None, "--systems", metavar="LIST", help="closed-book,rag,fine-tuned,hybrid,rag-tuned-retriever (default closed-book,rag)."),
    generator: str = typer.Option("extractive", "--generator", metavar="NAME", help="Generator of closed-book and rag: extractive, local, openai, anthropic, openai-compatible."),
    model: Optional[str] = typer.Option(None, "--model", metavar="NAME", help="Model name passed to the generator."),
    base_url: Optional[str] = typer.Option(None, "--base-url", metavar="URL", help="Server of an openai-compatible generator."),
    temperature: Optional[float] = typer.Option(None, "--temperature", metavar="T", help="Sampling temperature (use with --repeat)."),
    adapter: Optional[Path] = typer.Option(None, "--adapter", metavar="DIR", help="LoRA adapter for fine-tuned and hybrid (local generator)."),
    retriever: Optional[Path] = typer.Option(None, "--retriever", metavar="DIR", help="Tuned embedder folder of rag-tuned-retriever (`ragft finetune retriever`)."),
    tuned_model: Optional[str] = typer.Option(None, "--tuned-model", metavar="NAME", help="Fine-tuned and hybrid answer with this model on --generator (a provider fine-tune such as ft:gpt-4o-mini:..., or a model served beside --model)."),
    finetune_job: Optional[str] = typer.Option(None, "--finetune-job", metavar="ID", help="Like --tuned-model, with the model a `ragft finetune jobs` job produced (its training cost and duration come from the job)."),
    jobs_ledger: Optional[Path] = typer.Option(None, "--jobs-ledger", metavar="FILE", help="Jobs ledger of `ragft finetune jobs` (default .ragft/finetune-jobs.json)."),
    k: Optional[int] = typer.Option(None, "--k", metavar="N", help="Chunks retrieved per question (default 5)."),
    limit: Optional[int] = typer.Option(None, "--limit", metavar="N", help="A seeded sample of N questions."),
    repeat: Optional[int] = typer.Option(None, "--repeat", metavar="N", help="Answer each question N times (seeds seed..seed+N-1)."),
    seed: Optional[int] = typer.Option(None, "--seed", metavar="N", help="Seed for sampling, bootstrap and generation (default 0)."),
    split: Optional[str] = typer.Option(None, "--split", metavar="PART", help="all, train, validation or test (default all)."),
    warmup: Optional[int] = typer.Option(None, "--warmup", metavar="N", help="Questions answered first and not timed (default 2)."),
    embedder: Optional[str] = typer.Option(None, "--embedder", metavar="NAME", help="Embedder of the run's index (default minilm)."),
    search_from: Optional[Path] = typer.Option(None, "--search-from", metavar="INDEX", help="Chunk and fuse the run's index as the index at INDEX does (its chunking and the search settings `ragft eval tune` saved)."),
    price_model: Optional[str] = typer.Option(None, "--price-model", metavar="MODEL", help="Catalog model the tokens are priced at (default gpt-4o-mini)."),
    volume: Optional[float] = typer.Option(None, "--volume", metavar="N", help="Queries per month for fixed costs (default 100000)."),
    freshness_trials: Optional[int] = typer.Option(None, "--freshness-trials", metavar="N", help="New-document trials per retrieving system (default 3)."),
    judge: Optional[str] = typer.Option(None, "--judge", metavar="GENERATOR", help="Also judge hallucination with this generator."),
    profile: Optional[str] = typer.Option(None, "--profile", metavar="FILE|EXAMPLE", help="advise profile for verdict.json (default: all left to data)."),
    source: Optional[Path] = typer.Option(None, "--from", metavar="DIR", help="Extracted Debian packages for --bench (default apt-get)."),
    distractors: Optional[int] = typer.Option(None, "--distractors", metavar="N", help="Distractor documents in a bench corpus (default 300)."),
    cache: Optional[Path] = typer.Option(None, "--cache", metavar="DIR", help="Bench cache (default ~/.cache/ragft/benches)."),
    engine: Optional[str] = typer.Option(None, "--engine", metavar="NAME", help="local (default) or ray: Ray actors answer (pip install 'ragft[cluster]')."),
    concurrency: Optional[int] = typer.Option(None, "--concurrency", metavar="N", help="Questions in flight: threads for provider generators; Ray actors with --engine ray."),
    address: Optional[str] = typer.Option(None, "--address", metavar="ADDR", help="Ray cluster for --engine ray: auto or ray://HOST:10001 (default: a local instance)."),
    out: Optional[Path] = typer.Option(None, "--out", metavar="DIR", help="Run folder (default runs/<timestamp>-<bench>)."),
    resume: Optional[Path] = typer.Option(None, "--resume", metavar="RUN_DIR", help="Finish an interrupted run."),
    all_rows: bool = typer.Option(False, "--all", help="Show every row (retrieval ranks, per-stage latency), not only the seed's."),
    json_out: bool = typer.Option(False, "--json", help="Print the table, verdict and run folder as JSON."),
    fail_under: Optional[str] = typer.Option(None, "--fail-under", metavar="[SYS:]METRIC=V,...", help="Exit 1 when a system's metric is below (e.g. token_f1=0.35,recall_at_5=0.85)."),
    fail_over: Optional[str] = typer.Option(None, "--fail-over", metavar="[SYS:]METRIC=V,...", help="Exit 1 when a system's metric is above (e.g. latency_p95=2.5,hallucination_rate=0.05)."),
    junit: Optional[Path] = typer.Option(None, "--junit", metavar="FILE", help="Write the threshold checks as JUnit XML."),
) -> None:
    """Answer the same questions with each system; print the seed's table measured, write the run folder."""
    from ragft.cli.progress import EvalProgress
    from ragft.evaluate.gate import parse_thresholds
    from ragft.evaluate.run_folder import DEFAULT_ROOT
    from ragft.evaluate.runner import evaluate
    from ragft.evaluate.runs import new_run_dir

    thresholds = parse_thresholds(fail_under, "under") + parse_thresholds(fail_over, "over")

    if resume is None:
        config = _run_config(config_file, locals())
        resume_hint = out = out or new_run_dir(DEFAULT_ROOT, config.label)
    else:
        resume_hint = resume
    try:
        with EvalProgress(enabled=not json_out) as on_progress:
            result = (evaluate(resume=resume, on_progress=on_progress) if resume
                      else evaluate(config, out=out, on_progress=on_progress))
    except KeyboardInterrupt:
        err_console.print(f"interrupted: answers so far are kept; continue with `ragft eval run --resume {resume_hint}`")
        raise typer.Exit(130)
    _print_run(result, json_out, all_rows)
    if thresholds or junit:
        from ragft.cli.gate import apply_gate

        apply_gate(result, thresholds, junit)


def _run_config(config_file: Optional[Path], flags: dict):
    from ragft.evaluate.config import config_from_mapping, load_config, parse_systems

    given = {key: flags[key] for key in _RUN_FLAGS if flags.get(key) is not None}
    given.update({"bench_source": flags["source"], "volume_per_month": flags["volume"], "bench_cache": flags["cache"],
                  "jobs_ledger": flags["jobs_ledger"]})
    given = {key: value for key, value in given.items() if value is not None}
    if "evalset" in given:
        given["evalset"] = str(given["evalset"])
    if "docs" in given:
        given["docs"] = [str(d) for d in given["docs"]]
    for key in ("bench_source", "bench_cache", "jobs_ledger"):
        if key in given:
            given[key] = str(given[key])
    if flags.get("search_from") is not None:
        from ragft.evaluate.config import retrieval_from_index

        given["retrieval"] = retrieval_from_index(flags["search_from"]).model_dump()
    options = {name: flags[name] for name in ("model", "base_url", "temperature") if flags[name] is not None}
    if "systems" in given or config_file is None:
        given["systems"] = [s.model_dump() for s in parse_systems(
            given.get("systems", "closed-book,rag"), flags["generator"],
            str(flags["adapter"]) if flags["adapter"] else None, options, given.get("k", 5),
            tuned_model=flags["tuned_model"], job=flags["finetune_job"],
            retriever=str(flags["retriever"]) if flags["retriever"] else None)]
    if config_file is not None:
        return load_config(config_file, given)
    return config_from_mapping(given, "flags")


def _print_run(result, json_out: bool, all_rows: bool = False) -> None:
    if json_out:
        return print_json({"run": str(result.path), "status": result.manifest.status, "table": result.table,
                           "verdict": result.verdict, "cost": _cost_summary(result.cost)})
    _print_table(result.table, all_rows)
    if result.verdict is not None:
        from ragft.cli.advise import show_decision

        show_decision(result.verdict)
    console.print(f"run folder: {result.path}  (questions.jsonl, questions.csv, table.json, cost.json, verdict.json)")


def _cost_summary(cost) -> Optional[dict]:
    if cost is None:
        return None
    return {s.name: {"per_1k_queries_usd": s.per_1k_queries_usd, "model": s.model} for s in cost.systems}


def _print_table(table, all_rows: bool = False) -> None:
    from rich.table import Table

    from ragft.evaluate.table import HEADLINE, format_value

    rows = table.rows if all_rows else [r for r in table.rows if r.key in HEADLINE]
    if console.width < 34 + 26 * len(table.systems) + 14:
        return _print_stacked(table, rows)
    grid = Table(title=f"{table.bench}: {table.n_questions} questions, {table.confidence:.0%} intervals",
                 title_justify="left")
    grid.add_column("metric")
    for system in table.systems:
        grid.add_column(system)
    grid.add_column("winner")
    # The seed's claims need room: beside the numbers on a wide terminal, in a table of their own otherwise.
    beside = console.width >= 40 * (len(table.systems) + 2)
    if beside:
        grid.add_column("seed says (RAG | fine-tuning | winner)", style="dim")
    claims = Table("metric", "seed says: RAG", "fine-tuning", "winner", title="what the seed claims",
                   title_justify="left", style="dim")
    for row in rows:
        said = [row.seed_claim.get(key, "") for key in ("rag", "fine-tuned", "winner")]
        values = [format_value(row.values[s]) for s in table.systems]
        grid.add_row(row.label, *values, row.winner, *([" | ".join(said)] if beside and any(said) else []))
        if any(said):
            claims.add_row(row.label, *said)
    console.print(grid)
    if not beside and claims.row_count:
        console.print(claims)


def _print_stacked(table, rows) -> None:
    """Too narrow for a column per system: one line per system under each metric, names never cut."""
    from rich.table import Table

    from ragft.evaluate.table import format_value

    grid = Table(title=f"{table.bench}: {table.n_questions} questions, {table.confidence:.0%} intervals",
                 title_justify="left")
    # Names never cut; the metric keeps a readable width and long values or notes wrap inside their cell.
    grid.add_column("metric", overflow="fold", min_width=14)
    grid.add_column("system", no_wrap=True, min_width=max(len(s) for s in table.systems))
    grid.add_column("value", overflow="fold")
    grid.add_column("winner", overflow="fold", min_width=8)
    for row in rows:
        for position, system in enumerate(table.systems):
            first = position == 0
            grid.add_row(row.label if first else "", system, format_value(row.values[system]),
                         row.winner if first else "", end_section=position == len(table.systems) - 1)
    console.print(grid)
    claims = [(row.label, *[row.seed_claim.get(k, "") for k in ("rag", "fine-tuned", "winner")]) for row in rows
              if row.seed_claim]
    if claims:
        console.print("what the seed claims (RAG | fine-tuning | winner):", style="dim")
        for label, *said in claims:
            console.print(f"  {label}: " + " | ".join(said), style="dim", highlight=False, soft_wrap=False)


@eval_app.command("compare")
def compare(
    run_a: Path = typer.Argument(..., metavar="RUN_A", help="A run folder."),
    run_b: Path = typer.Argument(..., metavar="RUN_B", help="Another run folder."),
    json_out: bool = typer.Option(False, "--json", help="Print the comparison as JSON."),
    fail_on_regression: bool = typer.Option(False, "--fail-on-regression", help="Exit 1 when a paired interval shows B worse than A on --metric."),
    metric: str = typer.Option("token_f1", "--metric", metavar="NAME", help="Metric of --fail-on-regression (default token_f1)."),
    junit: Optional[Path] = typer.Option(None, "--junit", metavar="FILE", help="Write the regression checks as JUnit XML."),
) -> None:
    """Per metric and system: A, B, B - A and which is better (paired on shared questions when possible)."""
    from rich.table import Table

    from ragft.evaluate.run_folder import load_run
    from ragft.evaluate.runs import compare_runs

    base, new = load_run(run_a), load_run(run_b)
    result = compare_runs(base, new)
    if fail_on_regression or junit:
        from ragft.cli.gate import regression_gate

        return regression_gate(base, new, metric, junit, result if json_out else None)
    if json_out:
        return print_json(result)
    grid = Table(title=f"A = {result.a}   B = {result.b}", title_justify="left")
    for name in ("metric", "system", "A", "B", "B - A", "better"):
        grid.add_column(name)
    for row in result.rows:
        diff = "" if row.difference is None else f"{row.difference:+.4g}"
        grid.add_row(row.label, row.system, row.a_text, row.b_text, diff, row.better)
    console.print(grid)


@eval_app.command("gate")
def gate(
    run_dir: Path = typer.Argument(..., metavar="RUN_DIR", help="A finished run folder."),
    fail_under: Optional[str] = typer.Option(None, "--fail-under", metavar="[SYS:]METRIC=V,...", help="Fail when a system's metric is below."),
    fail_over: Optional[str] = typer.Option(None, "--fail-over", metavar="[SYS:]METRIC=V,...", help="Fail when a system's metric is above."),
    junit: Optional[Path] = typer.Option(None, "--junit", metavar="FILE", help="Write the checks as JUnit XML."),
) -> None:
    """Check a finished run against thresholds; exit 1 naming each one that failed."""
    from ragft.evaluate.gate import parse_thresholds
    from ragft.evaluate.run_folder import load_run

    thresholds = parse_thresholds(fail_under, "under") + parse_thresholds(fail_over, "over")
    if not thresholds:
        from ragft.errors import InputError

        raise InputError("give --fail-under and/or --fail-over, e.g. --fail-under token_f1=0.35")
    from ragft.cli.gate import apply_gate

    apply_gate(load_run(run_dir), thresholds, junit)


@eval_app.command("show")
def show(
    run_dir: Path = typer.Argument(..., metavar="RUN_DIR", help="A run folder."),
    all_rows: bool = typer.Option(False, "--all", help="Show every row, not only the seed's."),
    json_out: bool = typer.Option(False, "--json", help="Print the run's table and verdict as JSON."),
) -> None:
    """Print a finished run's table and verdict again."""
    from ragft.evaluate.run_folder import load_run

    result = load_run(run_dir)
    result.finished_table()
    _print_run(result, json_out, all_rows)


@eval_app.command("list")
def list_runs(
    root: Path = typer.Option(Path("runs"), "--runs-dir", metavar="DIR", help="Folder holding run folders."),
    json_out: bool = typer.Option(False, "--json", help="Print the runs as JSON."),
) -> None:
    """Run folders with their status, bench, systems and question count."""
    from ragft.evaluate.run_folder import list_runs as find_runs

    rows = [{"run": str(run.path), "status": run.status, "bench": run.bench, "created_at": run.created_at,
             "systems": list(run.systems), "questions": run.questions}
            for run in find_runs(root) if not run.problem]
    if json_out:
        return print_json(rows)
    from rich.table import Table

    grid = Table("run", "status", "bench", "systems", "questions")
    for row in rows:
        grid.add_row(row["run"], row["status"], row["bench"], ",".join(row["systems"]), str(row["questions"]))
    console.print(grid)


# --- tune (ragft.evaluate.tuning) ----------------------------------------------------------------------------

@eval_app.command("tune")
def tune(
    evalset: Optional[Path] = typer.Option(None, "--evalset", "--eval-set", metavar="FILE", help="Eval-set JSONL with relevant_ids (ragft eval make)."),
    docs: Optional[list[Path]] = typer.Option(None, "--docs", metavar="DIR", help="Corpus folder(s) of --evalset, indexed into --index (repeatable)."),
    bench: Optional[str] = typer.Option(None, "--bench", metavar="NAME", help="A built-in bench instead: python-faq or debian-faq."),
    source: Optional[Path] = typer.Option(None, "--from", metavar="DIR", help="Extracted Debian package for --bench (default apt-get)."),
    cache: Optional[Path] = typer.Option(None, "--cache", metavar="DIR", help="Bench cache (default ~/.cache/ragft/benches)."),
    distractors: Optional[int] = typer.Option(None, "--distractors", metavar="N", help="Distractor documents in a bench corpus (default 300)."),
    index: Path = typer.Option(Path(".ragft/index"), "--index", metavar="DIR", help="The index to tune (it holds the corpus)."),
    seed: int = typer.Option(0, "--seed", metavar="N", help="Seed of the train/validation/test split."),
    k: Optional[int] = typer.Option(None, "--k", metavar="N", help="The k the current settings are compared at (default: saved, else 5)."),
    alphas: Optional[str] = typer.Option(None, "--alphas", metavar="LIST", help="Convex alphas (default 0.3,0.4,0.5,0.6,0.65,0.7,0.8,0.9)."),
    rrf_ks: Optional[str] = typer.Option(None, "--rrf-ks", metavar="LIST", help="RRF k values (default 10,20,60)."),
    bm25_weights: Optional[str] = typer.Option(None, "--bm25-weights", metavar="LIST", help="RRF BM25 weights (default 0.25,0.5,1)."),
    candidates: Optional[str] = typer.Option(None, "--candidates", metavar="LIST", help="Candidates per method (default 50,100,200)."),
    ks: Optional[str] = typer.Option(None, "--ks", metavar="LIST", help="k values (default 3,5,10)."),
    chunkings: Optional[str] = typer.Option(None, "--chunkings", metavar="T:O,...", help="Other chunkings to try, e.g. 100:16,400:64 (sibling indexes in <index>.tune/)."),
    embedders: Optional[str] = typer.Option(None, "--embedders", metavar="LIST", help="Other embedders to try (registry names, or `ragft finetune retriever` folders as ./PATH)."),
    time_budget: Optional[float] = typer.Option(None, "--time-budget", metavar="SECONDS", help="Stop the sweep when spent and choose among what was scored."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Report only: save nothing."),
    apply: bool = typer.Option(False, "--apply", "--yes", "-y", help="When another chunking/embedder wins, rebuild the index with it, then save."),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Tune retrieval on an eval set: sweep fusion, candidates, k, chunking and embedder on the train+validation
    split, save the choice into the index, and report it on the held-out test split beside the current settings."""
    from ragft.cli.progress import TuneProgress
    from ragft.evaluate.tuning import grid_from_text, load_tuning_questions, tune_index

    grid = grid_from_text(alphas, rrf_ks, bm25_weights, candidates, ks, chunkings, embedders)
    items, folders, origin = load_tuning_questions(evalset, docs or [], bench, source, cache, distractors)
    with TuneProgress(enabled=not json_out) as shown:
        outcome = tune_index(index, items, folders, origin, grid=grid, seed=seed, k=k, time_budget=time_budget,
                             dry_run=dry_run, rebuild=apply, on_progress=shown)
    if json_out:
        return print_json(outcome.to_dict())
    _print_tune(outcome, _tune_again(locals()))


def _tune_again(flags: dict) -> str:
    """The same `ragft eval tune` command with --apply: what rebuilds the index with the chosen chunking."""
    import shlex

    words = ["ragft", "eval", "tune"]
    for name in ("evalset", "bench", "source", "cache", "distractors", "index", "seed", "k", "alphas", "rrf_ks",
                 "bm25_weights", "candidates", "ks", "chunkings", "embedders"):
        value = flags.get(name)
        if value is not None:
            words += [{"source": "--from"}.get(name, "--" + name.replace("_", "-")), str(value)]
    for folder in flags.get("docs") or []:
        words += ["--docs", str(folder)]
    return shlex.join(words + ["--apply"])


def _print_tune(outcome, again: str) -> None:
    result = outcome.result
    split = result.split
    console.print(f"{outcome.origin}: tuned on "
                  f"{split['train'] + split['validation']} train+validation questions, tested on {split['test']} "
                  f"(split seed {split['seed']}); {result.evaluated}/{result.planned} settings scored in "
                  f"{result.seconds:.1f} s", soft_wrap=True, markup=False, highlight=False)
    if not result.complete:
        console.print(f"time budget spent: stopped after {result.evaluated} of {result.planned} settings; the choice "
                      "is the best of those", soft_wrap=True, markup=False, highlight=False)
    from ragft.evaluate.tuning import describe
    from ragft.rag.search import SearchConfig

    for label, setting in (("current", result.baseline), ("chosen", result.best)):
        console.print(f"  {label:<8} {setting.embedder}, chunks {setting.chunk_tokens}/{setting.overlap}, "
                      f"{describe(setting.config)}, k={setting.k}: train+validation nDCG@10 {setting.ndcg:.3f}",
                      soft_wrap=True, markup=False, highlight=False)
    for metric in ("ndcg@10", "recall@k"):
        figure = result.test[metric]
        console.print(f"  test {metric}: current {figure['baseline']:.3f}, chosen {figure['tuned']:.3f}, difference "
                      f"{figure['difference']:+.3f} (95% paired bootstrap [{figure['low']:+.3f}, {figure['high']:+.3f}]"
                      f": {figure['winner']})", soft_wrap=True, markup=False, highlight=False)
    cache = result.embedding_cache
    if result.indexes:
        synced = (f"embedding cache {cache['sibling_hits']} hits, {cache['sibling_misses']} misses"
                  if cache["sibling_hits"] or cache["sibling_misses"] else "up to date, nothing embedded")
        console.print(f"  sibling indexes in {Path(result.indexes[0]['path']).parent}: {synced}", soft_wrap=True,
                      markup=False, highlight=False)
    if outcome.saved:
        what = "rebuilt the index and saved" if outcome.rebuilt else "saved"
        console.print(f"{what} into {outcome.index}: {describe(SearchConfig.from_json(outcome.saved['search']))}, "
                      f"k={outcome.saved['k']}", soft_wrap=True, markup=False, highlight=False)
        console.print(f"ragft search/ask/serve on it use them; measure them end to end with `ragft eval run ... "
                      f"--search-from {outcome.index}`", soft_wrap=True, markup=False, highlight=False)
    elif outcome.saved is None:
        console.print("dry run: nothing saved", markup=False, highlight=False)
    if outcome.rebuild_needed:
        change = outcome.rebuild_needed
        console.print(f"the chosen setting needs the index rebuilt with {change['embedder']}, chunk_tokens="
                      f"{change['chunk_tokens']} overlap={change['overlap']} (it has {change['from']['embedder']}, "
                      f"{change['from']['chunk_tokens']}/{change['from']['overlap']}); settings that keep the "
                      f"current chunking were {'saved' if outcome.saved else 'not saved'}. To rebuild and save: "
                      f"{again}", soft_wrap=True, markup=False, highlight=False)

