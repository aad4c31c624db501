"""`ragft report RUN`: a run folder rendered as one self-contained HTML page and a Markdown twin."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def report(
        run: Path = typer.Argument(..., metavar="RUN", help="Run folder written by `ragft eval run`."),
        out: Optional[Path] = typer.Option(None, "--out", metavar="DIR", help="Folder for the files (default: RUN)."),
        formats: str = typer.Option("html,md", "--format", metavar="FORMATS", help="html, md or html,md."),
        json_out: bool = typer.Option(False, "--json", help="Print the written paths as JSON."),
    ) -> None:
        """Write report.html (self-contained: inline CSS and SVG, no network) and report.md for a run."""
        from ragft.report import write_report

        paths = write_report(run, out, [f.strip() for f in formats.split(",") if f.strip()])
        if json_out:
            from ragft.cli.output import print_json

            return print_json({"run": str(run), "files": [str(p) for p in paths]})
        for path in paths:
            typer.echo(f"wrote {path}")
