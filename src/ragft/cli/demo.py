"""`ragft demo`: the whole study on the bundled real example (the Python FAQ), shown step by step."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        out: Path = typer.Option(Path("ragft-demo"), "--out", help="Folder for the index, adapters, run and report."),
        budget: str = typer.Option("tiny", "--budget", help="tiny (the demo: minutes on 2 cores) or full "
                                   "(the evidence run: whole test split, longer training)."),
        source: Optional[Path] = typer.Option(None, "--from", metavar="DIR",
                                              help="Extracted python3.11-doc tree instead of apt-get download."),
        json_out: bool = typer.Option(False, "--json", help="Print the verdict, table and report paths as JSON."),
    ) -> None:
        """Run the study end to end: advise, cost, fine-tune, evaluate, verdict, report."""
        from ragft.cli.output import console, print_json
        from ragft.cli.progress import EvalProgress
        from ragft.evaluate.study import run_study
        from ragft.report import write_report

        if not json_out:
            _advise_examples()
            _seed_costs()
            console.rule("[bold]the study on the Python FAQ, measured")
        with EvalProgress(enabled=not json_out) as on_progress:
            result = run_study(out, budget=budget, source_dir=source, progress=not json_out,
                               on_progress=on_progress, say=(lambda _: None) if json_out else console.print)
        reports = write_report(result.run_dir)
        if json_out:
            return print_json({"verdict": result.verdict, "table": result.table, "run": str(result.run_dir),
                               "reports": [str(p) for p in reports], "budget": result.budget,
                               "seconds": result.seconds, "phases": result.phases})
        from ragft.cli.evaluate import _print_table

        _print_table(result.table)
        if result.budget.name == "tiny":
            console.print("[yellow]budget 'tiny': a few held-out questions and a few LoRA steps, so the "
                          "intervals are wide; `ragft demo --budget full` is the evidence run.[/]")
        label = result.verdict.label if result.verdict is not None else "n/a"
        console.print(f"\n[bold]verdict from the measurements:[/] {label}")
        for path in reports:
            console.print(f"report: {path}")


def _advise_examples() -> None:
    from rich.table import Table

    from ragft.advise import advise
    from ragft.advise.examples import example_names, load_example
    from ragft.cli.output import console

    table = Table("Example", "Verdict", "Decided by", "Stopped at", title="ragft advise on the example profiles")
    for name in example_names():
        verdict = advise(load_example(name))
        table.add_row(name, verdict.label, verdict.decided_by, verdict.stopped_at or "-")
    console.print(table)


def _seed_costs() -> None:
    from ragft.cli.cost import _print_findings
    from ragft.costs.scenario import load_scenario, run_scenario

    _print_findings(run_scenario(load_scenario("seed")).findings)
