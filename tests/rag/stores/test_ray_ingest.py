"""`ragft index --engine ray`: Ray actors load, chunk, embed and write into a real PostgreSQL+pgvector; the driver
keeps change detection, the meta and BM25. What they write equals a one-process sync, a killed worker is retried,
and re-runs only send what changed."""
from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from ragft.errors import InputError
from ragft.rag.distributed import sync_on_ray
from ragft.rag.doctor import check
from ragft.rag.embedders.base import EMBEDDERS
from ragft.rag.engine import Index
from support import run_cli

WORDS = ("python list tuple dict set thread lock memory garbage collector import module package virtual "
         "environment interpreter bytecode generator iterator decorator context manager exception").split()


@pytest.fixture
def big_corpus(tmp_path):
    """20 markdown files of a few sections each (several chunks per file at --chunk-tokens 40)."""
    root = tmp_path / "docs"
    (root / "deep").mkdir(parents=True)
    rng = np.random.default_rng(7)
    for n in range(20):
        sections = [f"## Part {s}\n\n" + " ".join(rng.choice(WORDS, 60)) + "." for s in range(3)]
        folder = root / "deep" if n % 4 == 0 else root
        (folder / f"doc{n:02d}.md").write_text(f"# Document {n}\n\n" + "\n\n".join(sections) + "\n", encoding="utf-8")
    return root


def rows(index):
    """{chunk id: (doc id, text, vector)} straight from the pgvector table."""
    store = index.store
    query = f'SELECT id, doc_id, text, embedding FROM "{store.table}"'
    return {cid: (doc, text, vector.to_numpy()) for cid, doc, text, vector in store._conn.execute(query)}


def same_rows(a, b) -> None:
    assert a.keys() == b.keys() and a
    for cid, (doc, text, vector) in a.items():
        assert (doc, text) == b[cid][:2]
        np.testing.assert_allclose(vector, b[cid][2], rtol=0, atol=1e-6)


def open_index(path, url, embedder="test-hashing"):
    return Index.open(path, embedder=embedder, store=url, chunk_tokens=40, overlap=8)


def test_ray_ingest_writes_what_a_local_sync_writes_and_re_runs_send_only_changes(
        ray_cluster, postgres, tmp_path, big_corpus):
    with open_index(tmp_path / "local", postgres.table_url()) as local, \
            open_index(tmp_path / "ray", postgres.table_url()) as distributed:
        expected = local.sync([big_corpus], progress=False)
        report = sync_on_ray(distributed, [big_corpus], workers=2, files_per_task=3, progress=False)
        assert sorted(report.added) == sorted(expected.added) and len(report.added) == 20
        assert report.chunks_added == expected.chunks_added == distributed.store.count() > 40
        same_rows(rows(distributed), rows(local))
        assert distributed.catalog.documents == local.catalog.documents
        assert {k: replace(v, path=None) for k, v in distributed.catalog.sources.items()} == \
            {k: replace(v, path=None) for k, v in local.catalog.sources.items()}
        for mode in ("bm25", "hybrid"):
            assert [h.chunk.id for h in distributed.search("garbage collector thread lock", k=8, mode=mode)] == \
                [h.chunk.id for h in local.search("garbage collector thread lock", k=8, mode=mode)]

        (big_corpus / "doc01.md").write_text("# Document 1\n\nNow only about decorators and iterators.\n")
        (big_corpus / "doc02.md").unlink()
        (big_corpus / "new.md").write_text("# New\n\nA context manager closes the file.\n")
        expected = local.sync([big_corpus], progress=False)
        again = sync_on_ray(distributed, [big_corpus], workers=2, files_per_task=3, progress=False)
        assert (again.added, again.updated, again.removed, again.unchanged) == \
            (["new.md"], ["doc01.md"], ["doc02.md"], 18) == \
            (expected.added, expected.updated, expected.removed, expected.unchanged)
        same_rows(rows(distributed), rows(local))
        assert [h.chunk.id for h in distributed.search("decorators iterators", k=5, mode="bm25")] == \
            [h.chunk.id for h in local.search("decorators iterators", k=5, mode="bm25")]
        assert sync_on_ray(distributed, [big_corpus], progress=False).changed is False
    assert check(tmp_path / "ray", store=distributed.store.location).consistent


def test_a_worker_killed_mid_batch_is_retried_and_the_index_ends_consistent(
        ray_cluster, postgres, tmp_path, big_corpus):
    assert not ray_cluster.crash_marker.exists()
    url = postgres.table_url()
    with EMBEDDERS.registered("test-crash-once", ray_cluster.crash_embedder), \
            open_index(tmp_path / "ray", url, embedder="test-crash-once") as distributed, \
            open_index(tmp_path / "local", postgres.table_url()) as local:
        report = sync_on_ray(distributed, [big_corpus], workers=2, files_per_task=4, progress=False)
        local.sync([big_corpus], progress=False)
        assert ray_cluster.crash_marker.exists()          # a worker process did die mid-job
        assert len(report.added) == 20 and not report.failed
        same_rows(rows(distributed), rows(local))         # the same hashing vectors, nothing lost, nothing doubled
    result = check(tmp_path / "ray", store=url)
    assert result.consistent, result.problems


def test_ragft_index_engine_ray_on_the_command_line(ray_cluster, postgres, tmp_path, big_corpus, capsys):
    url = postgres.table_url()
    code, out, err = run_cli(capsys, "index", str(big_corpus), "--index", str(tmp_path / "index"), "--store", url,
                             "--embedder", "test-hashing", "--engine", "ray", "--workers", "2", "--json")
    assert code == 0, err
    assert len(json.loads(out)["added"]) == 20
    code, out, _ = run_cli(capsys, "search", "garbage collector", "--index", str(tmp_path / "index"),
                           "--store", url, "--json")
    assert code == 0 and json.loads(out)


def test_the_embedded_folder_is_refused_for_ray_with_one_line(tmp_path, corpus, capsys):
    with Index.open(tmp_path / "index", embedder="test-hashing") as index:
        with pytest.raises(InputError, match="server store") as error:
            sync_on_ray(index, [corpus])
    assert "\n" not in str(error.value)
    code, _, err = run_cli(capsys, "index", str(corpus), "--index", str(tmp_path / "other"),
                           "--embedder", "test-hashing", "--engine", "ray")
    assert code != 0 and "--engine ray" in err and "Traceback" not in err
