"""Train/validation/test splits of an eval set; the leakage check that keeps test questions out of training
data is `ragft.text.check_leakage`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ragft.errors import InputError
from ragft.evaluate.evalset import EvalItem


@dataclass(frozen=True)
class Split:
    train: list[EvalItem]
    validation: list[EvalItem]
    test: list[EvalItem]
    seed: int


def split(items: Sequence[EvalItem], train: float = 0.6, validation: float = 0.2, test: float = 0.2,
          seed: int = 0) -> Split:
    """A seeded shuffle cut into three parts; sizes are rounded down for train and validation, the rest
    is test. The same items and seed always give the same split."""
    shares = (train, validation, test)
    if any(share < 0 for share in shares) or abs(sum(shares) - 1) > 1e-9:
        raise InputError(f"split shares must be >= 0 and sum to 1, got train={train} validation={validation} "
                         f"test={test}")
    order = np.random.default_rng(seed).permutation(len(items))
    n_train = int(len(items) * train + 1e-9)
    n_val = int(len(items) * validation + 1e-9)
    picked = [items[i] for i in order]
    return Split(picked[:n_train], picked[n_train:n_train + n_val], picked[n_train + n_val:], seed)
