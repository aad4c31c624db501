"""report: a finished eval run as one self-contained HTML page and its Markdown twin.

    load_run(path) -> Run
    render_html(run, nav=()) -> str;  render_markdown(run) -> str
    write_report(run_path, out=None, formats=("html", "md")) -> [paths]
"""
from __future__ import annotations

from ragft.lazy import lazy_exports

_EXPORTS = {
    "Run": "ragft.report.run",
    "load_run": "ragft.report.run",
    "is_run_folder": "ragft.report.run",
    "list_runs": "ragft.report.run",
    "run_path": "ragft.report.run",
    "RunSummary": "ragft.report.run",
    "build_content": "ragft.report.content",
    "render_html": "ragft.report.html",
    "render_markdown": "ragft.report.markdown",
    "write_report": "ragft.report.writer",
}

__getattr__ = lazy_exports(__name__, _EXPORTS)


__all__ = sorted(_EXPORTS)
