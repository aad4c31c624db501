"""The faces of ragft.evaluate.gate for `eval run`, `eval gate` and `eval compare`: print each check, write
JUnit, exit 1 on a failure; no logic here."""
from __future__ import annotations

from pathlib import Path

import typer

from ragft.cli.output import console, err_console, print_json


def apply_gate(run, thresholds, junit: Path | None) -> None:
    from ragft.evaluate.gate import check_cases, check_thresholds, write_junit

    checks = check_thresholds(run, thresholds)
    if junit:
        write_junit(junit, f"ragft gate {run.run_id}", check_cases(checks))
    failed = [c for c in checks if not c.passed]
    for check in checks:
        err_console.print(("FAIL " if not check.passed else "ok   ") + check.message, highlight=False, soft_wrap=True)
    if failed:
        err_console.print(f"gate failed: {len(failed)} of {len(checks)} threshold checks", highlight=False)
        raise typer.Exit(1)


def regression_gate(base, new, metric: str, junit: Path | None, json_result) -> None:
    from ragft.evaluate.gate import regression_cases, regressions, write_junit

    found = regressions(base, new, metric)
    if junit:
        write_junit(junit, f"ragft compare {base.run_id} {new.run_id}", regression_cases(found))
    if json_result is not None:
        print_json({"comparison": json_result, "regressions": [
            {"system": r.system, "metric": r.metric, "regressed": r.regressed, "message": r.message,
             "difference": r.difference} for r in found]})
    else:
        for r in found:
            console.print(("FAIL " if r.regressed else "ok   ") + r.message, highlight=False, soft_wrap=True)
    worse = [r.system for r in found if r.regressed]
    if worse:
        err_console.print(f"regression: B is worse than A on {metric} for {', '.join(worse)}", highlight=False)
        raise typer.Exit(1)
