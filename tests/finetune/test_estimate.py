"""Estimates before training: provider cost from the catalog or a given price, local time measured."""
from __future__ import annotations

import pytest

from ragft.costs.tokens import counter_for
from ragft.errors import InputError, NotFoundError
from ragft.finetune.dataset import Example, example_tokens
from ragft.finetune.estimate import check_budget, local_estimate, provider_estimate, training_cost
from ragft.finetune.train_local import TrainConfig

EXAMPLES = [Example(prompt=f"What is fact number {i}?", completion=f"Fact {i} is that {i} is {i}.")
            for i in range(40)]


def test_provider_cost_is_tokens_times_epochs_times_price():
    estimate = provider_estimate(EXAMPLES, "my-model", epochs=4, price_per_1m=8.0)
    per_epoch = sum(example_tokens(e, counter_for("cl100k_base")) for e in EXAMPLES)
    assert estimate.tokens_per_epoch == per_epoch
    assert estimate.training_tokens == 4 * per_epoch
    assert estimate.cost_usd == pytest.approx(4 * per_epoch * 8.0 / 1e6, abs=1e-4)
    assert training_cost(2_000_000, 3.0) == 6.0


def test_provider_price_comes_from_the_catalog_with_its_source():
    from ragft.costs.prices import load_catalog

    row = load_catalog().get("fine_tuning", "gpt-4.1-mini")
    estimate = provider_estimate(EXAMPLES, "gpt-4.1-mini")
    assert estimate.price_per_1m == row.training_per_1m and row.source in estimate.price_source
    assert estimate.epochs == 3
    with pytest.raises(NotFoundError, match="unknown fine-tunable model 'gpt-9'"):
        provider_estimate(EXAMPLES, "gpt-9")


def test_budget_overruns_are_one_line_errors():
    estimate = provider_estimate(EXAMPLES, "m", epochs=3, price_per_1m=1000.0)
    with pytest.raises(InputError, match=r"exceeds --max-cost \$0.01"):
        check_budget(estimate, max_cost=0.01)
    check_budget(estimate, max_cost=estimate.cost_usd)


def test_local_estimate_counts_model_tokens_and_extrapolates_measured_step_time(tiny):
    model, tokenizer = tiny
    facts = [Example(prompt=q, completion=a) for q, a in [("What colour is the sky on Zorb?",
                                                            "The sky on Zorb is green.")] * 8]
    config = TrainConfig(epochs=2, batch_size=4)
    estimate = local_estimate(facts, config, base="tiny", model=model, tokenizer=tokenizer)
    assert estimate.steps == 4 and estimate.epochs == 2
    assert estimate.seconds == pytest.approx(4 * estimate.seconds_per_step, rel=0.01)
    assert estimate.tokens_per_epoch > 8 * 10
    with pytest.raises(InputError, match="exceeds --max-minutes"):
        check_budget(estimate, max_minutes=estimate.seconds / 60 / 2)
