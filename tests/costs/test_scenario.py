"""The seed scenario is priced, and the seed's own figures are recomputed to show which claims hold."""
from __future__ import annotations

import json

import pytest

from ragft.costs.scenario import (
    CostInputs, load_scenario, measure_inputs, run_scenario, standard_systems, validate_inputs,
)
from ragft.errors import InputError, NotFoundError


@pytest.fixture(scope="module")
def seed():
    return run_scenario(load_scenario("seed"))


def finding(result, topic):
    return next(f for f in result.findings if f.topic == topic)


def test_seed_scenario_uses_the_seeds_stated_inputs(seed):
    assert seed.inputs.volume == 100_000
    assert (seed.inputs.examples, seed.inputs.example_tokens) == (100_000, 500)
    assert seed.report.system("fine-tuned").training_run_usd == pytest.approx(100_000 * 500 * 1 * 3.00 / 1e6)
    assert {s.name for s in seed.report.systems} == {"rag", "fine-tuned", "hybrid", "fine-tuned-7b"}


def test_seed_break_even_of_1m_does_not_follow_from_its_question_4_figures(seed):
    f = finding(seed, "break-even (question 4 figures)")
    # midpoints: RAG $0.0125/query; fine-tuned $3,250/100k = $0.0325/query + $1,250/month: dearer per query
    assert not f.holds
    assert "break-even never" in f.computed
    # only corner where RAG is dearer per query: 0.02 vs 0.015, so 500/0.005 = 100k and 2000/0.005 = 400k
    assert "100,000/month to 400,000/month" in f.computed


def test_seed_production_table_puts_break_even_well_below_1m(seed):
    f = finding(seed, "break-even (production table)")
    low, high = 500 / (0.008 - 0.0015), 2000 / (0.004 - 0.0015)  # 76,923 and 800,000
    assert f"{low:,.0f}/month" in f.computed and f"{high:,.0f}/month" in f.computed
    assert not f.holds


def test_seed_training_costs_contradict_each_other(seed):
    seven_b = finding(seed, "training cost, 7B model")
    hours = 100_000 * 500 / 3000 / 3600  # 4.6 A100 hours per epoch
    assert f"${hours * 1.80:,.2f} per epoch" in seven_b.computed
    assert not seven_b.holds
    stated = finding(seed, "training cost, 100k x 500 tokens")
    assert "$150.00" in stated.computed and "$750.00" in stated.computed  # 50M tok x $3 and x $15 per 1M
    assert not finding(seed, "fine-tuned inference premium").holds
    assert not finding(seed, "fine-tuned cost per query").holds  # $0.015-0.05 vs $0.0015: 10x-33x
    assert "10x to 33x" in finding(seed, "fine-tuned cost per query").computed


def test_catalog_break_even_is_reported_from_the_model(seed):
    f = finding(seed, "break-even (catalog prices)")
    rag, ft = seed.report.system("rag"), seed.report.system("fine-tuned")
    volume = (ft.fixed_monthly_usd - rag.fixed_monthly_usd) / (rag.variable_per_query_usd - ft.variable_per_query_usd)
    assert f.computed.startswith(f"{volume:,.0f}/month")


def test_unknown_scenario_and_bad_scenario_file_fail_with_one_line(tmp_path):
    with pytest.raises(NotFoundError, match="unknown scenario 'sed'.*seed"):
        load_scenario("sed")
    path = tmp_path / "mine.toml"
    path.write_text("[inputs]\nvolume = -1\n")
    with pytest.raises(InputError, match=r"mine\.toml \[inputs\]: field 'volume'"):
        load_scenario(path)


def test_measured_files_replace_assumed_token_counts(tmp_path, catalog):
    prompts = tmp_path / "q.txt"
    prompts.write_text("hello world\ntiktoken is great!\n")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("hello world")
    train = tmp_path / "train.jsonl"
    train.write_text(json.dumps({"prompt": "hello world", "completion": "hello world"}) + "\n")
    inputs = CostInputs(model="chat-a", embedding_model="embed-a")
    measured, notes = measure_inputs(inputs, catalog, prompts=prompts, docs=docs, train=train)
    assert measured.prompt_tokens == (2 + 6) / 2
    assert measured.corpus_tokens == 2
    assert (measured.examples, measured.example_tokens) == (1, 4)
    assert any("cl100k_base" in note for note in notes)
    assert [s.kind for s in standard_systems(measured)] == ["rag", "fine-tuned", "hybrid"]


def test_flag_errors_name_the_flag():
    with pytest.raises(InputError, match=r"^--reindex-fraction: "):
        validate_inputs({"reindex_fraction": 2}, "flags")
