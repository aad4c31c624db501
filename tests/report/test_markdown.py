"""The Markdown twin carries the same verdict, table and sources, with document text escaped."""
from __future__ import annotations

import html

from ragft.report.markdown import md_text
from report.sample_run import SCRIPT


def test_markdown_has_the_verdict_table_and_every_source(run, markdown_text):
    assert f"**{md_text(run.verdict.label)}**" in markdown_text
    for row in run.table.rows:
        assert md_text(row.label) in markdown_text
    for source in {s for system in run.cost.systems for s in system.sources}:
        assert md_text(source) in markdown_text


def test_markdown_states_the_measured_decision_the_framework_and_whether_they_agree(run, markdown_text):
    verdict = run.verdict
    assert md_text(verdict.reason) in markdown_text
    assert f"The framework says: {md_text(verdict.framework.label)}" in markdown_text
    assert "the measurements disagree. Decided by: quality." in markdown_text
    chosen = next(line for line in markdown_text.splitlines() if line.startswith("| hybrid (chosen)"))
    assert "| hybrid |" in chosen and chosen.endswith("| yes |")
    assert f"- {md_text(verdict.flips[0])}" in markdown_text
    assert "- **closed-book** (closed-book): reference" in markdown_text


def test_markdown_escapes_html_and_table_pipes(markdown_text):
    assert SCRIPT not in markdown_text and "<img" not in markdown_text
    assert "&lt;script&gt;" in markdown_text
    assert md_text("a | b") == "a \\| b"
    assert md_text('<b onclick="x">') == html.escape('<b onclick="x">', quote=False)


def test_markdown_marks_the_winner_with_a_star(run, markdown_text):
    row = next(line for line in markdown_text.splitlines() if line.startswith("| Cost per 1k queries"))
    assert row.count("★") == 1 and "**$0.1125** ★" in row
