"""Shared fixtures for the RAG engine tests: a tiny deterministic embedder and a generated corpus."""
from __future__ import annotations

import pytest

from ragft.rag.embedders.base import EMBEDDERS
from ragft.testing import HashingEmbedder
from support import run_cli


@pytest.fixture(autouse=True)
def hashing_embedder():
    """`--embedder test-hashing` for every rag test, removed from the registry afterwards."""
    with EMBEDDERS.registered("test-hashing", HashingEmbedder):
        yield

TOPICS = {
    "lists": "Python lists are mutable sequences. Append adds an item to the end of a list.",
    "tuples": "Tuples are immutable sequences, often used to group heterogeneous values together.",
    "dicts": "A dictionary maps hashable keys to values; lookups by key take constant time on average.",
    "gc": "The garbage collector reclaims memory of objects caught in reference cycles.",
    "gil": "The global interpreter lock lets only one thread execute Python bytecode at a time.",
    "venv": "A virtual environment isolates installed packages per project, created with python -m venv.",
}


@pytest.fixture
def corpus(tmp_path):
    """A folder of markdown files, one topic each, under docs/ (plus a nested folder)."""
    root = tmp_path / "docs"
    (root / "advanced").mkdir(parents=True)
    for name, text in TOPICS.items():
        folder = root / "advanced" if name in ("gc", "gil") else root
        (folder / f"{name}.md").write_text(f"# About {name}\n\n{text}\n", encoding="utf-8")
    return root


@pytest.fixture
def indexed(tmp_path, corpus, capsys):
    """`ragft index` of the corpus with the hashing embedder; the index folder's path."""
    index = str(tmp_path / "index")
    code, out, _ = run_cli(capsys, "index", str(corpus), "--index", index, "--embedder", "test-hashing", "--json")
    assert code == 0, out
    return index
