"""Reading run folders: missing and malformed files fail with one line naming the file."""
from __future__ import annotations

import json

import pytest

from ragft.errors import InputError, NotFoundError
from ragft.report import list_runs, load_run, run_path


def copy_of(sample_run, folder, names=("manifest.json", "table.json", "questions.jsonl")):
    folder.mkdir()
    for name in names:
        (folder / name).write_text((sample_run / name).read_text())
    return folder


def test_a_folder_without_a_table_is_not_a_run(tmp_path):
    (tmp_path / "manifest.json").write_text("{}")
    with pytest.raises(NotFoundError, match="no table.json"):
        load_run(tmp_path)


def test_a_table_of_the_wrong_shape_names_the_file_and_field(sample_run, tmp_path):
    broken = copy_of(sample_run, tmp_path / "broken")
    table = json.loads((sample_run / "table.json").read_text())
    del table["rows"][0]["winner"]
    (broken / "table.json").write_text(json.dumps(table))
    with pytest.raises(InputError, match=r"table.json: field 'rows.0.winner'"):
        load_run(broken)


def test_a_bad_question_line_names_its_line_number(sample_run, tmp_path):
    copy = copy_of(sample_run, tmp_path / "copy")
    (copy / "questions.jsonl").write_text((sample_run / "questions.jsonl").read_text() + "{not json\n")
    with pytest.raises(InputError, match=r"questions.jsonl:49: not valid JSON"):
        load_run(copy)


def test_runs_are_listed_newest_first_and_ids_never_leave_the_folder(sample_run):
    runs_dir = sample_run.parent
    summaries = list_runs(runs_dir)
    assert [s.run_id for s in summaries] == ["sample-run"]
    assert summaries[0].verdict and summaries[0].systems == ("closed-book", "rag", "fine-tuned", "hybrid")
    for bad in ("..", "../sample-run", "/etc", ".hidden", "nope"):
        with pytest.raises(NotFoundError):
            run_path(runs_dir, bad)


def test_a_verdict_json_from_before_the_measured_verdict_reads_as_the_framework_s_not_measured(sample_run, tmp_path):
    old = copy_of(sample_run, tmp_path / "old")
    framework = json.loads((sample_run / "verdict.json").read_text())["framework"]
    (old / "verdict.json").write_text(json.dumps(framework))
    verdict = load_run(old).verdict
    assert (verdict.basis, verdict.agrees, verdict.label) == ("not-measured", None, framework["label"])
    assert "ragft advise --run" in verdict.reason


def test_a_verdict_json_of_the_wrong_shape_names_the_file_and_field(sample_run, tmp_path):
    broken = copy_of(sample_run, tmp_path / "broken")
    verdict = json.loads((sample_run / "verdict.json").read_text())
    del verdict["framework"]["trace"]
    (broken / "verdict.json").write_text(json.dumps(verdict))
    with pytest.raises(InputError, match=r"verdict.json: field 'framework.trace': field required"):
        load_run(broken)


def test_a_run_over_several_benches_is_listed_and_served_by_its_folder_name(sample_run, tmp_path):
    runs_dir = tmp_path / "runs"
    runs_dir.mkdir()
    several = copy_of(sample_run, runs_dir / "20260102-030405-python-faq+debian-faq")
    assert [s.run_id for s in list_runs(runs_dir)] == [several.name]
    assert run_path(runs_dir, several.name) == several
