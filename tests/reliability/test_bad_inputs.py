"""A corpus of bad inputs (generated here): each ends in one clear message naming the file, and the index keeps
working with everything it already held."""
from __future__ import annotations

import gzip
import io
import json
import os
import random
import resource
import shutil
import socket
import string
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from ragft.errors import InputError, RagftError
from ragft.rag.doctor import check
from ragft.rag.engine import Index
from tests.rag.pdf_samples import make_pdf
from tests.reliability.conftest import RAGFT, make_corpus, ragft

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


# ---- a messy real folder: one bad entry never stops the run ------------------------------------------------

def _good_files(docs, count=5):
    docs.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (docs / f"good{i}.md").write_text(f"# Good {i}\n\nStation {i} serves the harbour line number {i}.\n")


def _skipped_lines(stderr: str) -> dict[str, str]:
    """{file name: its `skipped` line} from `ragft index` stderr."""
    lines = [line for line in stderr.splitlines() if line.startswith("skipped ")]
    return {line.split(":", 1)[0].rsplit("/", 1)[-1]: line for line in lines}


def test_a_symlink_out_of_the_folder_is_skipped_with_one_line_and_the_rest_is_indexed(tmp_path):
    docs = tmp_path / "docs"
    _good_files(docs)
    os.symlink("/etc/passwd", docs / "escape-link.md")
    index = tmp_path / "index"
    result = ragft("index", str(docs), "--index", str(index), "--embedder", "static", "--json")
    report = json.loads(result.stdout)
    assert sorted(report["added"]) == [f"good{i}.md" for i in range(5)]
    [failed] = report["failed"]
    assert failed["path"].endswith("escape-link.md") and "not under the ingest root" in failed["reason"]
    assert "/etc/passwd" in failed["reason"]
    plain = ragft("index", str(docs), "--index", str(index), "--embedder", "static")
    assert plain.returncode == 0 and list(_skipped_lines(plain.stderr)) == ["escape-link.md"]
    strict = ragft("index", str(docs), "--index", str(index), "--embedder", "static", "--strict", check=False)
    assert strict.returncode == 3 and list(_skipped_lines(strict.stderr)) == ["escape-link.md"]
    os.unlink(docs / "escape-link.md")
    assert ragft("index", str(docs), "--index", str(index), "--embedder", "static", "--strict").returncode == 0


def test_fifos_sockets_loops_and_broken_links_are_skipped_without_hanging(tmp_path):
    docs = tmp_path / "docs"
    _good_files(docs)
    os.mkfifo(docs / "pipe.md")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(docs / "sock.md"))
    os.symlink("loop-b.md", docs / "loop-a.md")
    os.symlink("loop-a.md", docs / "loop-b.md")
    os.symlink("missing.md", docs / "dangling.md")
    os.symlink("..", docs / "parent")                     # a folder loop: docs/parent/docs/parent/...
    os.symlink(".", docs / "self")
    try:
        result = ragft("index", str(docs), "--index", str(tmp_path / "index"), "--embedder", "static", timeout=120)
    finally:
        server.close()
    skipped = _skipped_lines(result.stderr)
    assert set(skipped) == {"pipe.md", "sock.md", "loop-a.md", "loop-b.md", "dangling.md"}
    assert "not a regular file (a FIFO)" in skipped["pipe.md"] and "(a socket)" in skipped["sock.md"]
    assert "symbolic links" in skipped["loop-a.md"] and "broken symlink" in skipped["dangling.md"]
    assert "indexed 5 new" in result.stdout


def test_newlines_and_invalid_utf8_in_file_names_are_indexed_under_printable_ids(tmp_path, static_embedder):
    docs = tmp_path / "docs"
    _good_files(docs, 2)
    with open(os.path.join(os.fsencode(docs), b"caf\xe9 menu.md"), "w") as handle:
        handle.write("# Menu\n\nThe espresso costs two coins.\n")
    (docs / "two\nlines.md").write_text("# Two\n\nThe ferry leaves at noon.\n")
    with Index.open(tmp_path / "index", embedder=static_embedder, embedding_cache=False) as index:
        report = index.sync([docs], progress=False)
        assert report.failed == []
        assert set(report.added) == {"good0.md", "good1.md", "caf\\xe9 menu.md", "two\\nlines.md"}
        assert index.search("espresso coins", k=1, mode="bm25")[0].chunk.doc_id == "caf\\xe9 menu.md"
        assert index.search("ferry noon", k=1, mode="bm25")[0].chunk.doc_id == "two\\nlines.md"
        assert index.sync([docs], progress=False).unchanged == 4       # ids are stable across syncs
    (docs / "two\nlines.md").write_bytes(b"\xff\xfe not text")
    result = ragft("index", str(docs), "--index", str(tmp_path / "index"), "--embedder", "static")
    [line] = [line for line in result.stderr.splitlines() if line.startswith("skipped ")]
    assert "two\\nlines.md: text is UTF-16" in line


def _delete(path):
    path.unlink()


def _truncate(path):
    path.write_bytes(b"")


def _fifo(path):
    path.unlink()
    os.mkfifo(path)


@pytest.mark.parametrize("change, reason", [
    (_delete, "No such file or directory"),
    (_truncate, "file is empty"),
    (_fifo, "not a regular file (a FIFO)"),
])
def test_a_file_changed_between_discovery_and_reading_is_skipped(tmp_path, monkeypatch, static_embedder,
                                                                 change, reason):
    """The file is changed for real on disk after the sync hashed it and before the loader reads it."""
    from ragft.rag import engine

    docs = tmp_path / "docs"
    _good_files(docs, 3)
    victim = docs / "good1.md"
    real_hash = engine._file_hash

    def hash_then_change(path):
        digest = real_hash(path)
        if path == victim:
            change(path)
        return digest

    monkeypatch.setattr(engine, "_file_hash", hash_then_change)
    with Index.open(tmp_path / "index", embedder=static_embedder, embedding_cache=False) as index:
        report = index.sync([docs], progress=False)
    assert report.added == ["good0.md", "good2.md"]
    [(path, message)] = report.failed
    assert path == str(victim) and message.startswith(str(victim)) and reason in message


def _index_peak_rss_mb(docs: Path, index: Path) -> tuple[float, int, str, str]:
    """(peak RSS in MB, exit code, stdout, stderr) of `ragft index` in a child limited to 6 GB of address
    space, so a regression fails here instead of taking the machine down."""
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (6 * 2**30, 6 * 2**30))

    with open(index.parent / "out.txt", "w+") as out, open(index.parent / "err.txt", "w+") as err:
        child = subprocess.Popen([RAGFT, "index", str(docs), "--index", str(index), "--embedder", "static"],
                                 stdout=out, stderr=err, preexec_fn=limit)  # noqa: PLW1509 - sets one rlimit
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return usage.ru_maxrss / 1024, child.returncode, out.read(), err.read()


def test_a_giant_line_without_spaces_is_chunked_whole_and_memory_does_not_grow_with_it(tmp_path):
    """Reported: a 3 MB word beside 40 files took 17.6 GB (the BM25 vocabulary was saved as an array as wide as
    its longest term) and came out as one chunk of one [UNK] token. Here 1 MB: the old code needed ~2.5 GB."""
    rng = random.Random(5)
    terms = [f"term{i}x" for i in range(600)]
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(40):
        (docs / f"d{i:02d}.md").write_text(f"# Doc {i}\n\n" + " ".join(rng.choice(terms) for _ in range(300)) + "\n")
    (tmp_path / "base").mkdir()
    baseline, code, _, _ = _index_peak_rss_mb(docs, tmp_path / "base" / "index")
    assert code == 0
    giant = "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(1_000_000))
    (docs / "giant.txt").write_text(giant)
    (tmp_path / "run").mkdir()
    peak, code, out, err = _index_peak_rss_mb(docs, tmp_path / "run" / "index")
    assert code == 0, err[-2000:]
    assert peak - baseline < 400, (peak, baseline)
    assert "indexed 41 new" in out
    [note] = [line for line in err.splitlines() if line.startswith("warning ")]
    assert "giant.txt: 1 word(s) longer than a chunk" in note and "1,000,000 characters" in note
    with Index.open(tmp_path / "run" / "index", create=False, embedding_cache=False) as index:
        pieces = sorted((c.start, c.text) for c in index.store.chunks() if c.doc_id == "giant.txt")
    assert len(pieces) > 100 and "".join(text for _, text in pieces) == giant      # nothing dropped


_SYNC = """
import json, sys
sys.path.insert(0, sys.argv[3])
from ragft.testing import HashingEmbedder
from ragft.rag.engine import Index
with Index.open(sys.argv[2], embedder=HashingEmbedder(), embedding_cache=False) as index:
    report = index.sync([sys.argv[1]], progress=False)
print(json.dumps({"added": report.added, "failed": report.failed}))
"""


def _without_root_powers() -> list[str]:
    """A command prefix under which chmod 000 denies reads: none for a normal user; for root (the tests' user
    here), setpriv dropping CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH, the capabilities that let root read anyway."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv (util-linux): chmod 000 cannot deny root a read")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


def test_a_file_and_a_folder_the_user_cannot_read_are_skipped(tmp_path):
    docs = tmp_path / "docs"
    _good_files(docs, 3)
    (docs / "secret.md").write_text("# Secret\n\nNot for you.\n")
    (docs / "locked").mkdir()
    (docs / "locked" / "inner.md").write_text("# Inner\n\nHidden.\n")
    for path in (docs / "secret.md", docs / "locked"):
        path.chmod(0)
    try:
        child = subprocess.run(
            [*_without_root_powers(), sys.executable, "-c", _SYNC, str(docs), str(tmp_path / "index"),
             str(Path(__file__).parents[1])],
            capture_output=True, text=True, timeout=120, check=False,
        )
    finally:
        for path in (docs / "secret.md", docs / "locked"):
            path.chmod(0o755)
    assert child.returncode == 0, child.stderr[-2000:]
    report = json.loads(child.stdout)
    assert report["added"] == ["good0.md", "good1.md", "good2.md"]
    reasons = {os.path.basename(path): reason for path, reason in report["failed"]}
    assert set(reasons) == {"secret.md", "locked"}
    assert "Permission denied" in reasons["secret.md"] and "cannot list folder" in reasons["locked"]


def test_a_folder_of_2000_tiny_files_indexes_every_one(tmp_path, static_embedder):
    docs = tmp_path / "docs"
    for i in range(2000):
        folder = docs / f"d{i % 20}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"n{i}.txt").write_text(f"note {i} word{i}\n")
    with Index.open(tmp_path / "index", embedder=static_embedder, embedding_cache=False) as index:
        report = index.sync([docs], progress=False)
        assert len(report.added) == 2000 and report.failed == [] and index.store.count() == 2000
        assert index.search("word1234", k=1, mode="bm25")[0].chunk.doc_id == "d14/n1234.txt"


def test_eval_make_skips_a_bad_file_and_a_broken_line_and_keeps_the_rest(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "faq.md").write_text("# FAQ\n\n## How do I reset it?\n\nHold the button.\n\n## Is it waterproof?\n\nNo.\n")
    (corpus / "latin1.md").write_bytes("# FAQ\n\n## Où est-il ?\n\nIci, café.\n".encode("latin-1"))
    lines = [json.dumps({"question": f"What is part {i}?", "answer": f"Part {i} is a gear."}) for i in range(3)]
    (corpus / "pairs.jsonl").write_text("\n".join([lines[0], '{"question": "broken', *lines[1:]]) + "\n")
    out = tmp_path / "evalset.jsonl"
    result = ragft("eval", "make", str(corpus), "--output", str(out))
    skipped = [line for line in result.stderr.splitlines() if line.startswith("skipped ")]
    assert len(skipped) == 2
    assert "latin1.md: invalid UTF-8" in skipped[0] and "pairs.jsonl:2: not valid JSON" in skipped[1]
    questions = [json.loads(line)["question"] for line in out.read_text().splitlines()]
    assert questions == ["How do I reset it?", "Is it waterproof?", "What is part 0?", "What is part 1?",
                         "What is part 2?"]


def test_finetune_prepare_skips_bad_records_and_writes_the_good_ones(tmp_path):
    good = [json.dumps({"question": f"What is the capital of country {i}?", "answer": f"City {i}."})
            for i in range(12)]
    bad = ['{"question": "broken', json.dumps({"question": "Empty answer?", "answer": ""}), good[3]]
    data = ("\n".join(good[:6] + bad + good[6:]) + "\n").encode() + b'{"question": "caf\xe9?", "answer": "x"}\n'
    path = tmp_path / "facts.jsonl"
    path.write_bytes(data)
    result = ragft("finetune", "prepare", str(path), "--out", str(tmp_path / "ds"), "--json")
    summary = json.loads(result.stdout)
    assert summary["facts"] == 12 and summary["train"] + summary["validation"] == 12
    assert [entry.split(": ", 1)[0] for entry in summary["skipped"]] == [f"{path}:{n}" for n in (7, 8, 9, 16)]
    assert "not valid JSON" in summary["skipped"][0] and "duplicate of" in summary["skipped"][2]
    assert "invalid UTF-8" in summary["skipped"][3]
    assert len([line for line in result.stderr.splitlines() if "skipped:" in line]) == 4
    assert json.loads((tmp_path / "ds" / "prepare.json").read_text())["skipped"] == summary["skipped"]
