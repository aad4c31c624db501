"""Bootstrap intervals and winner-or-tie decisions."""
from __future__ import annotations

import numpy as np
import pytest

from ragft.errors import InputError
from ragft.evaluate.stats import bootstrap_ci, compare, compare_detail


def test_bootstrap_is_deterministic_for_a_seed_and_varies_with_it():
    values = np.random.default_rng(1).random(200)
    assert bootstrap_ci(values, seed=3) == bootstrap_ci(values, seed=3)
    assert bootstrap_ci(values, seed=3)[1:] != bootstrap_ci(values, seed=4)[1:]


def test_interval_brackets_the_mean_and_narrows_with_more_data():
    small = np.tile([0.0, 1.0], 10)
    large = np.tile([0.0, 1.0], 1000)
    mean, low, high = bootstrap_ci(small)
    assert mean == 0.5 and low < 0.5 < high
    _, low_l, high_l = bootstrap_ci(large)
    assert high_l - low_l < (high - low) / 5


def test_a_constant_sample_has_a_zero_width_interval():
    assert bootstrap_ci([0.7] * 30) == pytest.approx((0.7, 0.7, 0.7))


def test_paired_comparison_finds_a_consistent_small_improvement():
    rng = np.random.default_rng(0)
    base = rng.random(100)
    better = base + 0.05                         # every question improves by 0.05
    assert compare(better, base, higher_is_better=True) == "a"
    assert compare(better, base, higher_is_better=False) == "b"
    # the same numbers treated as independent samples overlap: no winner
    assert compare(better, base, higher_is_better=True, paired=False) == "tie"


def test_identical_systems_tie_and_the_method_is_recorded():
    values = np.random.default_rng(2).random(50)
    result = compare_detail(values, values.copy())
    assert result.winner == "tie" and result.method == "paired bootstrap of differences"
    assert result.difference == 0.0


def test_paired_comparison_needs_equal_lengths():
    with pytest.raises(InputError, match="paired=False"):
        compare([1.0, 2.0], [1.0])


def test_bad_inputs_are_one_line_errors():
    with pytest.raises(InputError):
        bootstrap_ci([])
    with pytest.raises(InputError):
        bootstrap_ci([1.0, float("nan")])
    with pytest.raises(InputError):
        bootstrap_ci([1.0], confidence=1.5)
