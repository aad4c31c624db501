"""One real MiniLM per test session: loading it takes about a second."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def minilm():
    from ragft.rag.embedders import create_embedder

    return create_embedder("minilm")


@pytest.fixture(scope="session")
def static():
    """The distilled table lives in the user cache (~/.cache/ragft or $RAGFT_CACHE_DIR): ~1 min the first time."""
    from ragft.rag.embedders import create_embedder

    return create_embedder("static")
