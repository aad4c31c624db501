"""The cost chart is written as real PNG and SVG files."""
from __future__ import annotations

from ragft.costs.charts import write_cost_chart
from ragft.costs.model import estimate
from ragft.costs.scenario import CostInputs, standard_systems


def test_chart_writes_png_and_svg(tmp_path, catalog):
    inputs = CostInputs(model="chat-a", embedding_model="embed-a", corpus_tokens=1e6)
    report = estimate(standard_systems(inputs), 10_000, catalog)
    png, svg = write_cost_chart(report, tmp_path / "charts")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 10_000
    text = svg.read_text()
    assert "<svg" in text and "fine-tuned" in text
    assert sorted(p.name for p in (tmp_path / "charts").iterdir()) == ["monthly-cost.png", "monthly-cost.svg"]
