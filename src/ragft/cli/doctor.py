"""`ragft doctor`: check an index for consistency and, with --repair, fix it."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ragft.cli.output import console, err_console, print_json


def register(app: typer.Typer) -> None:
    @app.command("doctor")
    def doctor_command(
        index: Path = typer.Option(Path(".ragft/index"), "--index", metavar="PATH", help="Index folder."),
        store: Optional[str] = typer.Option(None, "--store", metavar="URL", help="The index's store, if not local."),
        repair: bool = typer.Option(False, "--repair", help="Drop what is inconsistent and re-sync those files."),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """Check an index: chunk ids unique, store rows vs meta documents, BM25, vectors finite and unit length."""
        from ragft.rag import doctor

        report = doctor.repair(index, store=store, progress=not as_json) if repair else doctor.check(index, store)
        if as_json:
            print_json(report.to_json())
        else:
            figures = ", ".join(f"{v} {k}" for k, v in report.figures.items())
            state = "consistent" if report.consistent else f"{len(report.problems)} problem(s)"
            console.print(f"{index}: {state} ({figures})", markup=False, highlight=False, soft_wrap=True)
            for line in [f"repaired: {a}" for a in report.repaired] + [f"note: {n}" for n in report.notes]:
                console.print(line, markup=False, highlight=False, soft_wrap=True)
            for problem in report.problems:
                err_console.print(f"{problem.kind}: {problem.detail}", markup=False, highlight=False, soft_wrap=True)
            if not report.consistent and not repair:
                err_console.print("run `ragft doctor --repair` to fix it", markup=False, highlight=False, soft_wrap=True)
        if not report.consistent:
            raise SystemExit(1)        # typer.Exit's code is dropped under standalone_mode=False
