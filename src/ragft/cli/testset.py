"""`ragft eval make DOCS --generator NAME`: the face of ragft.evaluate.testset (estimate, confirm, progress,
counts per filter); no logic here."""
from __future__ import annotations

import sys
from pathlib import Path

from ragft.cli.output import console, err_console, print_json
from ragft.errors import InputError


def make_from_docs(docs: Path, output: Path, generator: str | None, *, model: str | None,
                   base_url: str | None, n: int, seed: int, price_model: str | None, structure: bool,
                   yes: bool, json_out: bool) -> None:
    from ragft.evaluate.testset import make_testset, save_testset

    def confirm(estimate) -> bool:
        err_console.print(f"estimate: {estimate.text()}", highlight=False, soft_wrap=True)
        if yes:
            return True
        if not sys.stdin.isatty():
            raise InputError("no terminal to confirm the estimate on: nothing was sent; pass --yes to go ahead")
        import typer

        return typer.confirm("go ahead?", default=False, err=True)

    step = max(1, n // 20)

    def progress(done: int, total: int) -> None:
        if done == total or done % step == 0:
            err_console.print(f"drafting questions: {done}/{total}", highlight=False, soft_wrap=True)

    result = make_testset(docs, generator, n=n, model=model, base_url=base_url, seed=seed, price_model=price_model,
                          structure=structure, confirm=confirm, on_progress=progress)
    evalset, sidecar = save_testset(result, output)
    summary = {"path": str(evalset), "manifest": str(sidecar), "questions": len(result.items),
               "requested": result.requested, "sampled_chunks": result.sampled, "thin": result.thin,
               "kinds": result.manifest["kinds"], "filters": result.manifest["filters"],
               "estimate": result.manifest["estimate"]}
    if json_out:
        return print_json(summary)
    console.print(f"wrote {len(result.items)} questions to {evalset} (chunks used: {sidecar})", soft_wrap=True)
    for count in result.filters:
        flagged = f", flagged {count.flagged}" if count.flagged else ""
        console.print(f"  {count.name:30} kept {count.kept:4}  dropped {count.dropped:4}{flagged}  ({count.what})",
                      highlight=False, soft_wrap=True)
    kinds = ", ".join(f"{k} {v}" for k, v in result.manifest["kinds"].items())
    console.print(f"  kinds: {kinds}", highlight=False, soft_wrap=True)
    if result.thin:
        why = ("only the headings and definition lists found" if generator in (None, "none")
               else "the filters dropped drafts or the corpus has fewer usable chunks")
        console.print(f"thin: {len(result.items)} of the {result.requested} questions asked for ({why}); "
                      "add documents, raise --n, or use a generator", highlight=False, soft_wrap=True)
