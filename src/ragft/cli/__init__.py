"""The `ragft` command: a thin typer face over the library. Each capability lives in its own module."""
from __future__ import annotations

import importlib
import sys

import typer

from ragft.errors import RagftError

app = typer.Typer(
    name="ragft",
    help="Should we build RAG, fine-tune a model, or both? Answered with evidence from your own data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Each module defines `register(app)`; keep heavy imports inside the command functions.
_COMMAND_MODULES = (
    "ragft.cli.advise",
    "ragft.cli.cost",
    "ragft.cli.demo",
    "ragft.cli.doctor",
    "ragft.cli.evaluate",
    "ragft.cli.finetune",
    "ragft.cli.rag",
    "ragft.cli.report",
    "ragft.cli.serve",
)

for _module in _COMMAND_MODULES:
    importlib.import_module(_module).register(app)


def main(argv: list[str] | None = None) -> None:
    """Entry point: RagftError becomes one line on stderr and exit code 1 (traceback with --debug)."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    if debug:
        args.remove("--debug")
    try:
        code = app(args=args, prog_name="ragft", standalone_mode=False)
        if type(code) is int and code:      # typer.Exit(n) comes back as a return value without standalone mode
            raise SystemExit(code)
    except RagftError as error:
        if debug:
            raise
        from ragft.cli.wording import cli_message
        from ragft.secrets import redact

        typer.echo(f"error: {redact(cli_message(error))}", err=True)
        raise SystemExit(1)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise SystemExit(130)
    except typer.Exit as done:
        raise SystemExit(done.exit_code)
    except Exception as error:  # click usage errors and the like
        import click

        if isinstance(error, click.exceptions.Abort):
            typer.echo("aborted", err=True)
            raise SystemExit(1)
        if isinstance(error, click.ClickException):
            error.show()
            raise SystemExit(error.exit_code)
        raise
