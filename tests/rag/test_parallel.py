"""Parallel ingestion: two worker processes embed exactly what one process does, in order, and the index they
build (here in a Qdrant local-mode store) answers like the one a single process builds."""
from __future__ import annotations

import numpy as np
import pytest

from ragft.errors import InputError
from ragft.rag.embedders import create_embedder
from ragft.rag.engine import Index
from ragft.rag.parallel import ParallelEmbedder, ingest

TEXTS = [f"Question {i}: how do I {verb} a {noun} in Python?" for i, (verb, noun) in enumerate(
    (v, n) for v in ("copy", "sort", "reverse", "freeze", "serialise", "profile", "import")
    for n in ("list", "dict", "module", "class", "file", "thread"))]


@pytest.mark.slow
def test_two_workers_embed_exactly_what_one_process_does_in_the_same_order():
    serial = create_embedder("minilm")
    with ParallelEmbedder("minilm", workers=2) as parallel:
        assert (parallel.name, parallel.dim) == (serial.name, serial.dim)
        vectors = parallel.embed(TEXTS)
        assert parallel.embed([]).shape == (0, serial.dim)
        assert parallel.stats["texts"] == len(TEXTS)
    np.testing.assert_allclose(vectors, serial.embed(TEXTS), atol=1e-5)


@pytest.mark.slow
def test_ingest_on_two_workers_into_a_store_url_answers_like_a_one_process_index(corpus, tmp_path):
    pytest.importorskip("qdrant_client", reason="needs the stores extra (`make install`)")
    with Index.open(tmp_path / "serial", embedder="minilm") as serial:
        expected = serial.sync([corpus], progress=False)
        serial_hits = serial.search("immutable sequences of values", k=3, mode="dense")
    report = ingest([corpus], tmp_path / "parallel", store=f"qdrant+local://{tmp_path / 'qdrant'}", workers=2)
    assert sorted(report.added) == sorted(expected.added) and report.chunks_total == expected.chunks_total
    with Index.open(tmp_path / "parallel", store=f"qdrant+local://{tmp_path / 'qdrant'}", create=False) as again:
        hits = again.search("immutable sequences of values", k=3, mode="dense")
        assert again.store.count() == expected.chunks_total
    assert [h.chunk.id for h in hits] == [h.chunk.id for h in serial_hits]
    assert [h.score for h in hits] == pytest.approx([h.score for h in serial_hits], abs=1e-5)


def test_zero_workers_is_refused():
    with pytest.raises(InputError, match="workers: must be at least 1"):
        ParallelEmbedder("minilm", workers=0)
