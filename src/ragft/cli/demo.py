"""`ragft demo`: the whole study on the bundled real example; grows as capabilities land."""
from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def demo() -> None:
        """Run the study end to end on the bundled example and print where the results are."""
        from ragft.demo import run_demo

        run_demo()
