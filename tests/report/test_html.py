"""The HTML report: self-contained, escaped, and showing the verdict, the table, the charts and the sources."""
from __future__ import annotations

import re
from html.parser import HTMLParser

from markupsafe import escape

from ragft.report.charts import short_number
from report.sample_run import IMG, SCRIPT


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags_of(page: str) -> list[tuple[str, dict[str, str]]]:
    parser = Tags()
    parser.feed(page)
    return parser.tags


def test_report_fetches_nothing_and_runs_no_script(html_page):
    tags = tags_of(html_page)
    names = {tag for tag, _ in tags}
    assert not names & {"script", "img", "link", "iframe", "object", "embed"}
    assert "style" in names and "svg" in names
    for _, attrs in tags:
        assert not any(key.startswith("on") for key in attrs)
        assert not any(key in ("src", "srcset") for key in attrs)
        assert not str(attrs.get("href", "")).startswith(("http", "//"))


def test_planted_markup_in_questions_answers_and_context_is_shown_as_text(html_page):
    assert SCRIPT not in html_page and "<img" not in html_page
    assert str(escape(SCRIPT)) in html_page
    assert str(escape(IMG)) in html_page          # the answer and the context text, escaped, still readable


def test_verdict_banner_and_five_question_trace_come_from_verdict_json(run, html_page):
    assert f'<div class="label">{escape(run.verdict.label)}</div>' in html_page
    trace = html_page.split('<table class="trace">')[1].split("</table>")[0]
    framework = run.verdict.framework
    assert [step.question for step in framework.trace] == re.findall(r"<tr><td>(q\d)</td>", trace)
    assert len(framework.trace) == 5


def test_the_banner_shows_the_measured_decision_beside_the_framework_s_verdict(run, html_page):
    verdict = run.verdict
    assert verdict.system == "hybrid" and verdict.basis == "quality" and verdict.agrees is False
    banner = html_page.split('id="verdict">')[1].split("</section>")[0]
    assert str(escape(verdict.reason)) in banner and "the measurements disagree" in banner
    assert f"the framework says: {escape(verdict.framework.label)}" in banner
    decision = html_page.split('<table class="decision">')[1].split("</table>")[0]
    assert re.findall(r"<td><b>([^<]+)</b>", decision) == ["fine-tuned", "hybrid"]
    assert '<span class="badge">chosen</span>' in decision.split("hybrid")[1]
    references = html_page.split("Reference rows (not contenders)")[1].split("</ul>")[0]
    assert "<b>rag</b> (rag): reference: the extractive answerer" in references
    assert str(escape(verdict.deciding.text())) in html_page


def test_measured_table_marks_only_the_recorded_winner_and_shows_ci_as_plus_minus(run, html_page):
    table = html_page.split('<table class="measured">')[1].split("</table>")[0]
    rows = table.split("<tr>")[2:]
    for row, source in zip(rows, run.table.rows):
        cells = re.findall(r'<td class="num( win)?"', row)
        winners = [name for name, cell in zip(run.table.systems, cells) if cell]
        assert winners == ([source.winner] if source.winner in run.table.systems else [])
    f1 = next(r for r in run.table.rows if r.key == "accuracy").values["rag"]
    assert f"± {(f1.high - f1.low) / 2:.3g}" in table
    assert '<span class="badge tie">tie</span>' in table


def test_cost_chart_marks_each_break_even_at_the_computed_volume(run, html_page):
    crossing = [e for e in run.cost.break_evens if e.volume_per_month]
    assert crossing
    for even in crossing:
        assert f"break-even {even.a} = {even.b}: {short_number(even.volume_per_month)}/mo" in html_page
    assert html_page.count("<polyline") == len(run.cost.systems)


def test_latency_table_reports_the_median_and_p95_of_each_systems_question_times(run, html_page):
    import numpy as np

    from ragft.report.charts import seconds

    totals = [q.timings["total"] for q in run.records if q.system == "hybrid"]
    p50, p95 = np.percentile(totals, [50, 95])
    assert f"<td>hybrid</td><td class=\"num\">{len(totals)}</td><td class=\"num\">{seconds(p50)}</td>" \
           f"<td class=\"num\">{seconds(p95)}</td>" in html_page


def test_worst_answers_open_to_their_retrieved_context(run, html_page):
    details = html_page.split('id="worst"')[1].split('id="methods"')[0]
    assert details.count("<details>") == 3 * len(run.table.systems)
    assert "Retrieved context" in details and "No context retrieved" in details


def test_every_price_row_appears_with_its_source_and_date(run, html_page):
    sources = {s for system in run.cost.systems for s in system.sources}
    assert sources
    for source in sources:
        assert str(escape(source)) in html_page
        assert re.search(r"as of \d{4}-\d{2}-\d{2}", source)


def test_a_run_without_cost_or_verdict_says_so_instead_of_failing(sample_run, tmp_path):
    from ragft.report import load_run, render_html

    from report.test_run import copy_of

    page = render_html(load_run(copy_of(sample_run, tmp_path / "bare")))
    assert "No verdict in this run" in page and "This run has no cost.json." in page
    assert page.count("<svg") == 2          # latency and retrieval still drawn from the questions


def test_a_failed_question_leads_its_systems_worst_answers(run):
    from ragft.report.content import worst_answers

    failed = run.records[13].model_copy(update={"error": "generator timed out after 30 s", "question_id": "q99"})
    worst = worst_answers([*run.records, failed], run.table.systems)
    rag = [w for w in worst if w.record.system == failed.system]
    assert rag[0].record.question_id == "q99" and rag[0].why == "failed: generator timed out after 30 s"


def test_at_a_glance_cards_name_each_seed_rows_winner(run, html_page):
    cards = html_page.split('id="glance"')[1].split("<h2")[0]
    shown = re.findall(r'<div class="w[^"]*">([^<]+)</div>', cards)
    assert shown == [row.winner for row in run.table.rows if row.seed_claim]
