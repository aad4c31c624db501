"""`ragft serve`: the advisor, ask-your-docs and the eval runs as a small local web app."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ragft.server.guard import BURST, RATE_PER_MINUTE
from ragft.server.launch import TOKEN_ENV

DEFAULT_PORT = 8321


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: str = typer.Option("127.0.0.1", "--host", help="Address to bind; beyond loopback needs a token."),
        port: int = typer.Option(DEFAULT_PORT, "--port", min=1, max=65535, help="Port to listen on."),
        index: Path = typer.Option(Path(".ragft/index"), "--index", metavar="PATH", help="Index to ask."),
        runs: Path = typer.Option(Path("runs"), "--runs", metavar="DIR", help="Folder of eval runs."),
        generator: str = typer.Option("extractive", "--generator", help="Generator that answers questions."),
        model: Optional[str] = typer.Option(None, "--model", help="Model name passed to the generator."),
        base_url: Optional[str] = typer.Option(None, "--base-url", metavar="URL",
                                               help="Server of an openai-compatible generator."),
        token_env: str = typer.Option(TOKEN_ENV, "--token-env", metavar="NAME",
                                      help="Environment variable holding the access token."),
        processes: str = typer.Option(
            "1", "--processes", metavar="N|auto",
            help=f"Server processes answering in parallel (auto: one per usable core). Each loads the index and "
                 f"models itself. The per-client rate limit ({RATE_PER_MINUTE}/min, bursts of {BURST}) is split "
                 f"evenly across the processes, so it holds for the server as a whole."),
    ) -> None:
        """Serve the advisor, ask-your-docs (streamed, cited) and the eval reports on http://HOST:PORT."""
        from ragft.server.guard import check_bind
        from ragft.server.launch import ServeSettings, parse_processes
        from ragft.server.launch import serve as run_server

        options = {key: value for key, value in (("model", model), ("base_url", base_url)) if value}
        settings = ServeSettings(str(index), str(runs), generator, options, token_env, parse_processes(processes))
        token = settings.token()
        check_bind(host, token)
        shown = f"[{host}]" if ":" in host else host
        link = f"http://{shown}:{port}/" + ("?token=..." if token else "")
        workers = f", {settings.processes} processes" if settings.processes > 1 else ""
        typer.echo(f"ragft serve: {link} (index {index}, runs {runs}{workers}); Ctrl+C stops")
        run_server(settings, host, port)
