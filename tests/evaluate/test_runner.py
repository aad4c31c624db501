"""A real eval run on the Python FAQ excerpt: closed-book vs RAG with the extractive generator and MiniLM."""
from __future__ import annotations

import csv
import json

import pytest

from ragft.errors import InputError
from ragft.evaluate.config import config_from_mapping
from ragft.evaluate.run_folder import load_run
from ragft.evaluate.runner import evaluate
from ragft.evaluate.runs import compare_runs

from .conftest import PYTHON_DOC_TREE


@pytest.fixture(scope="module")
def excerpt_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval")
    config = config_from_mapping({
        "bench": "python-faq", "bench_source": str(PYTHON_DOC_TREE), "bench_cache": str(root / "cache"),
        "distractors": 4, "systems": "closed-book,rag", "limit": 12, "warmup": 1, "freshness_trials": 1,
        "bootstrap_resamples": 200,
    })
    return evaluate(config, out=root / "run")


def _row(run, key):
    return next(row for row in run.table.rows if row.key == key)


def test_closed_book_extractive_abstains_so_it_never_hallucinates_and_scores_no_f1(excerpt_run):
    closed = [r for r in excerpt_run.records if r.system == "closed-book"]
    assert len(closed) == 12 and all(r.abstained and r.hallucinated is False for r in closed)
    assert all(r.retrieval == {} and r.contexts == [] for r in closed)
    assert _row(excerpt_run, "hallucination_rate").values["closed-book"].value == 0.0
    assert _row(excerpt_run, "token_f1").values["closed-book"].value == 0.0      # an abstention is a wrong answer
    abstention = _row(excerpt_run, "abstention_rate").values["closed-book"]
    assert abstention.value == 1.0 and abstention.caveat == "by construction"


def test_every_system_is_checked_against_the_gold_documents_and_rag_also_against_its_own_passages(excerpt_run):
    for record in excerpt_run.records:
        assert record.evidence_ids == record.relevant_ids          # every gold document was read from the corpus
    rag = [r for r in excerpt_run.records if r.system == "rag"]
    assert all(r.grounded is not None for r in rag)
    assert all(r.grounded is None for r in excerpt_run.records if r.system == "closed-book")
    grounded = _row(excerpt_run, "grounded_rate")
    assert grounded.values["rag"].caveat == "by construction" and "quotes" in grounded.values["rag"].note
    assert grounded.values["rag"].value == pytest.approx(sum(r.grounded for r in rag) / len(rag))
    assert grounded.values["closed-book"].value is None


def test_rag_retrieves_the_gold_answer_and_beats_closed_book_on_f1(excerpt_run):
    rag = [r for r in excerpt_run.records if r.system == "rag"]
    found = sum(any(c.doc_id in r.relevant_ids for c in r.contexts) for r in rag)
    assert found >= 10
    assert _row(excerpt_run, "retrieval_accuracy").values["rag"].value == pytest.approx(
        sum(r.retrieval["recall_at_k"] for r in rag) / len(rag))
    assert _row(excerpt_run, "token_f1").winner == "rag"
    assert _row(excerpt_run, "retrieval_accuracy").winner == "n/a"   # closed-book does not retrieve


def test_every_row_of_the_seed_table_is_measured_with_its_claim(excerpt_run):
    keys = [row.key for row in excerpt_run.table.rows]
    for key in ("cost_per_1k", "latency_p95", "time_to_production", "freshness", "retrieval_accuracy",
                "hallucination_rate", "token_f1", "rouge_l"):
        assert key in keys
    assert _row(excerpt_run, "latency_p95").seed_claim["rag"] == "3-4 seconds"
    latency = _row(excerpt_run, "latency_p95").values["rag"]
    assert latency.low <= latency.value <= latency.high and latency.n == 12


def test_time_to_production_and_freshness_come_from_what_the_run_measured(excerpt_run):
    measured = excerpt_run.manifest.measurements
    ttp = _row(excerpt_run, "time_to_production").values
    assert ttp["rag"].value == pytest.approx(measured["index_build_seconds"]) and ttp["closed-book"].value is None
    trial = measured["freshness"]["rag"][0]
    assert trial["cited"] and trial["doc_id"].startswith("ragft-freshness/")
    assert _row(excerpt_run, "freshness").values["rag"].value == pytest.approx(trial["seconds"])
    assert "1/1 trials" in _row(excerpt_run, "freshness").values["rag"].note


def test_cost_comes_from_measured_tokens_priced_at_the_catalog_model(excerpt_run):
    cost = excerpt_run.cost
    priced = {s.name: s for s in cost.systems}
    assert priced["rag"].model == "gpt-4o-mini" and priced["rag"].kind == "rag"
    rag = [r for r in excerpt_run.records if r.system == "rag"]
    mean_input = sum(r.input_tokens for r in rag) / len(rag)
    assert priced["rag"].input_tokens == pytest.approx(mean_input)
    row = _row(excerpt_run, "cost_per_1k").values["rag"]
    assert row.value == pytest.approx(1000 * sum(r.cost_usd for r in rag) / len(rag))
    assert row.value == pytest.approx(priced["rag"].per_1k_queries_usd)
    assert "gpt-4o-mini" in row.note


def test_the_run_folder_can_be_re_run_and_read_by_other_tools(excerpt_run):
    folder = excerpt_run.path
    for name in ("manifest.json", "config.json", "table.json", "questions.jsonl", "questions.csv", "cost.json",
                 "verdict.json"):
        assert (folder / name).is_file(), name
    manifest = excerpt_run.manifest
    assert manifest.status == "complete" and manifest.seed == 0 and len(manifest.evalset_sha256) == 64
    assert {"python", "ragft", "numpy", "lancedb"} <= set(manifest.versions)
    assert json.loads((folder / "config.json").read_text())["limit"] == 12
    with (folder / "questions.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(excerpt_run.records) == 24 and "quality.token_f1" in rows[0]


def test_extractive_rag_is_a_reference_row_so_the_framework_s_verdict_stands_unmeasured(excerpt_run):
    verdict = excerpt_run.verdict
    assert verdict.basis == "not-measured" and verdict.architecture == verdict.framework.architecture
    assert {r.system for r in verdict.references} == {"closed-book", "rag"}
    assert verdict.measurements_source is None


def test_named_as_a_product_extractive_rag_contends_and_feeds_the_framework(excerpt_run):
    from ragft.evaluate.runs import verdict_of_run

    verdict = verdict_of_run(excerpt_run.path, contenders=["rag"])
    assert (verdict.system, verdict.basis) == ("rag", "only-feasible")
    assert verdict.framework.measurements_source == f"eval run {excerpt_run.run_id}"
    q2 = next(step for step in verdict.framework.trace if step.question == "q2")
    assert q2.source == "measured"


def test_comparing_a_run_with_itself_finds_no_differences(excerpt_run):
    result = compare_runs(excerpt_run, load_run(excerpt_run.path))
    assert result.rows and all(row.better in ("tie", "n/a") for row in result.rows)
    assert all(row.difference in (0, None) for row in result.rows)


def test_an_eval_set_whose_ids_match_nothing_in_the_index_is_refused(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "lists.md").write_text("# Lists\n\nPython lists are mutable sequences.\n")
    evalset = tmp_path / "set.jsonl"
    evalset.write_text("".join(json.dumps({"question": f"q{i}?", "reference_answer": "a",
                                           "relevant_ids": [f"other/{i}.md"]}) + "\n" for i in range(12)))
    config = config_from_mapping({"evalset": str(evalset), "docs": [str(docs)], "systems": "rag"})
    with pytest.raises(InputError) as error:
        evaluate(config, out=tmp_path / "run")
    assert str(error.value) == (f"none of the 12 relevant_ids in {evalset} match a document in the index at "
                                f"{tmp_path / 'run' / 'index'}: were they built from another corpus?")
    assert load_run(tmp_path / "run").manifest.status == "interrupted"


def test_the_table_notes_say_when_the_gold_documents_were_not_available():
    from ragft.evaluate.records import QuestionRecord
    from ragft.evaluate.summary import _notes

    config = config_from_mapping({"evalset": "set.jsonl", "systems": "closed-book"})
    record = dict(system="closed-book", question="q", reference_answer="r", answer="a", relevant_ids=["a.md"])
    without = [QuestionRecord(question_id=f"q{i}", **record) for i in range(3)]
    assert _notes(config, without)["hallucination_rate"]["closed-book"].startswith(
        "checked against the reference answer only")
    some = without[:2] + [without[2].model_copy(update={"evidence_ids": ["a.md"]})]
    assert _notes(config, some)["hallucination_rate"]["closed-book"].startswith("2/3 questions checked against")
    found = [r.model_copy(update={"evidence_ids": ["a.md"]}) for r in without]
    # with the gold text found, the extractive closed-book system's note is what makes its 0 %: it never answers
    assert _notes(config, found)["hallucination_rate"]["closed-book"].startswith("by construction")
