"""Loading, validating, splitting and exporting fine-tuning datasets."""
from __future__ import annotations

import json

import pyarrow as pa
import pytest

from ragft.errors import InputError, NotFoundError
from ragft.finetune.dataset import (
    Example,
    export_hf,
    export_openai,
    load_jsonl,
    read_jsonl,
    split,
    validate,
)


def write_lines(path, lines):
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


def test_three_record_shapes_load_into_the_same_example(tmp_path):
    path = write_lines(tmp_path / "d.jsonl", [
        {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Q1?"},
                      {"role": "assistant", "content": "A1."}]},
        {"prompt": "Q2?", "completion": "A2."},
        {"question": "Q3?", "answer": "A3.", "context": "passage", "doc_id": "faq/x"},
    ])
    examples = load_jsonl(path)
    assert [(e.prompt, e.completion, e.line) for e in examples] == [
        ("Q1?", "A1.", 1), ("Q2?", "A2.", 2), ("Q3?", "A3.", 3)]
    assert examples[0].system == "Be brief."
    assert examples[2].context == "passage" and examples[2].doc_id == "faq/x"


def test_broken_line_is_one_error_naming_file_and_line(tmp_path):
    path = write_lines(tmp_path / "d.jsonl", [{"prompt": "Q?", "completion": "A."}, '{"prompt": "Q2?", '])
    with pytest.raises(InputError) as caught:
        load_jsonl(path)
    message = str(caught.value)
    assert f"{path}:2" in message and "not valid JSON" in message and "\n" not in message


def test_schema_and_empty_field_problems_are_each_reported_with_their_line(tmp_path):
    path = write_lines(tmp_path / "d.jsonl", [
        {"text": "no shape"},
        {"prompt": "Q?", "completion": "   "},
        {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
                      {"role": "user", "content": "c"}]},
        [1, 2],
        {"question": "ok?", "answer": "yes"},
    ])
    examples, issues = read_jsonl(path)
    assert len(examples) == 1
    assert [i.where for i in issues] == [f"{path}:{n}" for n in (1, 2, 3, 4)]
    assert "unknown record shape" in issues[0].message
    assert "empty completion" in issues[1].message
    assert "multi-turn" in issues[2].message


def test_missing_file_is_not_found(tmp_path):
    with pytest.raises(NotFoundError, match="no such dataset file"):
        load_jsonl(tmp_path / "nope.jsonl")


def test_validate_flags_duplicates_overlong_examples_and_eval_leakage(tmp_path):
    path = write_lines(tmp_path / "d.jsonl", [
        {"prompt": "What is Python?", "completion": "A language."},
        {"prompt": "what is python", "completion": "a language"},
        {"prompt": "Long? " + "word " * 300, "completion": "Yes."},
        {"prompt": "Is it free?", "completion": "Yes."},
        {"prompt": "How do I install the Python interpreter on Linux systems?", "completion": "apt."},
    ])
    examples, issues = read_jsonl(path)
    report = validate(examples, issues=issues, context_length=200, max_seq_len=100,
                      eval_questions=["Is it FREE?", "How can I install the Python interpreter on Linux systems?"])
    by_line = {i.where.rsplit(":", 1)[1]: i for i in report.issues}
    assert "duplicate of" in by_line["2"].message and f"{path}:1" in by_line["2"].message
    assert "exceed the model context of 200" in by_line["3"].message
    assert "leaks evaluation question 'Is it FREE?' (exact" in by_line["4"].message
    assert "(near-duplicate, similarity 0.82)" in by_line["5"].message
    assert not report.ok and report.tokens_max > 300


def test_validate_warns_beyond_training_length_but_stays_ok():
    example = Example(prompt="word " * 150, completion="x")
    report = validate([example], context_length=1000, max_seq_len=64)
    assert report.ok and report.issues[0].level == "warning"


def test_split_is_deterministic_and_keeps_rewordings_of_one_fact_together():
    examples = [Example(prompt=f"q{i} v{v}", completion=f"a{i}", group=f"fact{i}")
                for i in range(20) for v in range(3)]
    train, val = split(examples, 0.2, seed=7)
    again_train, again_val = split(examples, 0.2, seed=7)
    assert (train, val) == (again_train, again_val)
    assert len(val) == 12 and len(train) == 48
    assert not {e.group for e in train} & {e.group for e in val}
    assert split(examples, 0.2, seed=8)[1] != val


def test_openai_export_writes_chat_messages(tmp_path):
    out = export_openai([Example(prompt="Q?", completion="A.", system="S")], tmp_path / "o.jsonl")
    assert json.loads(out.read_text()) == {"messages": [
        {"role": "system", "content": "S"}, {"role": "user", "content": "Question: Q?"},
        {"role": "assistant", "content": "A."}]}


def test_hf_export_writes_a_load_from_disk_layout_readable_with_pyarrow(tmp_path):
    examples = [Example(prompt=f"Q{i}?", completion=f"A{i}.") for i in range(3)]
    folder = export_hf({"train": examples[:2], "validation": examples[2:]}, tmp_path / "hf")
    assert json.loads((folder / "dataset_dict.json").read_text()) == {"splits": ["train", "validation"]}
    with pa.memory_map(str(folder / "train" / "data-00000-of-00001.arrow")) as source:
        table = pa.ipc.open_stream(source).read_all()
    assert table.column("prompt").to_pylist() == ["Question: Q0?\nAnswer:", "Question: Q1?\nAnswer:"]
    assert table.column("completion").to_pylist() == [" A0.", " A1."]
    assert table.column("messages").to_pylist()[1][1] == {"role": "assistant", "content": "A1."}
    state = json.loads((folder / "validation" / "state.json").read_text())
    assert state["_split"] == "validation"
    with pytest.raises(InputError, match="already exists"):
        export_hf({"train": examples}, folder)
