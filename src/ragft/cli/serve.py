"""`ragft serve`: the advisor, ask-your-docs and the eval runs as a small local web app."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer

DEFAULT_PORT = 8321
TOKEN_ENV = "RAGFT_SERVE_TOKEN"


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
    ) -> None:
        """Serve the advisor, ask-your-docs (streamed, cited) and the eval reports on http://HOST:PORT."""
        from ragft.server.guard import check_bind

        token = os.environ.get(token_env) or None
        check_bind(host, token)
        import uvicorn

        from ragft.server.app import create_app

        shown = f"[{host}]" if ":" in host else host
        link = f"http://{shown}:{port}/" + ("?token=..." if token else "")
        typer.echo(f"ragft serve: {link} (index {index}, runs {runs}); Ctrl+C stops")
        options = {key: value for key, value in (("model", model), ("base_url", base_url)) if value}
        app = create_app(index, runs, token, generator=generator, generator_options=options)
        uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False)
