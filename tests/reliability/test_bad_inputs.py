"""A corpus of bad inputs (generated here): each ends in one clear message naming the file, and the index keeps
working with everything it already held."""
from __future__ import annotations

import gzip
import io
import os
import zipfile

import pytest

from ragft.errors import InputError, RagftError
from ragft.rag.doctor import check
from ragft.rag.engine import Index
from tests.rag.pdf_samples import make_pdf
from tests.reliability.conftest import make_corpus, ragft

BIG_MB = 200


def _bad_corpus(root):
    """{file name: words its message must contain}."""
    root.mkdir(parents=True)
    cases = {
        "empty.md": (b"", "empty"),
        "blank.txt": (b" \n\t\n", "empty"),
        "binary.txt": (os.urandom(4096) + b"\x00" * 16, "binary"),
        "latin1.md": ("café au lait, naïve résumé".encode("latin-1"), "UTF-8"),
        "utf16.txt": ("hello".encode("utf-16"), "UTF-16"),
        "gzip-in-disguise.txt": (gzip.compress(b"A" * 1_000_000), "binary"),
        "truncated.pdf": (make_pdf([["The first page of a report"], ["The second page"]])[:180], "PDF"),
        "not-really.pdf": (b"just some text pretending to be a PDF\n", "PDF"),
        "script-only.html": (b"<html><script>alert(1)</script><style>p{}</style></html>", "no visible text"),
        "broken.jsonl": (b'{"id": "a", "text": "fine line"}\n{"id": "b", "text": \n', "broken.jsonl:2"),
        "wrong-types.jsonl": (b'{"id": "a", "text": 42}\n', "wrong-types.jsonl:1"),
    }
    for name, (data, _) in cases.items():
        (root / name).write_bytes(data)
    nested = "<div>" * 50_000 + "deep text survives nesting" + "</div>" * 50_000
    (root / "nested.html").write_text(f"<html><body>{nested}</body></html>", encoding="utf-8")
    with open(root / "huge.txt", "wb") as handle:          # over the 50 MB default cap: refused, not read
        line = b"a line of perfectly ordinary text that goes on and on\n" * 1000
        for _ in range(BIG_MB * 2**20 // len(line) + 1):
            handle.write(line)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.txt", b"\0" * 50_000_000)
    (root / "bomb.zip").write_bytes(bomb.getvalue())
    return {name: word for name, (_, word) in cases.items()} | {"huge.txt": "50 MB limit"}


@pytest.fixture(scope="module")
def damaged(tmp_path_factory, static_embedder):
    """An index of 20 good files, then a sync over the good files plus the bad corpus."""
    base = tmp_path_factory.mktemp("bad")
    good = make_corpus(base / "corpus" / "good", 20, seed=3)
    expected = _bad_corpus(base / "corpus" / "bad")
    index = Index.open(base / "index", embedder=static_embedder, embedding_cache=False)
    index.sync([good], root=base / "corpus", progress=False)
    before = {c.id for c in index.store.chunks()}
    report = index.sync([base / "corpus"], progress=False)
    yield index, report, expected, before, base
    index.close()


def test_every_bad_file_is_skipped_with_a_message_naming_it_and_the_problem(damaged):
    _, report, expected, _, _ = damaged
    failed = {os.path.basename(path): reason for path, reason in report.failed}
    assert set(failed) == set(expected)
    for name, word in expected.items():
        assert word in failed[name], (name, failed[name])
        assert "\n" not in failed[name] and "Traceback" not in failed[name]


def test_nothing_already_indexed_is_lost_and_deep_html_is_indexed(damaged):
    index, report, _, before, _ = damaged
    after = {c.id for c in index.store.chunks()}
    assert before <= after
    assert report.added == ["bad/nested.html"]
    assert index.search("deep text survives nesting", k=1, mode="bm25")[0].chunk.doc_id == "bad/nested.html"
    assert not report.removed


def test_the_index_still_answers_and_passes_the_consistency_check(damaged):
    index, _, _, _, base = damaged
    hits = index.search("Document 7 garbage collector", k=3)
    assert hits and all(h.chunk.doc_id.startswith("good/") for h in hits[:1])
    index._save_bm25_if_dirty()
    assert check(base / "index").consistent


def test_archives_are_not_ingested_and_naming_one_is_refused_clearly(damaged):
    *_, base = damaged
    with pytest.raises(InputError, match=r"bomb\.zip: unsupported file type"):
        damaged[0].sync([base / "corpus" / "bad" / "bomb.zip"], progress=False)


def test_the_file_size_cap_is_configurable(tmp_path, monkeypatch, static_embedder):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "20kb.txt").write_text("words and more words\n" * 1000)
    monkeypatch.setenv("RAGFT_MAX_FILE_MB", "0.01")
    with Index.open(tmp_path / "index", embedder=static_embedder, embedding_cache=False) as index:
        report = index.sync([tmp_path / "docs"], progress=False)
        assert "0.02 MB is over the 0.01 MB limit" in report.failed[0][1]
        monkeypatch.setenv("RAGFT_MAX_FILE_MB", "1")
        assert index.sync([tmp_path / "docs"], progress=False).added == ["20kb.txt"]


def test_ragft_index_on_the_bad_corpus_prints_one_line_per_skipped_file_and_exits_zero(damaged):
    *_, expected, _, base = damaged
    result = ragft("index", str(base / "corpus" / "bad"), "--index", str(base / "cli-index"), "--embedder", "static")
    skipped = [line for line in result.stderr.splitlines() if line.startswith("skipped ")]
    assert len(skipped) == len(expected)
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("text, field", [
    ('monthly_queries = "lots"\n', "monthly_queries"),
    ("latency_p95_s = [1, 2]\n", "latency_p95_s"),
    ("knowledge_valid_months = -3\n", "knowledge_valid_months"),
    ("streaming_ok = \n", "profile.toml"),
])
def test_a_profile_with_wrong_types_is_one_line_naming_the_field(tmp_path, text, field):
    from ragft.advise.profile import load_profile

    path = tmp_path / "profile.toml"
    path.write_text('name = "x"\n' + text, encoding="utf-8")
    with pytest.raises(RagftError) as error:
        load_profile(path)
    assert field in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("row, field", [
    ('per_1m_tokens = "cheap"', "per_1m_tokens"),
    ("per_1m_tokens = -1.0", "per_1m_tokens"),
    ('as_of = "yesterday"', "as_of"),
])
def test_a_price_file_with_wrong_types_is_one_line_naming_the_field(tmp_path, row, field):
    from ragft.costs.prices import load_catalog

    path = tmp_path / "prices.toml"
    base = {"name": '"my-embedder"', "provider": '"me"', "per_1m_tokens": "0.1", "dimensions": "384",
            "tokenizer": '"cl100k_base"', "source": '"https://example.com"', "as_of": "2025-01-01"}
    key = row.split(" =")[0]
    lines = [f"{k} = {v}" for k, v in base.items() if k != key] + [row]
    path.write_text("[[embedding]]\n" + "\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(RagftError) as error:
        load_catalog(path)
    assert field in str(error.value) and "\n" not in str(error.value)
    result = ragft("cost", "--volume", "1000", "--prices", str(path), check=False)
    assert result.returncode == 1 and result.stderr.startswith("error: ") and "Traceback" not in result.stderr
