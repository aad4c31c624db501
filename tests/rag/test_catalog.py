"""`Catalog`: meta.json read and written typed, in the same keys as before (an index folder moves between ragft
versions both ways, unknown keys kept); search settings saved with an index are what it searches with."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragft.errors import InputError
from ragft.rag.bm25 import BM25Index
from ragft.rag.catalog import Catalog, Chunking, SearchSettings
from ragft.rag.document import Document
from ragft.rag.engine import BM25_FILE, Index
from ragft.rag.search import SearchConfig
from ragft.rag.stores import open_store
from support import run_cli

# meta.json as ragft wrote it before the catalog (Index.open(chunk_tokens=64, overlap=8) on the hashing embedder,
# sync of FORMAT1_FILES under /tmp/ragft-fixture/docs, then add() of one document without a file).
FORMAT1 = Path(__file__).parents[1] / "data" / "index" / "meta-format1.json"
FORMAT1_ROOT = "/tmp/ragft-fixture/docs"
FORMAT1_FILES = {"lists.md": "# Lists\n\nPython lists are mutable sequences.\n",
                 "advanced/gc.md": "# GC\n\nThe garbage collector reclaims reference cycles.\n"}
UNKNOWN = {"owner": {"team": "docs"}}


def _format1() -> dict:
    return json.loads(FORMAT1.read_text(encoding="utf-8"))


def _with_unknown_keys(meta: dict) -> dict:
    """What a newer ragft might add: keys at the top, in a source and in a document."""
    meta = {**meta, "future": UNKNOWN}
    meta["sources"]["lists.md"]["mtime"] = 1700000000.5
    meta["documents"]["lists.md"]["language"] = "en"
    return meta


def _old_index(tmp_path: Path) -> Path:
    """An index folder whose meta.json is format 1 with unknown keys, its sources' files where it says they are."""
    docs = tmp_path / "docs"
    for name, text in FORMAT1_FILES.items():
        (docs / name).parent.mkdir(parents=True, exist_ok=True)
        (docs / name).write_text(text, encoding="utf-8")
    meta = _with_unknown_keys(json.loads(FORMAT1.read_text(encoding="utf-8").replace(FORMAT1_ROOT, str(docs))))
    path = tmp_path / "index"
    path.mkdir()
    (path / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return path


def _shape(value):
    """The key structure of a meta dict, keys of the per-source and per-document maps folded together."""
    if not isinstance(value, dict):
        return type(value).__name__
    return {key: _shape(item) for key, item in value.items()}


def test_a_format_1_meta_json_round_trips_through_the_catalog_byte_for_byte(tmp_path):
    catalog = Catalog.from_json(_format1())
    store = open_store(str(tmp_path))
    store.write_meta(catalog.to_json())
    assert (tmp_path / "meta.json").read_bytes() == FORMAT1.read_bytes()


def test_the_catalog_reads_format_1_typed(tmp_path):
    catalog = Catalog.from_json(_format1())
    assert (catalog.embedder, catalog.embedder_id, catalog.dim, catalog.generation) == \
        ("test-hashing", "test-hashing:v1", 64, 2)
    assert catalog.chunking == Chunking(64, 8) and catalog.search is None
    assert catalog.sources["lists.md"].doc_ids == ["lists.md"] and catalog.sources["lists.md"].chunking == Chunking(64, 8)
    assert catalog.documents["lists.md"].source_key == "lists.md" and catalog.documents["lists.md"].chunks == 1
    assert catalog.documents["note-1"].source_key is None and catalog.documents["note-1"].title == "Note"
    assert catalog.is_current("lists.md", catalog.sources["lists.md"].hash)
    assert not catalog.is_current("lists.md", "0" * 64) and not catalog.is_current("missing.md", "")


def test_unknown_keys_at_every_level_are_kept():
    meta = _with_unknown_keys(_format1())
    catalog = Catalog.from_json(meta)
    assert catalog.extra == {"future": UNKNOWN} and catalog.documents["lists.md"].extra == {"language": "en"}
    assert catalog.to_json() == meta


def test_an_index_written_before_the_catalog_opens_syncs_and_keeps_unknown_keys(tmp_path):
    path = _old_index(tmp_path)
    before = json.loads((path / "meta.json").read_text())
    with Index.open(path, embedder="test-hashing", create=False) as index:
        assert index.stats()["chunking"] == {"max_tokens": 64, "overlap": 8} and index.generation == 2
        report = index.sync([tmp_path / "docs"], progress=False)
        assert report.unchanged == 2 and not report.changed           # its sources are recognised by hash
        assert index.remove(["note-1"]) == 0                         # the fixture's store holds no rows
    after = json.loads((path / "meta.json").read_text())
    assert after["generation"] == 3 and after["updated"] > before["updated"]
    del before["documents"]["note-1"]
    assert {k: v for k, v in after.items() if k not in ("generation", "updated")} == \
        {k: v for k, v in before.items() if k not in ("generation", "updated")}


def test_a_meta_json_written_now_has_the_keys_of_format_1_and_search_only_when_saved(tmp_path):
    docs = tmp_path / "docs"
    for name, text in FORMAT1_FILES.items():
        (docs / name).parent.mkdir(parents=True, exist_ok=True)
        (docs / name).write_text(text, encoding="utf-8")
    with Index.open(tmp_path / "index", embedder="test-hashing", chunk_tokens=64, overlap=8) as index:
        index.sync([docs], progress=False)
        index.add([Document(id="note-1", text="An added note without a file.", title="Note")])
    written = json.loads((tmp_path / "index" / "meta.json").read_text())
    old = _format1()
    assert _shape(written) == _shape(old)
    assert {k: v for k, v in written.items() if k not in ("created", "updated", "sources", "documents")} == \
        {k: v for k, v in old.items() if k not in ("created", "updated", "sources", "documents")}
    assert written["documents"] == old["documents"] | {d: {**old["documents"][d], "source": str(docs / d)}
                                                       for d in FORMAT1_FILES}
    with Index.open(tmp_path / "index", embedder="test-hashing") as index:
        index.save_search_settings(SearchConfig(alpha=0.5))
    assert set(json.loads((tmp_path / "index" / "meta.json").read_text())) == set(old) | {"search"}


def test_saved_search_settings_are_what_a_reopened_index_searches_with(tmp_path, corpus):
    rrf = SearchConfig(fusion="rrf", rrf_k=30.0, weights={"dense": 1.0, "bm25": 0.5}, candidates=50)
    tuned = {"by": "ragft eval tune", "eval_set": "faq.jsonl", "test_ndcg": 0.71}
    with Index.open(tmp_path / "index", embedder="test-hashing") as index:
        index.sync([corpus], progress=False)
        generation = index.generation
        index.save_search_settings(rrf, k=3, tuned=tuned)
        assert index.generation == generation + 1 and index.config == rrf      # this index too
    saved = json.loads((tmp_path / "index" / "meta.json").read_text())["search"]
    assert saved == {"fusion": "rrf", "alpha": 0.65, "rrf_k": 30.0, "weights": {"dense": 1.0, "bm25": 0.5},
                     "candidates": 50, "k": 3, "tuned": tuned}
    with Index.open(tmp_path / "index", embedder="test-hashing") as index:
        assert BM25Index.load(tmp_path / "index" / BM25_FILE, index.catalog.stamp) is not None  # not rebuilt
        assert index.config == rrf and index.catalog.search == SearchSettings.from_config(rrf, 3, tuned)
        hits = index.search("garbage collector reference cycles")
        assert len(hits) == 3 and set(hits[0].scores) == {"dense", "bm25", "rrf"}
        assert set(index.search("garbage collector", fusion="convex")[0].scores) == {"dense", "bm25", "convex"}
        assert len(index.search("garbage collector", k=5)) == 5
        stats = index.stats()
        assert stats["search"]["fusion"] == "rrf" and stats["search"]["k"] == 3 and stats["saved_search"] == saved
    with Index.open(tmp_path / "index", embedder="test-hashing", search_config=SearchConfig()) as index:
        assert set(index.search("garbage collector")[0].scores) == {"dense", "bm25", "convex"}


def test_without_saved_settings_search_uses_the_defaults(tmp_path, corpus):
    with Index.open(tmp_path / "index", embedder="test-hashing") as index:
        index.sync([corpus], progress=False)
        assert index.config == SearchConfig() and index.stats()["saved_search"] is None
        assert len(index.search("python")) == min(10, index.store.count())


def test_cli_search_without_fusion_flags_uses_the_saved_settings(indexed, capsys):
    with Index.open(indexed, embedder="test-hashing") as index:
        index.save_search_settings(SearchConfig(fusion="rrf"), k=2)
    code, out, _ = run_cli(capsys, "search", "garbage collector", "--index", indexed, "--json")
    hits = json.loads(out)["hits"]
    assert code == 0 and len(hits) == 2 and "rrf" in hits[0]["scores"]
    _, out, _ = run_cli(capsys, "search", "garbage collector", "--index", indexed, "--json", "-k", "4", "--alpha", "1")
    hits = json.loads(out)["hits"]
    assert len(hits) == 4 and "convex" in hits[0]["scores"]


def test_saved_settings_out_of_range_are_refused_in_one_line_naming_the_fix(tmp_path, corpus):
    with Index.open(tmp_path / "index", embedder="test-hashing") as index:
        index.sync([corpus], progress=False)
        generation = index.generation
        with pytest.raises(InputError, match="k must be a whole number >= 1"):
            index.save_search_settings(SearchConfig(), k=0)
        assert index.catalog.search is None and index.generation == generation
    meta = json.loads((tmp_path / "index" / "meta.json").read_text())
    meta["search"] = {**SearchSettings().to_json(), "fusion": "magic"}
    (tmp_path / "index" / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(InputError, match=r"index at .*: index meta: saved search settings: fusion: unknown fusion "
                                         r"'magic'.*delete the \"search\" entry of meta.json") as error:
        Index.open(tmp_path / "index", embedder="test-hashing")
    assert "\n" not in str(error.value)


def test_a_malformed_meta_json_is_refused_in_one_line(tmp_path):
    meta = _format1()
    meta["documents"] = ["lists.md"]
    with pytest.raises(InputError, match="index meta: documents must be a JSON object; open the index with rebuild"):
        Catalog.from_json(meta)
    with pytest.raises(InputError, match="index meta: missing dim"):
        Catalog.from_json({k: v for k, v in _format1().items() if k != "dim"})
