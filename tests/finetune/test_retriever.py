"""`ragft finetune retriever`: pairs from each source on the Debian FAQ excerpt, a few contrastive steps on the
real MiniLM (short sequences, tiny batches), checkpoints and resume, and the folder read back by path."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from evaluate.test_testset import DOCS, derived_reply
from llm.conftest import Provider, serve
from support import run_cli

from ragft.errors import IndexMismatchError, InputError
from ragft.evaluate.benches import load_bench
from ragft.evaluate.splits import split
from ragft.evaluate.training_pairs import (
    bench_pairs,
    collect_pairs,
    document_pairs,
    evalset_pairs,
    generator_pairs,
)
from ragft.finetune.retriever import RetrieverConfig, pair_loss, train_retriever
from ragft.finetune.retriever_pairs import PairSet, sentences
from ragft.finetune.train_local import checkpoint_root
from ragft.rag.embedders import create_embedder
from ragft.rag.embedders.bundled import ModelIntegrityError, load_bundled_minilm
from ragft.rag.embedders.tuned import MANIFEST_FILE, WEIGHTS_FILE, read_manifest
from ragft.rag.engine import Index

DEBIAN_FAQ_TREE = Path(__file__).resolve().parents[1] / "data" / "debian-faq"
# Short sequences and small batches: a step takes well under a second on one core.
TINY = RetrieverConfig(batch_size=4, query_tokens=16, passage_tokens=32, learning_rate=1e-4, max_steps=4,
                       checkpoint_every=2)


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    return load_bench("debian-faq", cache_dir=tmp_path_factory.mktemp("benches"), source_dir=DEBIAN_FAQ_TREE)


@pytest.fixture
def few_docs(bench, tmp_path):
    """Four documents of the bench corpus: enough to index, quick to embed."""
    folder = tmp_path / "few-docs"
    for path in sorted(bench.corpus_dir.rglob("*.md"))[:4]:
        target = folder / path.relative_to(bench.corpus_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    return folder


@pytest.fixture(scope="module")
def pairs(bench) -> PairSet:
    return bench_pairs("debian-faq", split="all", source_dir=DEBIAN_FAQ_TREE, cache_dir=bench.corpus_dir.parents[2])


@pytest.fixture(scope="module")
def tuned(pairs, tmp_path_factory):
    """A retriever trained 4 steps on the bench's questions: (folder, manifest)."""
    out = tmp_path_factory.mktemp("retrievers") / "faq-retriever"
    return out, train_retriever(pairs, out, config=TINY)


# --- pairs ------------------------------------------------------------------------------------------------

def test_evalset_pairs_hold_each_train_question_with_chunks_of_its_own_answer_and_no_test_question(bench):
    found = bench_pairs("debian-faq", split="train", source_dir=DEBIAN_FAQ_TREE,
                        cache_dir=bench.corpus_dir.parents[2])
    parts = split(bench.questions, seed=0)
    gold = {item.question: set(item.relevant_ids) for item in parts.train}
    assert {p.query for p in found.pairs} == set(gold)
    assert all(p.positive.doc_id in gold[p.query] for p in found.pairs)
    assert not {p.query for p in found.pairs} & {item.question for item in parts.test}
    assert found.source == "evalset" and found.details["split"] == "train"


def test_an_evalset_file_over_its_docs_gives_the_pairs_the_bench_gives(bench, pairs):
    from_file = evalset_pairs(bench.questions_path, bench.corpus_dir, split="all")
    assert [(p.query, p.positive.id) for p in from_file.pairs] == [(p.query, p.positive.id) for p in pairs.pairs]


def test_generator_pairs_keep_the_drafts_that_pass_the_eval_make_filters(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in DOCS.items():
        (docs / name).write_text(text + "\n", encoding="utf-8")
    with serve(Provider(respond=derived_reply), openai_key=None) as server:
        found = generator_pairs(docs, "openai-compatible", model="gpt-4o-mini", base_url=f"{server.url}/v1")
    # The drafts `ragft eval make` keeps (tests/evaluate/test_testset.py): alpha, epsilon and one of the deltas.
    kept = sorted(p.positive.doc_id for p in found.pairs)
    assert kept in (["alpha.txt", "delta.txt", "epsilon.txt"], ["alpha.txt", "delta-copy.txt", "epsilon.txt"])
    asked = {p.positive.doc_id: p.query for p in found.pairs}
    assert asked["alpha.txt"] == "What does Alpha do?"                     # each question with its own chunk
    assert asked["epsilon.txt"].startswith("Why it is rebuilt every hour")
    assert found.details["filters"]["supported"] == [5, 1]


def test_document_pairs_take_a_sentence_out_of_its_chunk_and_never_ask_a_shared_heading(bench):
    found = document_pairs(bench.corpus_dir, seed=0, per_chunk=2)
    chunks = {c.id: c for c in found.chunks}
    cloze = [p for p in found.pairs if p.origin == "inverse-cloze"]
    assert cloze and found.source == "documents"
    for pair in cloze:
        original = sentences(chunks[pair.positive.id].text)
        assert pair.query in original and pair.query not in sentences(pair.positive.text)
        assert len(sentences(pair.positive.text)) == len(original) - 1
    asked: dict[str, set[str]] = {}
    for pair in found.pairs:
        asked.setdefault(pair.query, set()).add(pair.positive.doc_id) if pair.origin.startswith("structure") else None
    assert all(len(doc_ids) == 1 for doc_ids in asked.values())
    again = document_pairs(bench.corpus_dir, seed=0, per_chunk=2)
    assert [(p.query, p.positive.id) for p in again.pairs] == [(p.query, p.positive.id) for p in found.pairs]
    assert len(document_pairs(bench.corpus_dir, seed=0, per_chunk=1).pairs) < len(found.pairs)


def test_collect_pairs_names_the_missing_input_of_each_source(bench, tmp_path):
    with pytest.raises(InputError, match="--docs DIR is missing"):
        collect_pairs("documents")
    with pytest.raises(InputError, match="--generator NAME is missing"):
        collect_pairs("generator", docs=bench.corpus_dir)
    with pytest.raises(InputError, match=r"nope\.jsonl: no such eval set"):
        collect_pairs("evalset", evalset=tmp_path / "nope.jsonl", docs=bench.corpus_dir)
    with pytest.raises(InputError, match="choose one of evalset, generator, documents"):
        collect_pairs("questions", docs=bench.corpus_dir)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no documents with text"):
        collect_pairs("documents", docs=tmp_path / "empty")


# --- training -----------------------------------------------------------------------------------------------

def test_the_training_model_embeds_a_ragged_batch_as_minilm_does_at_inference(pairs):
    """Training tokenizes and pads through MiniLM's own path: before any step its vectors are the base model's."""
    from ragft.finetune.retriever import make_model, padded
    from ragft.rag.embedders.minilm import MiniLMEmbedder

    texts = [p.query for p in pairs.pairs[:3]] + [pairs.pairs[0].positive.text]     # lengths differ: padding
    minilm = MiniLMEmbedder(backend="numpy")
    tokens = minilm.tokenize(texts)
    assert len({len(t) for t in tokens}) > 1
    ids, mask = padded(tokens, "cpu")
    assert mask.sum(dim=1).tolist() == [len(t) for t in tokens]
    base = load_bundled_minilm()
    vectors = make_model(base.weights, base.config, "cpu")(ids, mask).detach().numpy()
    np.testing.assert_allclose(vectors, minilm.embed(texts), atol=1e-5)


def test_a_few_steps_lower_the_contrastive_loss_and_change_the_weights(tuned, pairs):
    folder, manifest = tuned
    base = create_embedder("minilm")
    trained = create_embedder(str(folder))
    assert pair_loss(trained, pairs.pairs) < pair_loss(base, pairs.pairs)
    before = load_bundled_minilm().weights
    from safetensors.numpy import load_file

    after = load_file(str(folder / WEIGHTS_FILE))
    assert set(after) == set(before)
    assert not np.array_equal(after["encoder.layer.0.attention.self.query.weight"],
                              before["encoder.layer.0.attention.self.query.weight"])
    assert np.array_equal(after["pooler.dense.weight"], before["pooler.dense.weight"])     # unused: untouched
    assert manifest.steps == 4 and len(manifest.losses) == 4 and manifest.pairs_source == "evalset"
    assert manifest.counts["pairs"] == len(pairs.pairs) and manifest.counts["hard_negatives"] == len(pairs.pairs)
    assert manifest.base_sha256 == load_bundled_minilm().sha256
    assert read_manifest(folder) == manifest and not checkpoint_root(folder).exists()


def test_an_interrupted_run_resumes_from_its_checkpoint_to_the_same_steps_and_weights(tuned, pairs, tmp_path):
    out = tmp_path / "resumed"

    def stop_after_two(stage, done, total):
        if stage == "training" and done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_retriever(pairs, out, config=TINY, on_progress=stop_after_two)
    assert not out.exists() and (checkpoint_root(out) / "step-0000002").is_dir()
    with pytest.raises(InputError, match="another config"):
        train_retriever(pairs, out, config=TINY.model_copy(update={"learning_rate": 2e-4}), resume=True)
    manifest = train_retriever(pairs, out, config=TINY, resume=True)
    assert manifest.steps == 4 and manifest.resumed_from_step == 2
    straight = create_embedder(str(tuned[0]), backend="numpy").embed(["Why is it called Debian?"])
    resumed = create_embedder(str(out), backend="numpy").embed(["Why is it called Debian?"])
    assert np.abs(straight - resumed).max() < 1e-4


def test_training_refuses_too_few_pairs_and_an_existing_folder(pairs, tuned):
    few = PairSet(pairs.pairs[:3], pairs.chunks, "evalset")
    with pytest.raises(InputError, match="3 training pairs, need at least 8"):
        train_retriever(few, tuned[0].parent / "few", config=TINY)
    with pytest.raises(InputError, match="already exists; choose another --out or pass --overwrite"):
        train_retriever(pairs, tuned[0], config=TINY)


# --- the folder read back -------------------------------------------------------------------------------

def test_the_folder_loads_by_path_with_numpy_and_torch_giving_the_same_vectors(tuned):
    folder, manifest = tuned
    texts = ["How do I install a package?", "Debian is a free operating system. " * 30]
    on_numpy = create_embedder(str(folder), backend="numpy")
    on_torch = create_embedder(str(folder), backend="torch")
    assert on_numpy.name == on_torch.name == f"tuned:faq-retriever:{manifest.weights_sha256[:12]}"
    assert np.abs(on_numpy.embed(texts) - on_torch.embed(texts)).max() < 1e-4
    assert np.abs(on_numpy.embed(texts) - create_embedder("minilm", backend="numpy").embed(texts)).max() > 1e-3


def test_an_index_built_with_the_tuned_folder_refuses_the_base_model_and_reopens_with_its_own(tuned, few_docs,
                                                                                            tmp_path, monkeypatch):
    folder, manifest = tuned
    monkeypatch.chdir(folder.parent)
    with Index.open(tmp_path / "index", embedder=f"./{folder.name}") as index:
        index.sync([few_docs], root=few_docs)
        assert index.catalog.embedder == str(folder.resolve())
        assert index.catalog.embedder_id == f"tuned:faq-retriever:{manifest.weights_sha256[:12]}"
    with pytest.raises(IndexMismatchError, match=f"built with embedder {folder.resolve()}; open it with rebuild"):
        Index.open(tmp_path / "index", embedder="minilm")
    monkeypatch.chdir(tmp_path)
    with Index.open(tmp_path / "index") as index:
        hits = index.search("Why is it called Debian?", k=3, mode="dense")
        assert index.embedder.name.startswith("tuned:") and hits


def test_changed_weights_or_a_changed_manifest_are_refused_at_load(tuned, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(tuned[0], copy)
    manifest = json.loads((copy / MANIFEST_FILE).read_text())
    (copy / MANIFEST_FILE).write_text(json.dumps({**manifest, "weights_sha256": "0" * 64}))
    with pytest.raises(ModelIntegrityError, match=r"model.safetensors has sha256 .* records 000000000000"):
        create_embedder(str(copy))
    (copy / MANIFEST_FILE).write_text(json.dumps({**manifest, "pairs_source": "vibes"}))
    with pytest.raises(InputError, match=r"ragft-embedder.json: field pairs_source"):
        create_embedder(str(copy))
    with pytest.raises(Exception, match="no such embedder folder"):
        create_embedder(str(tmp_path / "missing"))


# --- the command --------------------------------------------------------------------------------------------

def test_the_command_trains_from_documents_and_the_folder_indexes_by_path(bench, few_docs, tmp_path, capsys,
                                                                          monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, "finetune", "retriever", "--pairs-from", "documents",
                             "--docs", str(bench.corpus_dir), "--out", "mine", "--max-steps", "3",
                             "--max-minutes", "0.00001", "--no-hard-negatives", "--batch-size", "4",
                             "--query-tokens", "8", "--passage-tokens", "16", "--json")
    assert code == 0, err
    manifest = json.loads(out)
    assert manifest["pairs_source"] == "documents" and manifest["counts"]["hard_negatives"] == 0
    assert manifest["steps"] == 1 and manifest["stopped_early"] is True       # the time budget ran out
    assert manifest["counts"]["origin:inverse-cloze"] > 0
    code, _, err = run_cli(capsys, "index", str(few_docs), "--index", "idx", "--embedder", "./mine")
    assert code == 0, err
    code, _, err = run_cli(capsys, "search", "What is Debian?", "--index", "idx", "--embedder", "minilm")
    assert code == 1 and err.count("\n") == 1
    assert f"built with embedder {tmp_path / 'mine'}; open it with --rebuild or --embedder" in err


@pytest.mark.parametrize("args, message", [
    (["--pairs-from", "evalset", "--evalset", "missing.jsonl", "--docs", "."], "missing.jsonl: no such eval set"),
    (["--pairs-from", "documents", "--docs", "empty"], "empty: no documents with text to train on (--docs)"),
    (["--pairs-from", "documents"], "--pairs-from documents: --docs DIR is missing"),
    (["--pairs-from", "generator", "--docs", "."], "--pairs-from generator: --generator NAME is missing"),
    (["--pairs-from", "evalset", "--docs", "."], "--pairs-from evalset: give --evalset FILE with --docs DIR"),
    (["--pairs-from", "web", "--docs", "."], "--pairs-from web: choose one of evalset, generator, documents"),
    (["--pairs-from", "documents", "--docs", "tiny"], "documents: 2 training pairs, need at least 8"),
    (["--pairs-from", "documents", "--docs", ".", "--out", "taken"], "taken: already exists; choose another --out"),
])
def test_each_bad_input_is_one_line_naming_it(args, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    (tmp_path / "taken").mkdir()
    (tmp_path / "tiny").mkdir()
    (tmp_path / "tiny" / "a.md").write_text("Alpha is first. It comes before beta in the list of letters here. "
                                            "Beta follows it. Gamma is the third letter of the Greek alphabet.\n")
    (tmp_path / "tiny" / "b.md").write_text("Debian is an operating system. It is made by volunteers from many "
                                            "countries. Packages are built from source. Releases are named.\n")
    full = ["finetune", "retriever", *args] + ([] if "--out" in args else ["--out", "new"])
    code, _, err = run_cli(capsys, *full)
    assert code == 1 and err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "new").exists()


def test_generated_pairs_too_few_to_train_on_are_refused_by_the_command(tmp_path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in DOCS.items():
        (docs / name).write_text(text + "\n", encoding="utf-8")
    with serve(Provider(respond=derived_reply), openai_key=None) as server:
        code, _, err = run_cli(capsys, "finetune", "retriever", "--pairs-from", "generator", "--docs", str(docs),
                               "--generator", "openai-compatible", "--model", "gpt-4o-mini",
                               "--base-url", f"{server.url}/v1", "--out", str(tmp_path / "out"))
    assert code == 1 and "generator: 3 training pairs, need at least 8" in err



def test_eval_tune_tries_the_tuned_folder_as_another_embedder(tuned, bench, tmp_path):
    from ragft.evaluate.tuning import TuneGrid, scratch_dir, tune
    from ragft.rag.embedders.base import EMBEDDERS
    from ragft.testing import HashingEmbedder

    folder, manifest = tuned
    grid = TuneGrid(alphas=(0.65,), rrf_ks=(), bm25_weights=(), candidates=(100,), ks=(10,),
                    embedders=(str(folder),))
    with EMBEDDERS.registered("test-hashing", HashingEmbedder):
        with Index.open(tmp_path / "index", embedder="test-hashing") as index:
            index.sync([bench.corpus_dir], root=bench.corpus_dir, progress=False)
            result = tune(index, bench.questions, [bench.corpus_dir], grid=grid, root=bench.corpus_dir,
                          n_resamples=200)
    assert {entry["embedder"] for entry in result.indexes} == {str(folder)}      # a sibling index built with it
    assert {row["embedder"] for row in result.sweep} == {"test-hashing", str(folder)}
    assert Path(result.indexes[0]["path"]).parent == scratch_dir(tmp_path / "index")
    with Index.open(result.indexes[0]["path"]) as sibling:
        assert sibling.catalog.embedder_id == f"tuned:faq-retriever:{manifest.weights_sha256[:12]}"
