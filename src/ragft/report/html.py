"""The report as one self-contained HTML page: inline CSS and SVG, no scripts, no fetches, all text escaped."""
from __future__ import annotations

from functools import lru_cache
from typing import Sequence

from ragft.evaluate.run_folder import Run
from ragft.report.content import ReportContent, build_content


@lru_cache(maxsize=None)
def environment(*packages: str):
    """A Jinja2 environment over the templates of `packages` (first wins), autoescaping every template."""
    import jinja2

    from ragft import __version__
    from ragft.costs.model import usd
    from ragft.report.charts import seconds, short_number
    from ragft.report.content import metric_name

    loader = jinja2.ChoiceLoader([jinja2.PackageLoader(name, "templates") for name in (*packages, "ragft.report")])
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.globals.update(usd=usd, seconds=seconds, short_number=short_number, version=__version__,
                       metric_name=metric_name)
    return env


def render_html(run: Run | ReportContent, nav: Sequence[tuple[str, str]] = ()) -> str:
    """The report page; `nav` adds (href, text) links on top when the page is served by `ragft serve`."""
    content = run if isinstance(run, ReportContent) else build_content(run)
    return environment().get_template("report.html").render(c=content, nav=list(nav))
