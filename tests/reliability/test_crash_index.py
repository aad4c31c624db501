"""SIGKILL during `ragft index` at seeded random points: the re-run finishes the sync with nothing lost or doubled."""
from __future__ import annotations

import json
import random

import pytest

from ragft.rag.doctor import check
from tests.reliability.conftest import RAGFT, doctor, kill_after, make_corpus, ragft

KILLS = 4


def _stored(index) -> tuple[int, set[str]]:
    from ragft.rag.stores import open_store

    store = open_store(str(index))
    return store.count(), {c.id for c in store.chunks()}


def _clean_index(tmp_path, corpus, embedder):
    from ragft.rag.engine import Index

    clean = tmp_path / "clean"
    with Index.open(clean, embedder=embedder, embedding_cache=False) as index:
        index.sync([corpus], progress=False)
    return _stored(clean)


def _ingest_started(index):
    """True once the run has opened the index and its embedding cache (the embedder is loaded)."""
    return lambda: (index / "meta.json").exists() and (index / "embeddings.sqlite").exists()


def _kill_and_resume(tmp_path, corpus, embedder: str, kills: int, seed: int, max_delay: float):
    index = tmp_path / "index"
    rng = random.Random(seed)
    landed = 0
    for _ in range(kills):
        args = ["index", str(corpus), "--index", str(index), "--embedder", embedder, "--json"]
        landed += kill_after([RAGFT, *args], _ingest_started(index), rng.uniform(0.0, max_delay))
        if (index / "meta.json").exists():                  # it opens and can be checked after every kill
            check(index)
    final = json.loads(ragft("index", str(corpus), "--index", str(index), "--json").stdout)
    return index, landed, final


def test_sigkilled_index_runs_resume_to_the_same_chunks_as_a_clean_index(tmp_path, static_embedder):
    corpus = make_corpus(tmp_path / "docs", 300, seed=7)
    index, landed, final = _kill_and_resume(tmp_path, corpus, "static", KILLS, seed=2024, max_delay=2.5)
    assert landed >= 2, "the kills should land while the ingest is still running"
    report = doctor(index)
    assert report["consistent"], report["problems"]
    count, ids = _stored(index)
    assert (count, ids) == _clean_index(tmp_path, corpus, static_embedder)
    assert report["figures"]["rows"] == count == final["chunks_total"]
    assert report["figures"]["documents"] == 300


@pytest.mark.slow
def test_sigkilled_index_on_the_default_minilm_embedder_resumes_without_duplicates(tmp_path):
    corpus = make_corpus(tmp_path / "docs", 60, seed=11)
    index, landed, final = _kill_and_resume(tmp_path, corpus, "minilm", 2, seed=7, max_delay=3.0)
    report = doctor(index)
    assert report["consistent"], report["problems"]
    assert report["figures"]["rows"] == report["figures"]["chunks"] == final["chunks_total"]
    assert report["figures"]["documents"] == 60
    assert landed >= 1
