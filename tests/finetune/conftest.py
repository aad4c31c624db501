"""Fixtures: the tiny Gemma 3 and facts to memorise (see tiny_gemma.py)."""
from __future__ import annotations

import pytest

from ragft.finetune.dataset import Example

from .tiny_gemma import FACTS, build_tiny_gemma, build_tokenizer


@pytest.fixture
def facts() -> list[Example]:
    return [Example(prompt=q, completion=a) for q, a in FACTS]


@pytest.fixture
def tiny():
    """A fresh (model, tokenizer) pair; the same weights every time (seeded)."""
    tokenizer = build_tokenizer()
    return build_tiny_gemma(len(tokenizer)), tokenizer
