"""Uncertainty for eval numbers: percentile bootstrap confidence intervals and winner-or-tie comparisons."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np

from ragft.errors import InputError

_BLOCK = 1_000_000      # resample indices drawn per block, so memory stays bounded for long value lists


def _as_array(values: Sequence[float], name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1 or array.size == 0:
        raise InputError(f"{name}: need a non-empty list of numbers, got {array.size} values")
    if not np.all(np.isfinite(array)):
        raise InputError(f"{name}: contains NaN or infinite values; drop or fix those rows first")
    return array


def bootstrap_means(values: np.ndarray, n_resamples: int, seed: int) -> np.ndarray:
    """Means of `n_resamples` resamples drawn with replacement (numpy, vectorised, seeded)."""
    rng = np.random.default_rng(seed)
    n = values.size
    rows = max(1, _BLOCK // n)
    means = []
    for start in range(0, n_resamples, rows):
        count = min(rows, n_resamples - start)
        means.append(values[rng.integers(0, n, size=(count, n))].mean(axis=1))
    return np.concatenate(means)


def bootstrap_ci(values: Sequence[float], n_resamples: int = 1000, confidence: float = 0.95,
                 seed: int = 0) -> tuple[float, float, float]:
    """(mean, low, high): the sample mean and the percentile-bootstrap interval of the mean."""
    if not 0 < confidence < 1:
        raise InputError(f"confidence must be between 0 and 1, got {confidence}")
    if n_resamples < 1:
        raise InputError(f"n_resamples must be >= 1, got {n_resamples}")
    array = _as_array(values, "values")
    means = bootstrap_means(array, n_resamples, seed)
    tail = (1 - confidence) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(array.mean()), float(low), float(high)


@dataclass(frozen=True)
class Comparison:
    winner: Literal["a", "b", "tie"]
    method: str                       # "paired bootstrap of differences" or "overlap of two bootstrap CIs"
    mean_a: float
    mean_b: float
    difference: float                 # mean_a - mean_b
    low: float                        # paired: CI of the mean difference; unpaired: of the difference's bounds
    high: float
    confidence: float
    n_resamples: int
    seed: int


def compare_detail(a_values: Sequence[float], b_values: Sequence[float], higher_is_better: bool = True,
                   paired: bool = True, n_resamples: int = 1000, confidence: float = 0.95,
                   seed: int = 0) -> Comparison:
    """Which system is better, or a tie when the evidence does not separate them.

    paired=True (both systems scored on the same questions, in the same order): bootstrap the per-question
    differences a-b; a winner only when the interval of the mean difference excludes 0.
    paired=False: one bootstrap interval per system; a winner only when the two intervals do not overlap.
    """
    a, b = _as_array(a_values, "a_values"), _as_array(b_values, "b_values")
    if paired:
        if a.size != b.size:
            raise InputError(f"paired comparison needs the same questions for both systems: got {a.size} and "
                             f"{b.size} values; pass paired=False for different question sets")
        _, low, high = bootstrap_ci(a - b, n_resamples, confidence, seed)
        method = "paired bootstrap of differences"
        separated_up, separated_down = low > 0, high < 0
    else:
        _, a_low, a_high = bootstrap_ci(a, n_resamples, confidence, seed)
        _, b_low, b_high = bootstrap_ci(b, n_resamples, confidence, seed + 1)
        low, high = a_low - b_high, a_high - b_low
        method = "overlap of two bootstrap CIs"
        separated_up, separated_down = a_low > b_high, a_high < b_low
    if separated_up:
        winner = "a" if higher_is_better else "b"
    elif separated_down:
        winner = "b" if higher_is_better else "a"
    else:
        winner = "tie"
    return Comparison(winner, method, float(a.mean()), float(b.mean()), float(a.mean() - b.mean()),
                      float(low), float(high), confidence, n_resamples, seed)


def compare(a_values: Sequence[float], b_values: Sequence[float], higher_is_better: bool = True,
            paired: bool = True, n_resamples: int = 1000, confidence: float = 0.95,
            seed: int = 0) -> Literal["a", "b", "tie"]:
    """"a", "b" or "tie"; see compare_detail for the method."""
    return compare_detail(a_values, b_values, higher_is_better, paired, n_resamples, confidence, seed).winner
