"""Finding files to ingest: recursive, sorted, hidden and unsupported files skipped, ids relative to the root."""
from __future__ import annotations

import pytest

from ragft.errors import InputError, NotFoundError
from ragft.rag.loaders import discover


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "docs"
    for name in ["b.md", "a.txt", "guide/intro.rst", "guide/z.html", "api/_sources/x.rst.txt", "data/kb.jsonl",
                 "scan.pdf", "notes.docx", "image.png", ".git/config.txt", ".venv/readme.md", "guide/.draft.md",
                 "__pycache__/m.txt"]:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    return root


def test_folders_expand_recursively_to_supported_files_sorted_by_id(tree):
    ids = [s.doc_id for s in discover([tree])]
    assert ids == ["a.txt", "api/_sources/x.rst.txt", "b.md", "data/kb.jsonl", "guide/intro.rst", "guide/z.html", "scan.pdf"]


def test_ids_are_relative_to_the_given_root(tree):
    sources = discover([tree / "guide"], root=tree)
    assert [s.doc_id for s in sources] == ["guide/intro.rst", "guide/z.html"]
    assert sources[0].path == tree / "guide" / "intro.rst"
    assert sources[0].format == "rst"


def test_default_root_is_the_common_folder_of_the_paths(tree):
    ids = [s.doc_id for s in discover([tree / "guide", tree / "b.md"])]
    assert ids == ["b.md", "guide/intro.rst", "guide/z.html"]
    assert [s.doc_id for s in discover([tree / "b.md"])] == ["b.md"]


def test_the_same_file_given_twice_is_listed_once(tree):
    assert [s.doc_id for s in discover([tree / "b.md", tree, tree / "b.md"])].count("b.md") == 1


def test_a_missing_path_is_not_found(tree):
    with pytest.raises(NotFoundError, match=r"nope: no such file or folder"):
        discover([tree / "nope"])


def test_an_explicit_unsupported_file_is_an_input_error(tree):
    with pytest.raises(InputError, match=r"notes\.docx: unsupported file type"):
        discover([tree / "notes.docx"])


def test_a_path_outside_the_root_is_an_input_error(tree, tmp_path):
    (tmp_path / "elsewhere.md").write_text("x")
    with pytest.raises(InputError, match=r"elsewhere\.md: not under the ingest root"):
        discover([tmp_path / "elsewhere.md"], root=tree)
