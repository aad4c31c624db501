"""The report's Markdown twin: the same content as the HTML page, as text a wiki or a pull request can show.

Text from documents, questions and answers is escaped: HTML characters become entities (Markdown renderers
pass raw HTML through) and Markdown's own markup characters are backslashed."""
from __future__ import annotations

import html
import re

from ragft.evaluate.run_folder import Run
from ragft.report.content import ReportContent, build_content, metric_name

_MARKUP = re.compile(r"([\\`*_\[\]#|~])")


def md_text(text: object) -> str:
    """One line of plain text made safe for Markdown (and for the HTML a renderer makes of it)."""
    flat = " ".join(str(text).split())
    return html.escape(_MARKUP.sub(r"\\\1", flat), quote=False)


def md_block(text: object) -> list[str]:
    """A multi-line text as a block quote, each line escaped."""
    return [f"> {md_text(line)}" if line.strip() else ">" for line in str(text).splitlines()] or ["> "]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows] + [""]


def render_markdown(run: Run | ReportContent) -> str:
    c = run if isinstance(run, ReportContent) else build_content(run)
    out = ["# RAG, fine-tuning, or both? The evidence", "",
           f"Run **{md_text(c.run.run_id)}** · bench {md_text(c.run.manifest.bench)} · "
           f"{c.run.table.n_questions} questions · systems: {md_text(', '.join(c.systems))} · "
           f"generated {c.generated_at}", ""]
    out += _verdict(c) + _measured(c) + _cost(c) + _latency(c) + _quality(c) + _worst(c) + _injection(c) + _sources(c)
    return "\n".join(out).rstrip() + "\n"


def _verdict(c: ReportContent) -> list[str]:
    d = c.run.verdict
    if d is None:
        return ["## Verdict", "", "No verdict in this run (no verdict.json).", ""]
    agree = {None: "nothing measured to test it", True: "the measurements agree",
             False: "the measurements disagree"}[d.agrees]
    out = ["## Verdict, measured on this run", "", f"**{md_text(d.label)}**", "", md_text(d.reason), "",
           f"The framework says: {md_text(d.framework.label)} (rule `{md_text(d.framework.decided_by)}`); "
           f"{agree}. Decided by: {md_text(d.basis)}.", ""]
    out += _decision(d)
    return out + _framework(d.framework)


def _decision(d) -> list[str]:
    out = []
    mark = {None: "—", True: "fits", False: "**fails**"}
    if d.contenders:
        out += ["### How the measurements decided", "",
                f"Contenders: generator family {md_text(d.family)}; among those that fit the profile, "
                f"{md_text(d.metric_name)} decides (paired bootstrap on the shared questions).", ""]
        names = [check.name for check in d.contenders[0].checks]
        out += _table(["Contender", "Architecture", md_text(d.metric_name), *names, "Fits"], [
            [md_text(x.system) + (" (chosen)" if x.system == d.system else ""), x.architecture,
             "—" if x.quality is None else f"{x.quality:.3f} (n={x.n})",
             *[f"{mark[k.fits]}: {md_text(k.text)}" for k in x.checks], "yes" if x.feasible else "no"]
            for x in d.contenders])
    if d.comparisons:
        out += [f"### Paired differences in {md_text(d.metric_name)}", "",
                *[f"- {md_text(p.text())}: " + ("tie" if p.better == "tie" else f"{md_text(p.better)} better")
                  for p in d.comparisons],
                ""]
    if d.flips:
        out += ["### What would flip it", "", *[f"- {md_text(text)}" for text in d.flips], ""]
    if d.references:
        out += ["### Reference rows (not contenders)", "",
                *[f"- **{md_text(r.system)}** ({md_text(r.kind)}): {md_text(r.why)}" for r in d.references], ""]
    return out


def _framework(v) -> list[str]:
    out = [f"## What the framework says: {md_text(v.label)}", "", *md_block(v.decision_quote), "",
           f"Decided by rule `{md_text(v.decided_by)}`" + (f", stopped at {v.stopped_at}" if v.stopped_at else "")
           + ".", "", "### The five questions", ""]
    out += _table(["Q", "Question", "Answer", "Source", "Rule (the seed's words)", "Consequence"],
                  [[md_text(s.question), md_text(s.title), md_text(s.answer), md_text(s.source),
                    f"**{md_text(s.rule)}**: “{md_text(s.quote)}”", md_text(s.consequence)] for s in v.trace])
    holds = {True: "yes", False: "no", None: "left to data"}
    out += ["### Hybrid checklist" + ("" if v.hybrid_reached else " (not reached: stopped at question 1)"), ""]
    out += _table(["Condition", "Answer", "Holds"],
                  [[md_text(h.text), md_text(h.answer), holds[h.holds]] for h in v.hybrid_checklist])
    if v.caveats:
        out += ["### Caveats", "", *[f"- {md_text(text)}" for text in v.caveats], ""]
    return out


def _measured(c: ReportContent) -> list[str]:
    headline = [row for row in c.rows if row.headline] or c.rows
    more = [row for row in c.rows if row not in headline]
    out = ["## Measured on your data", "",
           f"Winners in **bold** with ★ only where the evidence separates the systems; ± is half the "
           f"{c.run.table.confidence:.0%} confidence interval.", ""]
    out += _measured_table(c, headline)
    return out + (["### More measurements", ""] + _measured_table(c, more) if more else [])


def _measured_table(c: ReportContent, rows: list) -> list[str]:
    lines = []
    for row in rows:
        cells = []
        for cell in row.cells:
            text = md_text(f"{cell.text} {cell.spread}".strip())
            cells.append(f"**{text}** ★" if cell.winner else text)
        lines.append([f"{md_text(row.label)} ({row.direction})", *cells, md_text(row.winner),
                      md_text(row.seed_claim)])
    return _table(["Metric", *[md_text(s) for s in c.systems], "Winner", "The seed claimed"], lines)


def _cost(c: ReportContent) -> list[str]:
    from ragft.costs.model import usd

    cost = c.run.cost
    if cost is None:
        return ["## Cost per month by query volume", "", "This run has no cost.json.", ""]
    out = ["## Cost per month by query volume", ""]
    out += _table(["System", "Model", "Per query", "Fixed per month", f"At {cost.volume_per_month:,.0f}/month",
                   "Per 1k queries"],
                  [[md_text(s.name), md_text(s.model), usd(s.variable_per_query_usd), usd(s.fixed_monthly_usd),
                    usd(s.monthly_usd), usd(s.per_1k_queries_usd)] for s in cost.systems])
    out += ["### Break-even", "", *[f"- **{md_text(e.a)} vs {md_text(e.b)}**: {md_text(e.reason)}"
                                    for e in cost.break_evens], ""]
    return out


def _latency(c: ReportContent) -> list[str]:
    if not c.latency:
        return []
    from ragft.report.charts import seconds

    return ["## Latency", ""] + _table(
        ["System", "Questions", "Median", "p95", "Mean"],
        [[md_text(s.system), str(s.n), seconds(s.p50), seconds(s.p95), seconds(s.mean)] for s in c.latency])


def _quality(c: ReportContent) -> list[str]:
    out = []
    for title, means in (("Retrieval quality", c.retrieval), ("Answer quality", c.quality)):
        metrics = list(dict.fromkeys(m for values in means.values() for m in values))
        if metrics:
            out += [f"## {title}", ""] + _table(
                ["System", *[md_text(metric_name(m)) for m in metrics]],
                [[md_text(name), *[f"{values[m]:.3f}" if m in values else "—" for m in metrics]]
                 for name, values in means.items()])
    return out


def _worst(c: ReportContent) -> list[str]:
    out = ["## The worst answers, with what was retrieved", ""]
    for w in c.worst:
        r = w.record
        out += [f"### {md_text(r.system)}: {md_text(r.question)}", "", f"*{md_text(w.why)}* · question "
                f"{md_text(r.question_id)}", "", "Answer:", "", *md_block(r.answer), "", "Reference:", "",
                *md_block(r.reference_answer), ""]
        if r.unsupported_sentences:
            out += ["Unsupported sentences:", "", *[f"- {md_text(s)}" for s in r.unsupported_sentences], ""]
        for i, ctx in enumerate(r.contexts, start=1):
            out += [f"Context [{i}] {md_text(ctx.doc_id)} · score {ctx.score:.3f}:", "", *md_block(ctx.text), ""]
    return out


def _injection(c: ReportContent) -> list[str]:
    if not c.injection:
        return []
    return ["## Prompt-injection text in the retrieved documents", "",
            "These chunks read like instructions to a model; they were passed to the systems as quoted data.", "",
            *[f"- **{md_text(f.chunk_id)}** ({f.kind}): {md_text(f.excerpt)}" for f in c.injection], ""]


def _sources(c: ReportContent) -> list[str]:
    out = ["## Methods", ""] + _table(["Metric", "How it was measured"],
                                       [[md_text(a), "; ".join(md_text(t) for t in b)] for a, b in c.methods])
    out += ["## Assumptions, prices and sources", ""]
    if c.prices:
        out += ["### Prices (source and date)", "", *[f"- {md_text(p)}" for p in c.prices], ""]
    if c.assumptions:
        out += ["### Assumptions", "", *[f"- {md_text(a)}" for a in c.assumptions], ""]
    out += ["### Provenance", "", *[f"- **{md_text(k)}**: {md_text(v)}" for k, v in c.provenance], ""]
    return out
