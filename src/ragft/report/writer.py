"""Writing a run's report files (report.html, report.md) atomically into a folder."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from ragft.errors import InputError
from ragft.evaluate.run_folder import load_run
from ragft.files import write_atomic
from ragft.report.content import build_content

FORMATS = {"html": "report.html", "md": "report.md"}


def write_report(run_path: str | Path, out: str | Path | None = None,
                 formats: Iterable[str] = ("html", "md")) -> list[Path]:
    """Render the run at `run_path` into `out` (default: the run folder); returns the written paths."""
    from ragft.report.html import render_html
    from ragft.report.markdown import render_markdown

    formats = list(dict.fromkeys(formats))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise InputError(f"--format {','.join(unknown) or '(empty)'} is not known: use html, md or html,md")
    run = load_run(run_path)
    content = build_content(run)
    folder = Path(out) if out is not None else run.path
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(f"--out {folder}: cannot create it ({error.strerror})") from None
    renderers = {"html": render_html, "md": render_markdown}
    return [write_atomic(folder / FORMATS[f], renderers[f](content)) for f in formats]
