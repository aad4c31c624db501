"""The ground-floor file helpers: atomic files, staged folders, the two persisted tree hashes, JSONL lines."""
from __future__ import annotations

import hashlib
import stat

import pytest

from ragft.errors import InputError
from ragft.files import atomic_path, corpus_sha256, sha256_file, staged_dir, tree_sha256, write_atomic
from ragft.jsonl import BadLine, objects, parse_object, parse_value


def test_write_atomic_replaces_the_file_whole_and_readable_by_all(tmp_path):
    target = tmp_path / "deep" / "out.json"
    write_atomic(target, "first\n")
    write_atomic(target, "second\n")
    assert target.read_text() == "second\n" and stat.S_IMODE(target.stat().st_mode) == 0o644
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.json"]


def test_a_failed_atomic_write_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "table.npz"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target, suffix=".npz") as temp:
        assert temp.parent == tmp_path and temp.name.endswith(".npz")
        temp.write_text("half")
        raise RuntimeError("writer crashed")
    assert [p.name for p in tmp_path.iterdir()] == ["table.npz"] and target.read_text() == "old"


def test_staged_dir_swaps_a_whole_folder_in_or_leaves_the_old_one(tmp_path):
    target = tmp_path / "build"
    with staged_dir(target) as staging:
        (staging / "a.txt").write_text("one")
    assert [p.name for p in target.iterdir()] == ["a.txt"]
    with pytest.raises(RuntimeError), staged_dir(target) as staging:
        (staging / "b.txt").write_text("two")
        raise RuntimeError("build failed")
    assert [p.name for p in target.iterdir()] == ["a.txt"]
    with staged_dir(target) as staging:
        (staging / "b.txt").write_text("two")
    assert [p.name for p in target.iterdir()] == ["b.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["build"]


def test_the_two_tree_hashes_keep_the_values_recorded_in_runs_and_benches(tmp_path):
    root = tmp_path / "docs"
    (root / "sub").mkdir(parents=True)
    (root / "a.md").write_bytes(b"alpha")
    (root / "sub" / "b.md").write_bytes(b"beta")
    files = [root / "a.md", root / "sub" / "b.md"]
    inner = hashlib.sha256(b"a.md\0" + hashlib.sha256(b"alpha").digest()
                           + b"sub/b.md\0" + hashlib.sha256(b"beta").digest())
    assert tree_sha256(root, files) == inner.hexdigest()
    assert corpus_sha256([root]) == hashlib.sha256(b"a.mdalphasub/b.mdbeta").hexdigest()
    assert corpus_sha256([root / "a.md"]) == hashlib.sha256(b"a.mdalpha").hexdigest()
    assert sha256_file(root / "a.md") == hashlib.sha256(b"alpha").hexdigest()


def test_a_jsonl_line_that_is_not_an_object_is_one_line_naming_file_and_line(tmp_path):
    with pytest.raises(BadLine) as broken:
        parse_object('{"a": 1', "data.jsonl:3")
    assert str(broken.value) == ("data.jsonl:3: not valid JSON (Expecting ',' delimiter at column 8); "
                                 "each line must be one JSON object")
    assert broken.value.reason.startswith("not valid JSON") and isinstance(broken.value, InputError)
    with pytest.raises(BadLine, match=r"^data.jsonl:4: expected a JSON object per line, got list$"):
        parse_object("[1, 2]", "data.jsonl:4")
    assert parse_value("[1, 2]", "data.jsonl:4") == [1, 2]
    assert list(objects('{"a": 1}\n\n  \n{"b": 2}\n', "data.jsonl")) == [(1, {"a": 1}), (4, {"b": 2})]
