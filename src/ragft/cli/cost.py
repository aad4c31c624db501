"""`ragft cost`: price RAG, fine-tuned and hybrid systems, solve break-evens, list the price catalog."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import typer

from ragft.cli.output import console, print_json

cost_app = typer.Typer(
    help="Cost, latency and break-even of RAG vs fine-tuned vs hybrid, from a sourced price catalog.",
    invoke_without_command=True, no_args_is_help=False,
)


def register(app: typer.Typer) -> None:
    app.add_typer(cost_app, name="cost")


@cost_app.callback()
def cost(
    ctx: typer.Context,
    volume: Optional[float] = typer.Option(None, help="Queries per month (default: 100000)."),
    model: Optional[str] = typer.Option(None, help="Chat model for RAG (default: gpt-4o-mini)."),
    ft_model: Optional[str] = typer.Option(None, help="Model to fine-tune (catalog or self-hosted) (default: --model)."),
    embedding_model: Optional[str] = typer.Option(None, help="Embedding model (default: text-embedding-3-small)."),
    vector_db: Optional[str] = typer.Option(None, help="Vector database row (default: lancedb-local)."),
    k: Optional[int] = typer.Option(None, help="Chunks retrieved per query (default: 5)."),
    chunk_tokens: Optional[float] = typer.Option(None, help="Tokens per chunk (default: 500)."),
    prompt_tokens: Optional[float] = typer.Option(None, help="System prompt + question tokens (default: 200)."),
    ft_prompt_tokens: Optional[float] = typer.Option(None, help="Prompt tokens of the fine-tuned system (default: --prompt-tokens)."),
    output_tokens: Optional[float] = typer.Option(None, help="Answer tokens (default: 200)."),
    examples: Optional[int] = typer.Option(None, help="Fine-tuning examples (default: 1000)."),
    example_tokens: Optional[float] = typer.Option(None, help="Tokens per training example (default: 500)."),
    epochs: Optional[float] = typer.Option(None, help="Training epochs (default: 3)."),
    retrain_weeks: Optional[float] = typer.Option(None, help="Retrain every N weeks (data changes) (default: never)."),
    amortize_months: Optional[float] = typer.Option(None, help="Months over which one-off costs are spread (default: 12)."),
    corpus_tokens: Optional[float] = typer.Option(None, help="Corpus tokens to index (default: 0)."),
    reindex_fraction: Optional[float] = typer.Option(None, help="Share of the corpus re-indexed per month (default: 0)."),
    tokens_per_s: Optional[float] = typer.Option(None, help="Output tokens per second of one stream."),
    ft_fixed_monthly: Optional[float] = typer.Option(None, help="Extra fixed $/month of the fine-tuned model (e.g. an always-on GPU)."),
    prompts: Optional[Path] = typer.Option(None, help="Measure prompt tokens from a sample (text, one per line, or JSONL)."),
    docs: Optional[Path] = typer.Option(None, help="Measure corpus tokens from a document folder."),
    train: Optional[Path] = typer.Option(None, help="Measure examples and tokens from a fine-tuning JSONL."),
    scenario: Optional[str] = typer.Option(None, help="A shipped scenario (seed) or a scenario .toml; flags override it."),
    prices: Optional[list[Path]] = typer.Option(None, help="Your price file(s), merged over the catalog."),
    chart_dir: Optional[Path] = typer.Option(None, help="Write monthly-cost.png and .svg here."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Price the three systems at a volume (`ragft cost --volume 1e6`), or run `ragft cost prices`."""
    if ctx.invoked_subcommand is not None:
        return
    from ragft.costs.charts import write_cost_chart
    from ragft.costs.model import estimate
    from ragft.costs.prices import load_catalog
    from ragft.costs.scenario import (
        CostInputs, ScenarioResult, check_claims, load_scenario, measure_inputs, standard_systems, validate_inputs,
    )

    given = {name: value for name, value in dict(
        volume=volume, model=model, ft_model=ft_model, embedding_model=embedding_model, vector_db=vector_db, k=k,
        chunk_tokens=chunk_tokens, prompt_tokens=prompt_tokens, ft_prompt_tokens=ft_prompt_tokens,
        output_tokens=output_tokens, examples=examples, example_tokens=example_tokens, epochs=epochs,
        retrain_weeks=retrain_weeks, amortize_months=amortize_months, corpus_tokens=corpus_tokens,
        reindex_fraction=reindex_fraction, tokens_per_s=tokens_per_s, ft_fixed_monthly=ft_fixed_monthly,
    ).items() if value is not None}
    catalog = load_catalog(prices or None)
    loaded = load_scenario(scenario) if scenario else None
    base = loaded.inputs.model_dump() if loaded else CostInputs().model_dump()
    inputs = validate_inputs({**base, **given}, "flags")
    with _file_progress(docs is not None) as progress:
        inputs, notes = measure_inputs(inputs, catalog, prompts=prompts, docs=docs, train=train, progress=progress)
    systems = [*standard_systems(inputs), *(loaded.extra_systems if loaded else [])]
    report = estimate(systems, inputs.volume, catalog, assumptions=notes)
    findings = check_claims(loaded.claims, inputs, report, catalog) if loaded and loaded.claims else []
    charts = [str(p) for p in write_cost_chart(report, chart_dir)] if chart_dir else []
    if as_json:
        result = ScenarioResult(scenario=loaded.name if loaded else "flags",
                                description=loaded.description if loaded else "", inputs=inputs,
                                report=report, findings=findings)
        print_json({**result.model_dump(mode="json"), "charts": charts})
        return
    if loaded:
        console.print(f"[bold]scenario {loaded.name}[/]: {loaded.description}")
    _print_report(report)
    if findings:
        _print_findings(findings)
    for path in charts:
        console.print(f"chart: {path}")


@contextmanager
def _file_progress(enabled: bool):
    """A rich bar over the document files being counted (transient; stderr)."""
    if not enabled:
        yield None
        return
    from rich.progress import Progress

    from ragft.cli.output import err_console

    with Progress(console=err_console, transient=True) as bar:
        task = bar.add_task("counting corpus tokens", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


@cost_app.command("prices")
def list_prices(
    prices: Optional[list[Path]] = typer.Option(None, help="Your price file(s), merged over the catalog."),
    as_json: bool = typer.Option(False, "--json", help="Print the catalog as JSON."),
) -> None:
    """List the price catalog with each row's source and date."""
    from ragft.costs.prices import load_catalog

    catalog = load_catalog(prices or None)
    if as_json:
        print_json(catalog)
        return
    from rich.table import Table

    for section, rows in _sections(catalog):
        table = Table(title=section, title_justify="left", show_edge=False)
        for column in ("name", "price", "as of", "source"):
            table.add_column(column, overflow="fold")
        for row in rows:
            flag = " [yellow](as recalled, verify)[/]" if row.confidence == "verify" else ""
            table.add_row(row.name, _price_text(section, row), row.as_of.isoformat(), row.source + flag)
        console.print(table)
        console.print()
    console.print(f"catalog files: {', '.join(catalog.files)}")


def _sections(catalog):
    from ragft.costs.prices import SECTIONS

    return [(section, list(getattr(catalog, section).values())) for section in SECTIONS]


def _price_text(section: str, row) -> str:
    from ragft.costs.model import usd

    if section == "embedding":
        return f"{usd(row.per_1m_tokens)}/1M tok, {row.dimensions} dims"
    if section == "chat":
        return f"{usd(row.input_per_1m)} in / {usd(row.output_per_1m)} out per 1M"
    if section == "fine_tuning":
        return (f"train {usd(row.training_per_1m)}/1M; {usd(row.input_per_1m)} in / "
                f"{usd(row.output_per_1m)} out per 1M")
    if section == "self_hosted":
        return (f"{row.gpu} {usd(row.gpu_hour_usd)}/h; {row.output_tokens_per_s:g} out tok/s, "
                f"train {row.training_tokens_per_s:g} tok/s")
    return (f"{usd(row.monthly_fixed_usd)}/month + {usd(row.per_gb_month_usd)}/GB-month + "
            f"{usd(row.per_1m_queries_usd)}/1M queries")


def _print_report(report) -> None:
    from rich.table import Table

    from ragft.costs.model import usd

    console.print(f"[bold]at {report.volume_per_month:,.0f} queries/month[/]")
    table = Table(show_edge=False)
    for column in ("system", "model", "per query", "fixed/month", "per 1k", "per month", "latency"):
        table.add_column(column, justify="left" if column in ("system", "model") else "right")
    for cost in report.systems:
        model = f"ft:{cost.model}" if cost.fine_tuned else cost.model
        table.add_row(cost.name, model, usd(cost.variable_per_query_usd), usd(cost.fixed_monthly_usd),
                      usd(cost.per_1k_queries_usd), usd(cost.monthly_usd), f"{cost.latency.total_ms / 1000:.2f} s")
    console.print(table)
    console.print("[dim]per query = marginal cost; per 1k and per month include the fixed costs[/]\n")
    console.print("[bold]break-even[/]")
    for even in report.break_evens:
        where = f"{even.volume_per_month:,.0f}/month - " if even.volume_per_month else ""
        console.print(f"  {even.a} vs {even.b}: {where}{even.reason}")
    console.print()
    _print_volume_table(report)
    console.print("[bold]how each number is made[/]")
    for cost in report.systems:
        console.print(f"  [bold]{cost.name}[/]")
        for line in [*cost.per_query, *cost.fixed_monthly]:
            unit = "/query" if line in cost.per_query else "/month"
            console.print(f"    {line.item}: {usd(line.usd)}{unit} = {line.formula}")
        console.print(f"    latency {cost.latency.total_ms:,.0f} ms: " + "; ".join(cost.latency.assumptions))
        for note in cost.assumptions:
            console.print(f"    [dim]{note}[/]")
    console.print("\n[bold]assumptions[/]")
    for note in report.assumptions:
        console.print(f"  - {note}")
    console.print("[bold]prices from[/]")
    for source in dict.fromkeys(s for cost in report.systems for s in cost.sources):
        console.print(f"  - {source}")


def _print_volume_table(report) -> None:
    import math

    from rich.table import Table

    from ragft.costs.model import usd

    centre = math.floor(math.log10(report.volume_per_month))
    volumes = [10.0 ** e for e in range(centre - 2, centre + 3)]
    table = Table(title="monthly cost by volume", title_justify="left", show_edge=False)
    table.add_column("queries/month", justify="right")
    for cost in report.systems:
        table.add_column(cost.name, justify="right")
    for volume in volumes:
        costs = [c.monthly_at(volume) for c in report.systems]
        cheapest = min(costs)
        table.add_row(f"{volume:,.0f}", *[f"[bold]{usd(c)}[/]" if c == cheapest else usd(c) for c in costs])
    console.print(table)
    console.print()


def _print_findings(findings) -> None:
    console.print("\n[bold]the source text's claims, recomputed[/]")
    for finding in findings:
        mark = "[green]holds[/]" if finding.holds else "[red]does not hold[/]"
        console.print(f"  {mark} [bold]{finding.topic}[/]: claim {finding.claim}\n      computed: {finding.computed}")
