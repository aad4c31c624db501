"""The built-in benches, built from real excerpts of the Debian packages kept in tests/data."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from ragft.errors import NotFoundError, RagftError
from ragft.evaluate import benches
from ragft.evaluate.benches import load_bench, spread

PYTHON_DOC_TREE = Path(__file__).resolve().parents[1] / "data" / "python3.11-doc"


def test_python_faq_bench_has_one_question_per_faq_entry_of_the_excerpt(python_faq_bench):
    # installed.rst 3 + gui.rst 4 (one '=' level question) + extending.rst 17 + windows.rst 9
    pages = [item.tags[0] for item in python_faq_bench.questions]
    assert {page: pages.count(page) for page in set(pages)} == {
        "faq:installed": 3, "faq:gui": 4, "faq:extending": 17, "faq:windows": 9}


def test_python_faq_bench_adds_the_requested_number_of_distractor_pages(python_faq_bench):
    docs = sorted(p.relative_to(python_faq_bench.corpus_dir).as_posix()
                  for p in python_faq_bench.corpus_dir.rglob("*.md") if p.parts[-3] != "faq")
    # six candidates sorted by path (howto, library x3, reference, tutorial); 4 evenly spaced: 0, 1, 3, 4
    assert docs == ["docs/howto/cporting.md", "docs/library/fnmatch.md", "docs/library/glob.md",
                    "docs/reference/toplevel_components.md"]
    assert python_faq_bench.distractors == 4
    assert python_faq_bench.documents == 33 + 4


def test_corpus_files_hold_the_answer_titled_by_page_not_by_question(python_faq_bench):
    item = next(q for q in python_faq_bench.questions if q.question == "Can I delete Python?")
    text = (python_faq_bench.corpus_dir / item.relevant_ids[0]).read_text(encoding="utf-8")
    assert text.splitlines()[0] == '# "Why is Python Installed on my Computer?" FAQ'
    assert "Can I delete Python?" not in text
    assert "That depends on where Python came from." in text


def test_reference_answer_is_the_first_paragraphs_without_rst_markup(python_faq_bench):
    item = next(q for q in python_faq_bench.questions if q.question == "Can I delete Python?")
    # the first paragraph has 6 words (< 25), so the second one is added
    assert item.reference_answer == (
        "That depends on where Python came from. If someone installed it deliberately, you can remove it "
        "without hurting anything. On Windows, use the Add/Remove Programs icon in the Control Panel.")
    for question in python_faq_bench.questions:
        assert ":func:" not in question.reference_answer and "`" not in question.reference_answer
        assert "<https" not in question.reference_answer


def test_every_relevant_id_is_a_corpus_file(python_faq_bench, debian_faq_bench):
    for bench in (python_faq_bench, debian_faq_bench):
        for item in bench.questions:
            assert [(bench.corpus_dir / doc_id).is_file() for doc_id in item.relevant_ids] == [True]


def test_provenance_names_package_version_and_hashes(python_faq_bench):
    source = python_faq_bench.source
    assert (source.package, source.version) == ("python3.11-doc", "3.11.2-6+deb12u9")
    assert source.deb_sha256 is None and len(source.tree_sha256) == 64
    assert source.origin == f"folder {PYTHON_DOC_TREE}"


def test_debian_faq_bench_reads_numbered_questions_and_their_answers(debian_faq_bench):
    # the excerpt keeps chapters 1 and 2: questions 1.1-1.7 and 2.1-2.7
    assert [q.id for q in debian_faq_bench.questions] == [f"debian-{c}.{n}" for c in (1, 2) for n in range(1, 8)]
    first = debian_faq_bench.questions[0]
    assert first.question == "What is this FAQ?"
    assert first.relevant_ids == ["faq/01-definitions-and-overview/1.1.md"]
    assert first.reference_answer.startswith("This document gives frequently asked questions (with their "
                                             "answers!) about the Debian distribution")
    multi_line = next(q for q in debian_faq_bench.questions if q.id == "debian-1.5")
    assert multi_line.question == ("What is the difference between Debian GNU/Linux and other Linux "
                                   "distributions? Why should I choose Debian over some other distribution?")
    assert debian_faq_bench.source.version == "11.1"


def test_second_load_reuses_the_cache_and_new_settings_rebuild(tmp_path, monkeypatch):
    first = load_bench("python-faq", cache_dir=tmp_path, source_dir=PYTHON_DOC_TREE, distractors=1)
    manifest = tmp_path / "python-faq" / "build" / "manifest.json"
    stamp = manifest.stat().st_mtime_ns
    again = load_bench("python-faq", cache_dir=tmp_path, source_dir=PYTHON_DOC_TREE, distractors=1)
    assert manifest.stat().st_mtime_ns == stamp and again.questions == first.questions
    more = load_bench("python-faq", cache_dir=tmp_path, source_dir=PYTHON_DOC_TREE, distractors=2)
    assert more.distractors == 2
    monkeypatch.setattr(benches, "PARSER_VERSION", benches.PARSER_VERSION + 1)
    load_bench("python-faq", cache_dir=tmp_path, source_dir=PYTHON_DOC_TREE, distractors=2)
    assert json.loads(manifest.read_text())["key"]["parser_version"] == benches.PARSER_VERSION
    assert sorted(p.name for p in (tmp_path / "python-faq").iterdir()) == ["build"]


def test_a_folder_without_the_package_tree_is_a_one_line_error(tmp_path):
    with pytest.raises(NotFoundError) as error:
        load_bench("python-faq", cache_dir=tmp_path, source_dir=tmp_path)
    assert "dpkg-deb -x python3.11-doc_*.deb" in str(error.value) and "\n" not in str(error.value)


def test_without_apt_get_the_error_says_how_to_provide_the_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RagftError) as error:
        load_bench("debian-faq", cache_dir=tmp_path)
    assert "--from DIR" in str(error.value) and "\n" not in str(error.value)


def test_spread_picks_evenly_spaced_items_deterministically():
    assert spread(list(range(10)), 3) == [0, 3, 6]
    assert spread(list(range(3)), 5) == [0, 1, 2]
    assert spread(list(range(3)), 0) == []


@pytest.mark.skipif(shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None,
                    reason="NETWORK/APT: needs apt-get and dpkg-deb (Debian/Ubuntu); skipped elsewhere")
def test_debian_faq_bench_downloads_the_real_package_with_apt_get(tmp_path):
    try:
        bench = load_bench("debian-faq", cache_dir=tmp_path, distractors=5)
    except RagftError as error:
        if "apt-get download debian-faq` failed" in str(error):
            pytest.skip(f"NETWORK/APT: the package archive is unreachable here ({error})")
        raise
    assert bench.source.origin == "apt-get download" and bench.source.deb_file.endswith(".deb")
    assert len(bench.source.deb_sha256) == 64
    assert len(bench.questions) > 100 and bench.distractors == 5
    assert os.listdir(tmp_path / "debian-faq" / "download") == [bench.source.deb_file]
