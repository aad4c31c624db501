"""`rag-tuned-retriever` in a real run: rag over the corpus indexed with a `ragft finetune retriever` folder (trained
here for one step), beside plain rag, both contenders of the measured verdict."""
from __future__ import annotations

import json

import pytest

from ragft.errors import InputError
from ragft.evaluate.config import config_from_mapping, load_config, parse_systems
from ragft.evaluate.runner import evaluate

from .conftest import DEBIAN_FAQ_TREE


@pytest.fixture(scope="module")
def retriever(tmp_path_factory):
    from ragft.evaluate.training_pairs import bench_pairs
    from ragft.finetune.retriever import RetrieverConfig, train_retriever

    root = tmp_path_factory.mktemp("retriever")
    pairs = bench_pairs("debian-faq", split="train", source_dir=DEBIAN_FAQ_TREE, cache_dir=root / "benches")
    train_retriever(pairs, root / "faq-retriever", config=RetrieverConfig(batch_size=4, query_tokens=16,
                                                                            passage_tokens=32, max_steps=1))
    return root / "faq-retriever"


@pytest.fixture(scope="module")
def run(retriever, tmp_path_factory):
    root = tmp_path_factory.mktemp("run")
    config = config_from_mapping({
        "bench": ["debian-faq"], "bench_source": str(DEBIAN_FAQ_TREE), "bench_cache": str(root / "benches"),
        "warmup": 0, "freshness_trials": 1, "bootstrap_resamples": 200, "contenders": ["rag", "rag-tuned-retriever"],
        "systems": [s.model_dump() for s in parse_systems("rag,rag-tuned-retriever", retriever=str(retriever))],
    })
    return evaluate(config, out=root / "run")


def test_the_tuned_retriever_answers_from_its_own_index_of_the_same_corpus(run, retriever):
    by_system: dict[str, list] = {}
    for record in run.records:
        by_system.setdefault(record.system, []).append(record)
    assert len(by_system["rag"]) == len(by_system["rag-tuned-retriever"]) == run.table.n_questions
    assert all("recall_at_k" in r.retrieval and r.error is None for r in by_system["rag-tuned-retriever"])
    indexes = sorted(p.name for p in run.path.iterdir() if p.name.startswith("index"))
    assert indexes[0] == "index" and indexes[1].startswith("index-retriever-") and len(indexes) == 2
    recorded = run.manifest.measurements["retrievers"][str(retriever)]
    trained = json.loads((retriever / "ragft-embedder.json").read_text())
    assert recorded["embedder"] == f"tuned:faq-retriever:{trained['weights_sha256'][:12]}"
    assert recorded["weights_sha256"] == trained["weights_sha256"] and recorded["pairs_source"] == "evalset"
    assert run.manifest.measurements["embedder"].startswith("minilm:")
    assert set(run.manifest.measurements["freshness"]) == {"rag", "rag-tuned-retriever"}
    ttp = next(row for row in run.table.rows if row.key == "time_to_production").values["rag-tuned-retriever"]
    assert ttp.value == pytest.approx(recorded["training_seconds"] + recorded["index_build_seconds"], abs=1e-3)
    assert ttp.note.startswith("retriever training ") and "+ index build" in ttp.note


def test_the_measured_verdict_weighs_it_as_a_rag_contender(run):
    verdict = run.verdict
    contenders = {c.system: c.architecture for c in verdict.contenders}
    assert contenders == {"rag": "rag", "rag-tuned-retriever": "rag"}


def test_the_system_needs_its_folder_and_the_folder_needs_the_system(retriever, tmp_path):
    with pytest.raises(InputError, match="rag-tuned-retriever needs --retriever FOLDER"):
        parse_systems("rag,rag-tuned-retriever")
    with pytest.raises(InputError, match="--retriever is read by --systems ...,rag-tuned-retriever only"):
        parse_systems("rag", retriever=str(retriever))
    config = tmp_path / "run.toml"
    config.write_text('bench = "debian-faq"\n[[systems]]\nname = "tuned"\nkind = "rag"\nretriever = "mine"\n')
    assert load_config(config).systems[0].retriever == str(tmp_path / "mine")


def test_when_it_is_the_only_contender_the_verdict_names_the_fine_tuned_retriever(run):
    from ragft.evaluate.runs import verdict_of_run

    alone = verdict_of_run(run.path, contenders=["rag-tuned-retriever"])
    assert alone.system == "rag-tuned-retriever"     # the run has no profile: every constraint is left to data
    assert alone.label.startswith("RAG with a fine-tuned retriever")
    plain = verdict_of_run(run.path, contenders=["rag"])
    assert "fine-tuned retriever" not in plain.label

