"""The study's budgets: the demo's is small and labelled; an unknown one is a one-line error before any work;
adapters and runs are reused only with the config they were made with."""
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from ragft.errors import InputError
from ragft.evaluate.progress import RAFT_INDEX, TRAINING
from ragft.evaluate.study import BUDGETS, run_study
from ragft.rag.engine import Index
from ragft.rag.progress import COMPACTING, INDEXING
from ragft.testing import HashingEmbedder


def test_the_demo_budget_is_smaller_than_the_evidence_budget_in_every_dimension():
    tiny, full = BUDGETS["tiny"], BUDGETS["full"]
    assert tiny.eval_limit is not None and full.eval_limit is None
    assert tiny.train_steps < full.train_steps and tiny.distractors < full.distractors
    assert tiny.epochs < full.epochs and tiny.max_tokens <= full.max_tokens


def test_an_unknown_budget_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(InputError, match=r"--budget 'huge': choose one of tiny, full"):
        run_study(tmp_path / "study", budget="huge")
    assert not (tmp_path / "study").exists()


# --- reuse: adapters and runs only with the config they were made with ------------------------------------

DATA = Path(__file__).resolve().parents[1] / "data"


def _fake_adapter(examples, out, *, base="gemma3-270m", config=None, drop=(), base_sha256=None, **_):
    """What train_lora leaves behind, without training: a weights file and a complete manifest recording the
    base, the data hash, the example count and the hyperparameters it was given (`drop`: keys an older
    TrainConfig did not have)."""
    from ragft.adapters import AdapterManifest, file_hashes, write_manifest
    from ragft.finetune.dataset import data_hash

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "adapter_model.safetensors").write_bytes(json.dumps([base, data_hash(examples)]).encode())
    hyper = {k: v for k, v in config.model_dump(mode="json").items() if k not in drop}
    manifest = AdapterManifest(complete=True, base=base, base_sha256=f"given {base_sha256}" if base_sha256 else "b",
                               prompt_format="ragft-qa-v1",
                               data_sha256=data_hash(examples), examples=len(examples), hyperparameters=hyper,
                               seed=config.seed, steps=1, losses=[1.0], seconds=1.0, seconds_per_step=1.0, device="cpu",
                               versions={}, files=file_hashes(out), created_at="2026-01-01T00:00:00+00:00")
    write_manifest(out, manifest)
    return manifest


@pytest.fixture
def study(tmp_path, monkeypatch):
    """run_study on the bundled Python FAQ excerpt with training, evaluation and the report replaced by
    stand-ins that write what the real ones record: study(budget) -> (result, messages, trained, evaluated)."""
    from ragft.adapters import verify_adapter
    from ragft.evaluate.benches import load_bench
    from ragft.evaluate.config import config_from_mapping
    from ragft.evaluate.records import RunManifest
    from ragft.evaluate.run_folder import MANIFEST

    trained, evaluated = [], []
    monkeypatch.setattr("ragft.evaluate.benches.load_bench",
                        lambda name, **kw: load_bench(name, **{**kw, "cache_dir": tmp_path / "benches"}))
    monkeypatch.setattr("ragft.llm.local_model.load_causal_lm", lambda *a, **kw: (object(), object()))
    opened = Index.open.__func__     # the RAFT retrieval index: hashed words instead of MiniLM, for speed
    monkeypatch.setattr(Index, "open", classmethod(lambda cls, path, **kw: opened(cls, path, **{
        **kw, "embedder": HashingEmbedder()})))

    def train(examples, out, on_progress=None, **kw):
        trained.append(Path(out))
        for done in range(3) if on_progress else ():      # as train_lora reports: the start, then 2 steps
            on_progress("training", done, 2)
        return _fake_adapter(examples, out, **kw)

    def run_eval(config=None, *, out=None, resume=None, progress=False, on_progress=None):
        evaluated.append((Path(out), resume is not None))
        if resume is None:
            parsed = config_from_mapping(config)
            adapters = {s.name: {"path": s.adapter, "files": verify_adapter(s.adapter).files}
                        for s in parsed.systems if s.adapter}
            manifest = RunManifest(run_id=Path(out).name, created_at="now", bench="python-faq", evalset_sha256="e",
                                   systems=parsed.systems, config=parsed.model_dump(mode="json"),
                                   measurements={"adapters": adapters})
            Path(out).mkdir(parents=True, exist_ok=True)
            (Path(out) / MANIFEST).write_text(manifest.model_dump_json())
        return SimpleNamespace(path=Path(out), verdict=None, table=None)

    monkeypatch.setattr("ragft.finetune.train_local.train_lora", train)
    monkeypatch.setattr("ragft.evaluate.runner.run_eval", run_eval)
    monkeypatch.setattr("ragft.report.writer.write_report", lambda path: [])
    out = tmp_path / "demo"

    def run(budget, on_progress=None):
        messages = []
        trained.clear()
        evaluated.clear()
        result = run_study(out, budget=budget, source_dir=DATA / "python3.11-doc", progress=False,
                           on_progress=on_progress, say=messages.append)
        return result, messages, list(trained), list(evaluated)

    run.out = out
    return run


def test_demo_then_full_budget_trains_and_runs_anew_and_each_budget_then_reuses_its_own(study):
    out = study.out
    _, _, trained, evaluated = study("tiny")
    assert trained == [out / "adapters" / "paraphrase", out / "adapters" / "raft"]
    assert evaluated == [(out / "run", False)]

    full, said, trained, evaluated = study("full")
    assert trained == [out / "adapters" / "paraphrase-full", out / "adapters" / "raft-full"]
    assert evaluated == [(out / "run-full", False)] and full.run_dir == out / "run-full"
    assert full.adapters == {"fine-tuned": out / "adapters" / "paraphrase-full",
                             "hybrid": out / "adapters" / "raft-full"}
    passed = next(m for m in said if m.startswith("adapter for fine-tuned: not reusing"))
    assert "epochs 1, wanted 3" in passed and "max_steps 8, wanted 400" in passed
    assert passed.endswith("paraphrase-full")
    assert any(m.startswith(f"run: not resuming {out / 'run'} (recorded with other settings: distractors, limit")
               for m in said)

    tiny, said, trained, evaluated = study("tiny")
    assert trained == [] and evaluated == [(out / "run", True)] and tiny.run_dir == out / "run"
    assert f"adapter for hybrid: reusing {out / 'adapters' / 'raft'} (same base model, data and hyperparameters)" in said

    _, _, trained, evaluated = study("full")
    assert trained == [] and evaluated == [(out / "run-full", True)]


def test_the_study_reports_the_raft_index_sync_and_each_adapters_lora_steps_to_its_callback(study):
    heard = []
    study("tiny", on_progress=lambda *event: heard.append(event))
    starts = [(stage, note) for stage, done, _, note in heard if done == 0 and stage in (RAFT_INDEX, TRAINING)]
    assert [stage for stage, _ in starts] == [TRAINING, RAFT_INDEX, TRAINING]
    assert starts[0][1].startswith("training the fine-tuned adapter (paraphrase data): ")
    assert starts[2][1].startswith("training the hybrid adapter (raft data): ")
    assert starts[2][1].endswith(" 2 LoRA steps")
    steps = [(done, total, note) for stage, done, total, note in heard if stage == TRAINING and done > 0]
    assert steps == [(1, 2, "fine-tuned"), (2, 2, "fine-tuned"), (1, 2, "hybrid"), (2, 2, "hybrid")]
    files = [(done, total) for stage, done, total, _ in heard if stage == INDEXING]
    assert files and files[-1][0] == files[-1][1] == len(files)

    heard.clear()
    study("tiny", on_progress=lambda *event: heard.append(event))     # both adapters reused: no steps
    assert [stage for stage, done, _, _ in heard if done == 0 and stage != COMPACTING] == [RAFT_INDEX]


def test_an_adapter_trained_before_a_hyperparameter_existed_is_reused_when_the_rest_matches(study, monkeypatch):
    # e.g. the evidence adapters, trained by an earlier version: a key missing from the manifest counts as its default
    monkeypatch.setattr("ragft.finetune.train_local.train_lora",
                        lambda examples, out, **kw: _fake_adapter(examples, out, drop=("warmup_steps",), **kw))
    study("tiny")
    manifest = json.loads((study.out / "adapters" / "raft" / "ragft-adapter.json").read_text())
    assert "warmup_steps" not in manifest["hyperparameters"]
    _, said, trained, _ = study("tiny")
    assert trained == [] and sum(m.startswith("adapter for") and "reusing" in m for m in said) == 2


def test_a_changed_adapter_or_training_data_is_not_reused(study):
    from ragft.evaluate.study import AdapterIdentity, _adapter_folder

    study("tiny")
    root = study.out / "adapters"
    manifest = json.loads((root / "paraphrase" / "ragft-adapter.json").read_text())
    same = AdapterIdentity(base=manifest["base"], data_sha256=manifest["data_sha256"], examples=manifest["examples"],
                           hyperparameters=manifest["hyperparameters"])
    assert _adapter_folder(root, "paraphrase", "tiny", same) == (root / "paraphrase", True, [])
    other = AdapterIdentity(base=same.base, data_sha256="0" * 64, examples=same.examples,
                            hyperparameters=same.hyperparameters)
    assert _adapter_folder(root, "paraphrase", "tiny", other) == (
        root / "paraphrase-tiny", False, [(root / "paraphrase", "trained with other training data (sha256 differs)")])
    # the adapter a run used, replaced in place by another finished one of the same recipe (its manifest
    # updated to the new weights): the adapter is reusable, the run made with the old weights is not resumed
    from ragft.adapters import file_hashes

    (root / "raft" / "adapter_model.safetensors").write_bytes(b"other weights")
    raft = json.loads((root / "raft" / "ragft-adapter.json").read_text())
    (root / "raft" / "ragft-adapter.json").write_text(json.dumps({**raft, "files": file_hashes(root / "raft")}))
    _, said, trained, evaluated = study("tiny")
    assert trained == [] and evaluated == [(study.out / "run-tiny", False)]
    assert f"run: not resuming {study.out / 'run'} (the hybrid adapter at {root / 'raft'} changed since); " \
           f"running into {study.out / 'run-tiny'}" in said


def test_the_run_index_starts_with_the_raft_index_embeddings_so_the_corpus_is_embedded_once(study):
    import sqlite3

    from ragft.rag.engine import EMBEDDING_CACHE_FILE

    result, *_ = study("tiny")

    def keys(index):
        with sqlite3.connect(index / EMBEDDING_CACHE_FILE) as db:
            return {row[0] for row in db.execute("SELECT key FROM embeddings")}

    raft = keys(study.out / "raft-index")
    assert len(raft) > 10 and keys(result.run_dir / "index") == raft


def test_the_study_records_its_phases_in_the_run_manifest_and_the_second_training_reuses_the_base_hash(study):
    from ragft.evaluate.run_folder import load_manifest

    result, *_ = study("tiny")
    phases = load_manifest(result.run_dir).measurements["study_phases"]
    assert list(phases) == ["bench", "examples paraphrase", "load base model", "train fine-tuned", "examples raft",
                            "raft index", "train hybrid", "eval:start"]     # the stand-in run reports no stages
    assert phases == result.phases
    assert all(phase["seconds"] >= 0 and phase["cpu_seconds"] >= 0 for phase in phases.values())
    hybrid = json.loads((study.out / "adapters" / "raft" / "ragft-adapter.json").read_text())
    assert hybrid["base_sha256"] == "given b"       # the first training's hash, passed on instead of hashed again
