"""`ragft eval`: eval sets (`make`) and the built-in benchmarks (`bench list`, `bench prepare`).

`eval_app` is module level so the runner's commands (`run`, `compare`) can join the same group.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ragft.cli.output import console, err_console, print_json

eval_app = typer.Typer(help="Measure systems on the same questions: eval sets and built-in benchmarks.",
                       no_args_is_help=True)
bench_app = typer.Typer(help="Built-in benchmarks made from real Debian packages.", no_args_is_help=True)
eval_app.add_typer(bench_app, name="bench")


def register(app: typer.Typer) -> None:
    app.add_typer(eval_app, name="eval")


@eval_app.command("make")
def make(
    corpus: Path = typer.Argument(..., metavar="CORPUS", help="Folder (or file) of FAQ-shaped Markdown/RST or Q/A JSONL."),
    output: Path = typer.Option(Path("evalset.jsonl"), "--output", "-o", metavar="FILE", help="Where to write the eval set."),
    json_out: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Build an eval set from a corpus already shaped as questions and answers."""
    from ragft.evaluate.evalset import make_evalset, save_evalset

    items = make_evalset(corpus)
    save_evalset(items, output)
    summary = {"path": str(output), "questions": len(items),
               "with_relevant_ids": sum(bool(i.relevant_ids) for i in items),
               "documents": len({d for i in items for d in i.relevant_ids})}
    if json_out:
        return print_json(summary)
    console.print(f"wrote {summary['questions']} questions from {summary['documents']} documents to {output}")


@bench_app.command("list")
def list_(
    cache: Optional[Path] = typer.Option(None, "--cache", metavar="DIR", help="Bench cache (default ~/.cache/ragft/benches)."),
    json_out: bool = typer.Option(False, "--json", help="Print the list as JSON."),
) -> None:
    """The built-in benchmarks, their Debian package and whether they are prepared."""
    from ragft.evaluate.benches import default_cache_dir, list_benches

    home = cache or default_cache_dir()
    rows = [{"name": spec.name, "package": spec.package, "description": spec.description,
             "prepared": (home / spec.name / "build" / "manifest.json").is_file()} for spec in list_benches()]
    if json_out:
        return print_json(rows)
    from rich.table import Table

    table = Table("bench", "package", "prepared", "what")
    for row in rows:
        table.add_row(row["name"], row["package"], "yes" if row["prepared"] else "no", row["description"])
    console.print(table)


@bench_app.command("prepare")
def prepare(
    name: str = typer.Argument(..., metavar="NAME", help="python-faq or debian-faq."),
    source: Optional[Path] = typer.Option(None, "--from", metavar="DIR",
                                          help="Folder holding the extracted package (dpkg-deb -x); default: apt-get download."),
    cache: Optional[Path] = typer.Option(None, "--cache", metavar="DIR", help="Bench cache (default ~/.cache/ragft/benches)."),
    distractors: int = typer.Option(300, "--distractors", metavar="N", help="Distractor documents added to the corpus."),
    json_out: bool = typer.Option(False, "--json", help="Print the bench summary as JSON."),
) -> None:
    """Download (or read) the package, build the corpus and questions.jsonl, and print where they are."""
    from ragft.evaluate.benches import load_bench

    with err_console.status(f"preparing {name}..."):
        bench = load_bench(name, cache_dir=cache, source_dir=source, distractors=distractors)
    summary = {"name": bench.name, "questions": len(bench.questions), "documents": bench.documents,
               "distractors": bench.distractors, "corpus_dir": str(bench.corpus_dir),
               "questions_path": str(bench.questions_path), "source": bench.source}
    if json_out:
        return print_json(summary)
    src = bench.source
    console.print(f"{bench.name}: {summary['questions']} questions, {bench.documents} documents "
                  f"({bench.distractors} distractors) from {src.package} {src.version}")
    console.print(f"  corpus    {bench.corpus_dir}\n  questions {bench.questions_path}")
    console.print(f"  sha256    {src.deb_sha256 or 'no .deb (' + src.origin + ')'}")
