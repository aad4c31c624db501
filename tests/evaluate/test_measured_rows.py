"""Time to production and freshness from what a run recorded (synthetic manifests): every retrieving system
has its own trials, and an n/a says why."""
from __future__ import annotations

from ragft.evaluate.config import config_from_mapping
from ragft.evaluate.records import RunManifest
from ragft.evaluate.summary import measured_rows

SYSTEMS = [{"name": "rag", "kind": "rag"}, {"name": "rag-gemma", "kind": "rag", "generator": "local"},
           {"name": "fine-tuned", "kind": "fine-tuned", "generator": "local", "adapter": "a"},
           {"name": "hybrid", "kind": "hybrid", "generator": "local", "adapter": "a"}]


def _trial(seconds, cited=False, stated=False, retrieved=True):
    return {"doc_id": "d", "question": "q", "seconds": seconds, "add_seconds": 0.01, "cited": cited,
            "fact_in_answer": stated, "retrieved": retrieved}


def _rows(freshness, trials=3):
    config = config_from_mapping({"evalset": "set.jsonl", "docs": ["d"], "systems": SYSTEMS,
                                  "freshness_trials": trials})
    adapter = {"path": "a", "training_seconds": 120.0, "examples": 10, "epochs": 1}
    manifest = RunManifest(run_id="r", created_at="now", bench="b", evalset_sha256="x", systems=config.systems,
                           measurements={"index_build_seconds": 30.0, "freshness": freshness,
                                         "adapters": {"fine-tuned": adapter, "hybrid": adapter}})
    return measured_rows(config, manifest)


def test_each_retrieving_system_is_judged_on_its_own_trials():
    rows = _rows({"rag": [_trial(0.05, cited=True)] * 3,
                  "rag-gemma": [_trial(2.0, stated=True), _trial(2.2), _trial(2.4, retrieved=False)],
                  "hybrid": [_trial(3.0), _trial(3.0), _trial(3.0, stated=True, retrieved=False)]})
    fresh = rows["freshness"]
    assert fresh["rag"].samples == (0.05,) * 3
    assert fresh["rag"].note == "3/3 trials answered from the newly added document (retrieved in 3/3, cited in 3, " \
                                "fact stated in 0)"
    # a reader that states the new fact without citing it has answered from it; a guess without the document has not
    assert fresh["rag-gemma"].samples == (2.0,)
    assert fresh["hybrid"].value is None and fresh["hybrid"].note == (
        "n/a: 0/3 trials answered from the newly added document (retrieved in 2/3, cited in 0, fact stated in 1)")


def test_the_fine_tuned_freshness_is_its_retraining_and_unmeasured_trials_say_so():
    rows = _rows({}, trials=0)
    assert rows["freshness"]["fine-tuned"].samples == (120.0,)
    assert rows["freshness"]["fine-tuned"].note.startswith("retrain: adapter training seconds from its manifest")
    assert rows["freshness"]["rag"].note == "n/a: not measured (freshness_trials = 0)"
    assert rows["time_to_production"]["hybrid"].samples == (150.0,)
    assert rows["time_to_production"]["hybrid"].note == "index build 30.0 s + adapter training (its manifest): 120.0 s"


def test_trials_recorded_before_retrieval_was_kept_still_count_their_citations():
    old = [{k: v for k, v in _trial(0.1, cited=True).items() if k != "retrieved"}, _trial(0.2)]
    old[1].pop("retrieved")
    fresh = _rows({"rag": old})["freshness"]["rag"]
    assert fresh.samples == (0.1,) and fresh.note == "1/2 trials answered from the newly added document (cited in 1)"
