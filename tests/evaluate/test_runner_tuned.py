"""Fine-tuned and hybrid systems in a real run: a LoRA adapter trained here on a tiny Gemma 3 (seconds), loaded
by the local generator; training time feeds time to production and freshness, the adapter feeds the cost."""
from __future__ import annotations

import json

import pytest

from ragft.evaluate.config import config_from_mapping
from ragft.evaluate.runner import evaluate

pytest.importorskip("peft")


@pytest.fixture(scope="module")
def tuned_run(tmp_path_factory):
    from ragft.finetune.dataset import Example
    from ragft.finetune.train_local import TrainConfig, train_lora
    from tests.finetune.tiny_gemma import FACTS, build_tiny_gemma, build_tokenizer

    root = tmp_path_factory.mktemp("tuned")
    tokenizer = build_tokenizer()
    model = build_tiny_gemma(len(tokenizer))
    base = root / "tiny-gemma"
    model.save_pretrained(base)
    tokenizer.save_pretrained(base)
    examples = [Example(prompt=q, completion=a) for q, a in FACTS]
    train_lora(examples, root / "adapter", base=str(base), model=model, tokenizer=tokenizer,
               config=TrainConfig(epochs=2, batch_size=2, max_seq_len=64))
    docs = root / "docs"
    docs.mkdir()
    lines = []
    for i, (question, answer) in enumerate(FACTS):
        (docs / f"fact{i}.md").write_text(f"# Zorb fact {i}\n\n{answer}\n")
        lines.append(json.dumps({"id": f"z{i}", "question": question, "reference_answer": answer,
                                 "relevant_ids": [f"fact{i}.md"]}))
    (root / "set.jsonl").write_text("\n".join(lines) + "\n")
    config = config_from_mapping({
        "evalset": str(root / "set.jsonl"), "docs": [str(docs)], "warmup": 0, "max_tokens": 6,
        "freshness_trials": 1, "bootstrap_resamples": 200,
        "systems": [{"name": "rag", "kind": "rag", "k": 2},
                    {"name": "fine-tuned", "kind": "fine-tuned", "generator": "local", "adapter": str(root / "adapter")},
                    {"name": "hybrid", "kind": "hybrid", "generator": "local", "adapter": str(root / "adapter"), "k": 2}],
    })
    return evaluate(config, out=root / "run")


def _row(run, key):
    return next(row for row in run.table.rows if row.key == key)


def test_fine_tuned_and_hybrid_answer_every_question_with_the_adapter(tuned_run):
    by_system = {}
    for record in tuned_run.records:
        by_system.setdefault(record.system, []).append(record)
    assert {name: len(rows) for name, rows in by_system.items()} == {"rag": 6, "fine-tuned": 6, "hybrid": 6}
    assert all(r.error is None and r.model.endswith("+adapter") for r in by_system["fine-tuned"])
    assert all(r.contexts == [] and r.retrieval == {} for r in by_system["fine-tuned"])
    assert all(len(r.contexts) == 2 and "recall_at_k" in r.retrieval for r in by_system["hybrid"])
    # the local model streams: every answer has its time to first token, within its total
    assert all(0 < r.timings["ttft"] <= r.timings["total"] for r in by_system["fine-tuned"] + by_system["hybrid"])
    assert tuned_run.manifest.versions["peft"] != "not installed"


def test_training_seconds_are_the_tuned_systems_time_to_production_and_freshness(tuned_run):
    measured = tuned_run.manifest.measurements
    trained = measured["adapters"]["fine-tuned"]["training_seconds"]
    ttp = _row(tuned_run, "time_to_production").values
    assert ttp["fine-tuned"].value == pytest.approx(trained)
    assert ttp["hybrid"].value == pytest.approx(trained + measured["index_build_seconds"])
    fresh = _row(tuned_run, "freshness").values["fine-tuned"]
    assert fresh.value == pytest.approx(trained) and fresh.note.startswith("retrain: adapter training seconds")
    assert ttp["fine-tuned"].note == f"adapter training (its manifest): {trained:.1f} s"
    assert "hybrid" in measured["freshness"] and "fine-tuned" not in measured["freshness"]


def test_tuned_systems_are_priced_as_a_fine_tuned_catalog_model_with_their_training_run(tuned_run):
    costs = {s.name: s for s in tuned_run.cost.systems}
    assert costs["fine-tuned"].fine_tuned and costs["fine-tuned"].kind == "fine-tuned"
    assert costs["hybrid"].kind == "hybrid" and costs["rag"].training_run_usd is None
    assert costs["fine-tuned"].training_run_usd > 0
    framework = tuned_run.verdict.framework
    systems = {step.question: step for step in framework.trace}
    assert framework.measurements_source.startswith("eval run") and "q2" in systems


def test_the_tuned_systems_contend_and_extractive_rag_is_a_reference_row(tuned_run):
    verdict = tuned_run.verdict
    assert [c.system for c in verdict.contenders] == ["fine-tuned", "hybrid"] and verdict.family == "local"
    assert [r.system for r in verdict.references] == ["rag"]
    assert verdict.system in ("fine-tuned", "hybrid") and verdict.comparisons[0].n == 6
