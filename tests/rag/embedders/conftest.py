"""One real MiniLM per test session: loading it takes about a second."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def minilm():
    from ragft.rag.embedders import create_embedder

    return create_embedder("minilm")
