"""`ragft advise`: a product profile in (prompts, file, example or flags), a verdict with its trace out."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Optional

import typer

from ragft.errors import InputError

# Profile field -> the flag that sets it (numbers and choices arrive as text so the profile checks them).
FLAGS = {
    "knowledge_valid_months": "--knowledge-valid-months",
    "latency_p95_s": "--latency-p95",
    "streaming_ok": "--streaming",
    "knowledge": "--knowledge",
    "cost_ceiling_usd": "--cost-ceiling",
    "monthly_queries": "--monthly-queries",
    "hallucination_tolerance": "--hallucination-tolerance",
    "validation_available": "--validation",
    "expert_review_available": "--expert-review",
    "labeled_examples": "--labeled-examples",
    "domain_terminology": "--domain-terminology",
    "style_consistency": "--style-consistency",
    "two_systems_ok": "--two-systems",
}


def _stdin_is_tty() -> bool:
    return sys.stdin.isatty()


def register(app: typer.Typer) -> None:
    @app.command()
    def advise(
        profile: Optional[Path] = typer.Option(None, "--profile", metavar="FILE", help="Product profile file (TOML or YAML)."),
        example: Optional[str] = typer.Option(None, "--example", metavar="NAME", help="Use a shipped example profile."),
        list_examples: bool = typer.Option(False, "--list-examples", help="List the example profiles and exit."),
        rules: Optional[Path] = typer.Option(None, "--rules", metavar="FILE", help="Rules file overriding thresholds of rules.toml."),
        measurements: Optional[Path] = typer.Option(
            None, "--measurements", metavar="FILE", help="Measured numbers per system (\\[rag], \\[fine-tuned], \\[hybrid] tables)."
        ),
        run: Optional[Path] = typer.Option(
            None, "--run", metavar="RUN_DIR", help="Decide from a finished eval run's measurements (its profile "
            "unless --profile, --example or flags give another)."
        ),
        contenders: Optional[str] = typer.Option(
            None, "--contenders", metavar="LIST", help="With --run: the systems you could ship (default: the "
            "RAG, fine-tuned and hybrid systems of one generator family)."
        ),
        json_out: bool = typer.Option(False, "--json", help="Print the verdict as JSON."),
        knowledge_valid_months: Optional[str] = typer.Option(
            None, "--knowledge-valid-months", metavar="MONTHS", help="Months the knowledge stays valid."
        ),
        latency_p95: Optional[str] = typer.Option(None, "--latency-p95", metavar="SECONDS", help="Latency budget at p95, seconds."),
        streaming: Optional[bool] = typer.Option(
            None, "--streaming/--no-streaming", help="Streaming tokens is acceptable."
        ),
        knowledge: Optional[str] = typer.Option(None, "--knowledge", metavar="KIND", help="documents, style or both."),
        cost_ceiling: Optional[str] = typer.Option(None, "--cost-ceiling", metavar="USD", help="Cost ceiling per query, USD."),
        monthly_queries: Optional[str] = typer.Option(None, "--monthly-queries", metavar="N", help="Expected queries per month."),
        hallucination_tolerance: Optional[str] = typer.Option(
            None, "--hallucination-tolerance", metavar="TOLERANCE", help="creative, normal or zero-tolerance."
        ),
        validation: Optional[bool] = typer.Option(
            None, "--validation/--no-validation", help="A validation layer is available."
        ),
        expert_review: Optional[bool] = typer.Option(
            None, "--expert-review/--no-expert-review", help="Expert review is available."
        ),
        labeled_examples: Optional[str] = typer.Option(
            None, "--labeled-examples", metavar="N", help="Labeled input/output examples."
        ),
        domain_terminology: Optional[bool] = typer.Option(
            None, "--domain-terminology/--no-domain-terminology", help="The domain has terminology to internalize."
        ),
        style_consistency: Optional[bool] = typer.Option(
            None, "--style-consistency/--no-style-consistency", help="Users care about consistency and style."
        ),
        two_systems: Optional[bool] = typer.Option(
            None, "--two-systems/--no-two-systems", help="Willing to run two systems (vector DB + model)."
        ),
    ) -> None:
        """Should you build RAG, fine-tune, or both? The seed's five questions, answered for your product."""
        if list_examples:
            return _print_examples(json_out)
        values = [knowledge_valid_months, latency_p95, streaming, knowledge, cost_ceiling, monthly_queries,
                  hallucination_tolerance, validation, expert_review, labeled_examples, domain_terminology,
                  style_consistency, two_systems]
        flags = {field: value for field, value in zip(FLAGS, values) if value is not None}
        if run is not None:
            return _from_run(run, profile, example, flags, rules, measurements, contenders, json_out)
        if contenders is not None:
            raise InputError("--contenders needs --run RUN_DIR (the systems of that run you could ship)")
        chosen = _profile(profile, example, flags)
        _run(chosen, rules, measurements, json_out)


def _profile(path: Path | None, example: str | None, flags: dict[str, Any]):
    from ragft.advise.examples import example_data
    from ragft.advise.profile import load_profile, profile_from_mapping

    names = FLAGS
    profile_from_mapping(flags, "", names)
    if path is not None and example is not None:
        raise InputError("give either --profile FILE or --example NAME, not both")
    if path is not None:
        return load_profile(path, flags)
    if example is not None:
        return profile_from_mapping({**example_data(example), **flags}, f"example {example}", names)
    if flags:
        return profile_from_mapping(flags, "", names)
    if not _stdin_is_tty():
        raise InputError("no profile given and stdin is not a terminal: pass --profile FILE, --example NAME "
                         "or flags such as --knowledge-valid-months 3 (see ragft advise --help)")
    return _ask_profile()


def _ask_profile():
    from ragft.advise.profile import ANSWER_FIELDS, Profile, profile_from_mapping

    typer.echo("Answer what you know; leave blank to leave it to data.")
    answers: dict[str, Any] = {}
    for field in ANSWER_FIELDS:
        info = Profile.model_fields[field]
        question = f"{info.description} [{info.json_schema_extra['allowed']}]"
        while True:
            text = typer.prompt(question, default="", show_default=False).strip()
            if not text:
                break
            try:
                profile_from_mapping({field: text}, "")
            except InputError as error:
                typer.echo(f"  {error}", err=True)
                continue
            answers[field] = text
            break
    return profile_from_mapping(answers, "")


def _run(profile, rules_path: Path | None, measurements_path: Path | None, json_out: bool) -> None:
    from ragft.advise import advise
    from ragft.advise.measurements import load_measurements
    from ragft.advise.rules import load_rules

    rules = load_rules(rules_path)
    measured = load_measurements(measurements_path) if measurements_path is not None else None
    verdict = advise(profile, measured, rules)
    if json_out:
        from ragft.cli.output import print_json

        return print_json({"profile": profile, "verdict": verdict})
    _show(profile, verdict)


def _from_run(run_dir: Path, path: Path | None, example: str | None, flags: dict[str, Any], rules_path: Path | None,
              measurements: Path | None, contenders: str | None, json_out: bool) -> None:
    from ragft.advise.rules import load_rules
    from ragft.evaluate.runs import verdict_of_run

    if measurements is not None:
        raise InputError("give --run RUN_DIR or --measurements FILE, not both: the run holds its measurements")
    profile = _profile(path, example, flags) if (path or example or flags) else None
    named = [name.strip() for name in contenders.split(",") if name.strip()] if contenders else None
    verdict = verdict_of_run(run_dir, profile, load_rules(rules_path), named)
    if json_out:
        from ragft.cli.output import print_json

        return print_json(verdict)
    show_decision(verdict)


def show_decision(verdict) -> None:
    """The measured verdict: decision and reason, the framework beside it, contenders, what would flip it."""
    from rich.panel import Panel
    from rich.table import Table

    from ragft.cli.output import console

    agree = {None: "nothing measured to test it", True: "the measurements agree",
             False: "the measurements disagree"}[verdict.agrees]
    framework = verdict.framework
    console.print(Panel(f"[bold]{verdict.label}[/]\n{verdict.reason}\n[dim]the framework says: {framework.label} "
                        f"(rule {framework.decided_by}); {agree}; decided by: {verdict.basis}[/]",
                        title="verdict, measured"))
    if verdict.contenders:
        grid = Table("contender", "architecture", verdict.metric_name,
                     *[check.name for check in verdict.contenders[0].checks], "fits",
                     title=f"contenders (generator family {verdict.family})", title_justify="left", show_lines=True)
        mark = {None: "[yellow]-[/]", True: "[green]fits[/]", False: "[red]fails[/]"}
        for c in verdict.contenders:
            grid.add_row(c.system + (" [bold](chosen)[/]" if c.system == verdict.system else ""), c.architecture,
                         "-" if c.quality is None else f"{c.quality:.3f} (n={c.n})",
                         *[f"{mark[k.fits]} {k.text}" for k in c.checks], _MARK[c.feasible])
        console.print(grid)
    for text in verdict.flips:
        console.print(f"[cyan]would flip:[/] {text}")
    for reference in verdict.references:
        console.print(f"[dim]{reference.system} ({reference.kind}): {reference.why}[/]")


def _print_examples(json_out: bool) -> None:
    from ragft.advise.examples import example_names, load_example

    examples = {name: load_example(name) for name in example_names()}
    if json_out:
        from ragft.cli.output import print_json

        return print_json(examples)
    for name, profile in examples.items():
        typer.echo(f"{name:20} {profile.description}")


_MARK = {True: "[green]yes[/]", False: "[red]no[/]", None: "[yellow]left to data[/]"}


def _show(profile, verdict) -> None:
    from rich.panel import Panel
    from rich.table import Table

    from ragft.cli.output import console

    title = profile.name or "your product"
    console.print(Panel(f"[bold]{verdict.label}[/]\n[dim]{verdict.decision_quote}[/]", title=f"ragft advise: {title}"))
    trace = Table("Q", "Answer", "Source", "Rule (the seed)", "Consequence", show_lines=True)
    for step in verdict.trace:
        trace.add_row(step.question, step.answer, step.source, f"[b]{step.rule}[/]: {step.quote}", step.consequence)
    console.print(trace)
    reached = "" if verdict.hybrid_reached else " [dim](not reached: stopped at question 1)[/]"
    checklist = Table("Hybrid condition", "Answer", "Holds", title=f"Hybrid checklist{reached}")
    for condition in verdict.hybrid_checklist:
        checklist.add_row(condition.text, condition.answer, _MARK[condition.holds])
    console.print(checklist)
    for caveat in verdict.caveats:
        console.print(f"[yellow]caveat:[/] {caveat}")
    if verdict.left_to_data:
        console.print(f"[dim]left to data: {', '.join(verdict.left_to_data)}[/]")
