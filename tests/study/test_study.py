"""The study's budgets: the demo's is small and labelled; an unknown one is a one-line error before any work."""
import pytest

from ragft.errors import InputError
from ragft.study import BUDGETS, run_study


def test_the_demo_budget_is_smaller_than_the_evidence_budget_in_every_dimension():
    tiny, full = BUDGETS["tiny"], BUDGETS["full"]
    assert tiny.eval_limit is not None and full.eval_limit is None
    assert tiny.train_steps < full.train_steps and tiny.distractors < full.distractors
    assert tiny.epochs < full.epochs and tiny.max_tokens <= full.max_tokens


def test_an_unknown_budget_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(InputError, match=r"--budget 'huge': choose one of tiny, full"):
        run_study(tmp_path / "study", budget="huge")
    assert not (tmp_path / "study").exists()
