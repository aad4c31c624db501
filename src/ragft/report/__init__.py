"""report: a finished eval run as one self-contained HTML page and its Markdown twin.

    load_run(path) -> Run            (ragft.evaluate.run_folder, re-exported for the faces)
    render_html(run, nav=()) -> str;  render_markdown(run) -> str
    write_report(run_path, out=None, formats=("html", "md")) -> [paths]
"""
from __future__ import annotations

from ragft.lazy import lazy_exports

_EXPORTS = {
    "Run": "ragft.evaluate.run_folder",
    "load_run": "ragft.evaluate.run_folder",
    "list_runs": "ragft.evaluate.run_folder",
    "run_path": "ragft.evaluate.run_folder",
    "RunSummary": "ragft.evaluate.run_folder",
    "build_content": "ragft.report.content",
    "render_html": "ragft.report.html",
    "render_markdown": "ragft.report.markdown",
    "write_report": "ragft.report.writer",
}

__getattr__ = lazy_exports(__name__, _EXPORTS)


__all__ = sorted(_EXPORTS)
