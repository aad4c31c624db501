"""The sentence-transformers backend fails loudly and in one line when it cannot run."""
from __future__ import annotations

import importlib.util

import pytest

from ragft.errors import MissingDependencyError
from ragft.rag.embedders import EMBEDDERS, create_embedder

needs_absent_package = pytest.mark.skipif(
    importlib.util.find_spec("sentence_transformers") is not None, reason="sentence-transformers is installed"
)


@needs_absent_package
def test_without_the_package_the_error_says_how_to_install_it(tmp_path):
    with pytest.raises(MissingDependencyError) as info:
        create_embedder("sentence-transformers", model=str(tmp_path))
    message = str(info.value)
    assert "pip install sentence-transformers==" in message and "\n" not in message


def test_every_backend_is_registered_by_name():
    create_embedder("static", table="input")
    assert {"minilm", "static", "openai", "sentence-transformers"} <= set(EMBEDDERS.names())
