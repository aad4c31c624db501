"""Monthly cost against volume as a chart (PNG and SVG), drawn with matplotlib's Agg backend on demand."""
from __future__ import annotations

from pathlib import Path

from ragft.costs.model import CostReport
from ragft.errors import InputError
from ragft.files import atomic_path


def _save_atomic(figure, path: Path) -> None:
    with atomic_path(path, suffix=path.suffix) as temp:
        figure.savefig(temp, format=path.suffix[1:], dpi=120)


def write_cost_chart(report: CostReport, directory: str | Path, stem: str = "monthly-cost") -> list[Path]:
    """Draw every system's monthly cost line (log-log) with break-evens marked; returns the PNG and SVG paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(f"chart directory {directory}: cannot create it ({error.strerror})") from None
    figure, axes = plt.subplots(figsize=(8, 5))
    try:
        for name, values in report.curve.monthly_usd.items():
            points = [(v, c) for v, c in zip(report.curve.volumes, values) if c > 0]
            axes.plot([p[0] for p in points], [p[1] for p in points], label=name, linewidth=2)
        for even in report.break_evens:
            if even.volume_per_month:
                axes.axvline(even.volume_per_month, color="grey", linestyle=":", linewidth=1)
                axes.annotate(f"{even.a} = {even.b}\n{even.volume_per_month:,.0f}/mo",
                              (even.volume_per_month, 0.02), xycoords=("data", "axes fraction"), fontsize=7, rotation=90,
                              va="bottom", ha="right", color="grey")
        axes.axvline(report.volume_per_month, color="black", linewidth=1, alpha=0.4)
        axes.set(xscale="log", yscale="log", xlabel="queries per month", ylabel="USD per month",
                 title="Monthly cost by volume")
        axes.grid(True, which="both", alpha=0.2)
        axes.legend()
        figure.tight_layout()
        paths = [directory / f"{stem}.png", directory / f"{stem}.svg"]
        for path in paths:
            _save_atomic(figure, path)
    finally:
        plt.close(figure)
    return paths
