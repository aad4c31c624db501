"""Helpers shared across test folders (on sys.path through `pythonpath` in pyproject)."""
from __future__ import annotations


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    """`ragft ARGS` through the real entry point: (exit code, stdout, stderr); returning normally is exit 0."""
    from ragft.cli import main

    try:
        main(list(args))
        code = 0
    except SystemExit as done:
        code = int(done.code or 0)
    out, err = capsys.readouterr()
    return code, out, err
