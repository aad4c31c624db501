"""`ragft demo`: the study end to end on bundled examples; for now, advise on each example profile."""
from __future__ import annotations


def run_demo() -> None:
    from rich.table import Table

    from ragft.advise import advise
    from ragft.advise.examples import example_names, load_example
    from ragft.cli.output import console

    table = Table("Example", "Verdict", "Decided by", "Stopped at", title="ragft advise on the seed's examples")
    for name in example_names():
        verdict = advise(load_example(name))
        table.add_row(name, verdict.label, verdict.decided_by, verdict.stopped_at or "-")
    console.print(table)
