"""Shared fixtures: the python-faq and debian-faq benches built from the real excerpts in tests/data."""
from __future__ import annotations

from pathlib import Path

import pytest

from ragft.evaluate.benches import load_bench

DATA = Path(__file__).resolve().parents[1] / "data"
PYTHON_DOC_TREE = DATA / "python3.11-doc"
DEBIAN_FAQ_TREE = DATA / "debian-faq"


@pytest.fixture(scope="session")
def python_faq_bench(tmp_path_factory):
    return load_bench("python-faq", cache_dir=tmp_path_factory.mktemp("benches"),
                      source_dir=PYTHON_DOC_TREE, distractors=4)


@pytest.fixture(scope="session")
def debian_faq_bench(tmp_path_factory):
    return load_bench("debian-faq", cache_dir=tmp_path_factory.mktemp("benches"), source_dir=DEBIAN_FAQ_TREE)
