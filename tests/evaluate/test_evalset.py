"""The eval-set JSONL format, its line-numbered errors, and `make` from Q/A-shaped corpora."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ragft.errors import InputError, NotFoundError
from ragft.evaluate.evalset import EvalItem, load_evalset, make_evalset, save_evalset

FAQ = Path(__file__).resolve().parents[1] / "data/python3.11-doc/usr/share/doc/python3.11/html/_sources/faq"


def test_items_round_trip_through_jsonl(tmp_path):
    items = [EvalItem(id="a", question="Q?", reference_answer="A.", relevant_ids=["x.md"], tags=["t"]),
             EvalItem(id="b", question="R?", reference_answer="B.")]
    path = save_evalset(items, tmp_path / "sub" / "set.jsonl")
    assert load_evalset(path) == items
    assert [p.name for p in path.parent.iterdir()] == ["set.jsonl"]          # no temp file left behind


def test_missing_ids_get_the_line_number(tmp_path):
    path = tmp_path / "set.jsonl"
    path.write_text('{"question": "Q?", "reference_answer": "A"}\n\n{"question": "R?", "reference_answer": "B"}\n')
    assert [item.id for item in load_evalset(path)] == ["q1", "q3"]


@pytest.mark.parametrize("line, message", [
    ('{"question": "Q?", "reference_answer": "A"', "not valid JSON"),
    ('{"question": "Q?"}', "field 'reference_answer': Field required"),
    ('{"question": "Q?", "reference_answer": "A", "answr": 1}', "field 'answr': Extra inputs are not permitted"),
    ('["Q?", "A"]', "expected a JSON object"),
    ('{"question": "", "reference_answer": "A"}', "field 'question'"),
])
def test_a_malformed_line_is_reported_with_file_and_line_number(tmp_path, line, message):
    path = tmp_path / "set.jsonl"
    path.write_text('{"id": "ok", "question": "Q?", "reference_answer": "A"}\n' + line + "\n")
    with pytest.raises(InputError) as error:
        load_evalset(path)
    text = str(error.value)
    assert text.startswith(f"{path}:2: ") and message in text and "\n" not in text


def test_duplicate_ids_and_missing_files_are_errors(tmp_path):
    path = tmp_path / "set.jsonl"
    path.write_text('{"id": "x", "question": "Q?", "reference_answer": "A"}\n' * 2)
    with pytest.raises(InputError, match=":2: id 'x' already used on line 1"):
        load_evalset(path)
    with pytest.raises(NotFoundError, match="ragft eval make"):
        load_evalset(tmp_path / "nope.jsonl")


def test_make_reads_questions_from_real_rst_faq_headings(tmp_path):
    shutil.copy(FAQ / "installed.rst.txt", tmp_path / "installed.rst.txt")
    items = make_evalset(tmp_path)
    assert [i.question for i in items] == ["What is Python?", "Why is Python installed on my machine?",
                                           "Can I delete Python?"]
    assert items[2].relevant_ids == ["installed.rst.txt"]
    assert items[2].reference_answer.startswith("That depends on where Python came from. If someone installed")
    assert "page:why-is-python-installed-on-my-computer-faq" in items[0].tags


def test_make_reads_markdown_headings_and_qa_jsonl(tmp_path):
    (tmp_path / "guide").mkdir()
    (tmp_path / "guide" / "faq.md").write_text(
        "# Product FAQ\n\n## Billing\n\n### How do I get a refund?\n\nWrite to support within 30 days.\n\n"
        "### Notes\n\nNot a question.\n\n### Can I pay yearly?\n\nYes, with a 10% discount.\n")
    (tmp_path / "pairs.jsonl").write_text(json.dumps({"question": "What is X?", "answer": "X is Y."}) + "\n"
                                          + json.dumps({"text": "no question here"}) + "\n")
    items = make_evalset(tmp_path)
    assert [(i.question, i.reference_answer, i.relevant_ids) for i in items] == [
        ("How do I get a refund?", "Write to support within 30 days.", ["guide/faq.md"]),
        ("Can I pay yearly?", "Yes, with a 10% discount.", ["guide/faq.md"]),
        ("What is X?", "X is Y.", ["pairs.jsonl"]),
    ]
    assert items[0].tags == ["page:product-faq", "section:billing"]
    assert len({i.id for i in items}) == 3


def test_make_on_a_corpus_without_questions_says_what_it_expects(tmp_path):
    (tmp_path / "notes.md").write_text("# Notes\n\nJust prose.\n")
    with pytest.raises(InputError, match="headings ending in '\\?'"):
        make_evalset(tmp_path)
