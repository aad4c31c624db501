"""Estimates before training: tokens, epochs, steps, and cost (provider price per 1M training tokens) or
time (local: seconds per step measured with a short timed run on this machine, extrapolated)."""
from __future__ import annotations

import math
from typing import Any, Sequence

from pydantic import BaseModel

from ragft.errors import InputError
from ragft.finetune.dataset import Example, approx_counter, example_tokens

DEFAULT_PROVIDER_EPOCHS = 3     # what we assume for OpenAI's n_epochs="auto" unless told otherwise


class Estimate(BaseModel):
    target: str                         # "openai:gpt-4.1-mini" or "local:gemma3-270m"
    examples: int
    tokens_per_epoch: int
    epochs: int
    training_tokens: int
    steps: int | None = None
    batch_size: int | None = None
    token_counter: str
    token_counter_deviation: str = ""
    price_per_1m: float | None = None
    price_source: str | None = None
    cost_usd: float | None = None
    seconds_per_step: float | None = None
    seconds: float | None = None
    device: str | None = None

    @property
    def minutes(self) -> float | None:
        return None if self.seconds is None else self.seconds / 60


def training_cost(training_tokens: int, price_per_1m: float) -> float:
    """Provider training cost: billed training tokens (tokens per epoch x epochs) x price per 1M."""
    return training_tokens * price_per_1m / 1_000_000


def catalog_training_price(model: str) -> tuple[float, str]:
    """(training price per 1M tokens, provenance) of a fine-tunable model from ragft's price catalog."""
    from ragft.costs.prices import load_catalog

    row = load_catalog().get("fine_tuning", model, "fine-tunable model")
    return row.training_per_1m, row.provenance


def provider_estimate(examples: Sequence[Example], model: str, *, epochs: int = DEFAULT_PROVIDER_EPOCHS,
                      price_per_1m: float | None = None, provider: str = "openai") -> Estimate:
    """Billed tokens and cost of a provider fine-tuning job (price from the catalog unless given)."""
    if epochs < 1:
        raise InputError(f"--epochs {epochs}: must be at least 1")
    source = "given with --price-per-1m"
    if price_per_1m is None:
        price_per_1m, source = catalog_training_price(model)
    counter = approx_counter()
    per_epoch = sum(example_tokens(e, counter) for e in examples)
    return Estimate(
        target=f"{provider}:{model}", examples=len(examples), tokens_per_epoch=per_epoch, epochs=epochs,
        training_tokens=per_epoch * epochs, token_counter=counter.method,
        token_counter_deviation=counter.deviation, price_per_1m=price_per_1m, price_source=source,
        cost_usd=round(training_cost(per_epoch * epochs, price_per_1m), 4),
    )


def local_estimate(examples: Sequence[Example], config: Any, *, base: str = "gemma3-270m",
                   device: str = "cpu", model: Any = None, tokenizer: Any = None,
                   measure_steps: int = 2) -> Estimate:
    """Tokens with the model's own tokenizer; time from `measure_steps` real LoRA steps on this machine."""
    from ragft.finetune.train_local import encode, load_base, measure_seconds_per_step, total_steps

    if model is None:
        model, tokenizer = load_base(base, device)
    per_epoch = sum(len(encode(e, tokenizer, config.max_seq_len)[0]) for e in examples)
    steps = total_steps(len(examples), config)
    epochs = math.ceil(steps / math.ceil(len(examples) / config.batch_size))
    per_step = measure_seconds_per_step(examples, model, tokenizer, config, device=device, steps=measure_steps)
    return Estimate(
        target=f"local:{base}", examples=len(examples), tokens_per_epoch=per_epoch, epochs=epochs,
        training_tokens=per_epoch * epochs, steps=steps, batch_size=config.batch_size,
        token_counter=f"{base} tokenizer (truncated at {config.max_seq_len})",
        seconds_per_step=per_step, seconds=per_step * steps, device=device,
    )


def check_budget(estimate: Estimate, *, max_cost: float | None = None, max_minutes: float | None = None) -> None:
    """Refuse, in one line, a run whose estimate exceeds the budget the user set."""
    if max_cost is not None and estimate.cost_usd is not None and estimate.cost_usd > max_cost:
        raise InputError(
            f"estimated training cost ${estimate.cost_usd:.2f} ({estimate.training_tokens:,} tokens x "
            f"${estimate.price_per_1m}/1M) exceeds --max-cost ${max_cost:.2f}; use fewer examples or "
            "epochs, or raise --max-cost")
    if max_minutes is not None and estimate.minutes is not None and estimate.minutes > max_minutes:
        raise InputError(
            f"estimated training time {estimate.minutes:.1f} min ({estimate.steps} steps x "
            f"{estimate.seconds_per_step:.2f} s measured on {estimate.device}) exceeds --max-minutes "
            f"{max_minutes:g}; use fewer examples, epochs or --max-seq-len, or raise --max-minutes")
