"""`ragft eval tune` and ragft.evaluate.tuning on the bundled Python FAQ excerpt, with the hashing embedder."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ragft.errors import InputError, NotFoundError
from ragft.evaluate.config import config_from_mapping
from ragft.evaluate.evalset import EvalItem, save_evalset
from ragft.evaluate.metrics import score_retrieval
from ragft.evaluate.questions import load_questions
from ragft.evaluate.splits import split
from ragft.evaluate.tuning import (
    MIN_QUESTIONS,
    Rankings,
    TuneGrid,
    apply_tuning,
    index_facts,
    load_tuning_questions,
    saved_k,
    scratch_dir,
    tune,
    tune_index,
)
from ragft.rag.embedders.base import EMBEDDERS
from ragft.rag.engine import Index
from ragft.rag.search import SearchConfig
from ragft.testing import HashingEmbedder
from support import run_cli

PYTHON_DOC_TREE = Path(__file__).resolve().parents[1] / "data" / "python3.11-doc"
SMALL = TuneGrid(alphas=(0.3, 0.65, 0.9), rrf_ks=(20.0,), bm25_weights=(0.5,), candidates=(20, 50), ks=(3, 5, 10))


@pytest.fixture(autouse=True)
def hashing_embedder():
    with EMBEDDERS.registered("test-hashing", HashingEmbedder):
        yield


@pytest.fixture
def bench_index(python_faq_bench, tmp_path):
    """The bench corpus indexed with the hashing embedder; (index path, bench)."""
    path = tmp_path / "index"
    with Index.open(path, embedder="test-hashing") as index:
        index.sync([python_faq_bench.corpus_dir], root=python_faq_bench.corpus_dir, progress=False)
    return path, python_faq_bench


def mean_ndcg(index, items, config):
    """nDCG@10 through Index.search itself: the figure tuning must agree with."""
    kept, index.config = index.config, config
    try:
        return float(np.mean([score_retrieval(index.search(item.question, k=10), item.relevant_ids, k=10).ndcg_at_10
                              for item in items]))
    finally:
        index.config = kept


def test_rankings_rank_as_index_search(bench_index):
    path, bench = bench_index
    configs = [SearchConfig(), SearchConfig(alpha=0.3, candidates=20),
               SearchConfig(fusion="rrf", rrf_k=20, weights={"dense": 1.0, "bm25": 0.5}, candidates=50)]
    with Index.open(path) as index:
        rankings = Rankings(index, bench.questions, 200)
        for config in configs:
            index.config = config
            for row, item in enumerate(bench.questions):
                expected = [hit.chunk.id for hit in index.search(item.question, k=7)]
                assert [chunk.id for chunk in rankings.ranked(row, config, 7)] == expected
        for row, item in enumerate(bench.questions[:5]):
            expected = [hit.chunk.id for hit in index.search(item.question, k=7, mode="dense")]
            assert [chunk.id for chunk in rankings.ranked(row, None, 7, mode="dense")] == expected


def test_sweep_is_no_worse_than_the_default_on_tuning_questions_and_tests_only_on_test(bench_index):
    path, bench = bench_index
    with Index.open(path) as index:
        result = tune(index, bench.questions, grid=SMALL, seed=3)
        parts = split([item for item in bench.questions if item.relevant_ids], seed=3)
        tuning = parts.train + parts.validation
        assert result.best.ndcg >= result.baseline.ndcg
        assert result.baseline.config == SearchConfig()
        assert result.baseline.ndcg == pytest.approx(mean_ndcg(index, tuning, SearchConfig()), abs=1e-4)
        assert result.best.ndcg == pytest.approx(mean_ndcg(index, tuning, result.best.config), abs=1e-4)
        # the held-out figures: the split's test questions, and only those
        assert result.split["test_ids"] == sorted(item.id for item in parts.test)
        assert not set(result.split["test_ids"]) & {item.id for item in tuning}
        assert result.test["questions"] == len(parts.test)
        assert result.test["ndcg@10"]["baseline"] == pytest.approx(mean_ndcg(index, parts.test, SearchConfig()),
                                                                   abs=1e-4)
        assert result.test["ndcg@10"]["tuned"] == pytest.approx(mean_ndcg(index, parts.test, result.best.config),
                                                                abs=1e-4)
    figure = result.test["ndcg@10"]
    assert figure["low"] <= figure["difference"] <= figure["high"]
    assert result.evaluated == result.planned == len(SMALL.search_configs(SearchConfig()))
    assert result.complete


def test_chosen_settings_persist_and_a_reopened_index_uses_them(bench_index):
    path, bench = bench_index
    outcome = tune_index(path, bench.questions, [bench.corpus_dir], "python-faq", grid=SMALL, seed=1)
    chosen = outcome.result.best_current
    assert outcome.saved == {"search": {"fusion": chosen.config.fusion, "alpha": chosen.config.alpha,
                                        "rrf_k": chosen.config.rrf_k, "weights": dict(chosen.config.weights),
                                        "candidates": chosen.config.candidates}, "k": chosen.k}
    with Index.open(path) as index:
        assert index.config == chosen.config
        assert saved_k(index) == chosen.k
        assert index.search(bench.questions[0].question, k=3)          # BM25 re-stamped, still searchable


def test_dry_run_saves_nothing(bench_index):
    path, bench = bench_index
    before = (path / "meta.json").read_bytes()
    outcome = tune_index(path, bench.questions, [bench.corpus_dir], "python-faq", grid=SMALL, dry_run=True)
    assert outcome.saved is None
    assert (path / "meta.json").read_bytes() == before


def test_time_budget_stops_the_sweep_and_says_how_far_it_got(bench_index):
    path, bench = bench_index
    with Index.open(path) as index:
        result = tune(index, bench.questions, grid=SMALL, time_budget=0.0)
    assert not result.complete
    assert result.evaluated == 1 < result.planned              # the current settings, always scored first
    assert result.best.config == result.baseline.config


def test_other_chunking_is_a_sibling_index_sharing_the_embedding_cache(bench_index):
    path, bench = bench_index
    grid = replace(SMALL, chunkings=((200, 32), (60, 8)))     # 200/32 is the index's own
    with Index.open(path) as index:
        result = tune(index, bench.questions, [bench.corpus_dir], grid=grid, root=bench.corpus_dir)
        assert index_facts(index)[1:3] == (200, 32)            # never rebuilt by tune
    assert [(i["chunk_tokens"], i["overlap"]) for i in result.indexes] == [(60, 8)]
    sibling = result.indexes[0]
    assert sibling["path"].startswith(str(scratch_dir(path)))
    # short answers are one chunk under either chunking: their texts were embedded already, by the index
    assert result.embedding_cache["sibling_hits"] > 0
    assert sibling["embedding_cache"]["hits"] + sibling["embedding_cache"]["misses"] == sibling["chunks"]
    assert result.planned == 2 * len(grid.search_configs(SearchConfig()))
    # a second run re-syncs nothing: the sibling is up to date
    with Index.open(path) as index:
        again = tune(index, bench.questions, [bench.corpus_dir], grid=grid, root=bench.corpus_dir)
    assert again.indexes[0]["embedding_cache"] == {"hits": 0, "misses": 0}


def test_apply_with_rebuild_rebuilds_with_the_chosen_chunking(bench_index):
    path, bench = bench_index
    grid = replace(SMALL, chunkings=((60, 8),))
    with Index.open(path) as index:
        result = tune(index, bench.questions, [bench.corpus_dir], grid=grid, root=bench.corpus_dir)
    forced = replace(result, best=replace(result.best, chunk_tokens=60, overlap=8))
    assert forced.needs_rebuild
    index = Index.open(path)
    index = apply_tuning(index, forced, [bench.corpus_dir], root=bench.corpus_dir, rebuild=True)
    index.close()
    with Index.open(path) as reopened:
        assert index_facts(reopened)[1:3] == (60, 8)
        assert reopened.config == forced.best.config
        assert saved_k(reopened) == forced.best.k
        assert reopened.stats()["documents"] == sum(p.is_file() for p in bench.corpus_dir.rglob("*"))


def test_refuses_eval_sets_it_cannot_split(bench_index):
    path, bench = bench_index
    no_ids = [EvalItem(id=f"q{n}", question=f"question {n}?", reference_answer="a") for n in range(20)]
    with Index.open(path) as index:
        with pytest.raises(InputError, match="no relevant_ids"):
            tune(index, no_ids)
        with pytest.raises(InputError, match=f"at least {MIN_QUESTIONS}"):
            tune(index, bench.questions[:MIN_QUESTIONS - 1])


def test_refuses_an_eval_set_built_from_another_corpus_and_saves_nothing(bench_index):
    path, bench = bench_index
    elsewhere = [item.model_copy(update={"relevant_ids": [f"other/{rid}" for rid in item.relevant_ids]})
                 for item in bench.questions]
    with pytest.raises(InputError) as error:
        tune_index(path, elsewhere, [bench.corpus_dir], "their-evalset.jsonl", grid=SMALL)
    gold = len({rid for item in elsewhere for rid in item.relevant_ids})
    assert str(error.value) == (f"none of the {gold} relevant_ids in their-evalset.jsonl match a document in the "
                                f"index at {path}: were they built from another corpus?")
    with Index.open(path) as index:
        assert index.catalog.search is None


def test_cli_tune_bench_json_and_text(bench_index, capsys, python_faq_bench):
    path, bench = bench_index
    source = bench.corpus_dir.parents[2]          # the bench cache the fixture built into
    common = ["eval", "tune", "--bench", "python-faq", "--cache", str(source), "--distractors", "4",
              "--from", str(PYTHON_DOC_TREE), "--index", str(path), "--alphas", "0.3,0.9", "--rrf-ks", "20",
              "--bm25-weights", "0.5", "--candidates", "50"]
    code, out, err = run_cli(capsys, *common, "--dry-run", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["saved"] is None and data["complete"] and data["evaluated"] == data["planned"]
    assert set(data["test"]) == {"questions", "ndcg@10", "recall@k"}
    code, out, err = run_cli(capsys, *common)
    assert code == 0, err
    assert "test ndcg@10: current" in out and "saved into" in out
    code, out, err = run_cli(capsys, *common, "--chunkings", "60:8", "--dry-run")
    assert code == 0, err
    assert "sibling indexes in" in out and "dry run: nothing saved" in out


def test_cli_says_when_the_choice_needs_a_rebuild_and_how(bench_index, capsys):
    from ragft.cli.evaluate import _print_tune

    path, bench = bench_index
    outcome = tune_index(path, bench.questions, [bench.corpus_dir], "python-faq",
                         grid=replace(SMALL, chunkings=((60, 8),)), dry_run=True)
    forced = replace(outcome.result, best=replace(outcome.result.best, chunk_tokens=60, overlap=8))
    outcome = replace(outcome, result=forced, rebuild_needed={"embedder": "test-hashing", "chunk_tokens": 60,
                                                              "overlap": 8, "from": {"embedder": "test-hashing",
                                                                                     "chunk_tokens": 200,
                                                                                     "overlap": 32}})
    _print_tune(outcome, "ragft eval tune --bench python-faq --chunkings 60:8 --apply")
    out = capsys.readouterr().out
    assert "needs the index rebuilt with test-hashing, chunk_tokens=60 overlap=8 (it has test-hashing, 200/32)" in out
    assert "To rebuild and save: ragft eval tune --bench python-faq --chunkings 60:8 --apply" in out


def test_cli_one_line_errors(bench_index, capsys, tmp_path):
    path, bench = bench_index
    code, _, err = run_cli(capsys, "eval", "tune", "--bench", "no-such-bench", "--index", str(path))
    assert code != 0 and "unknown bench 'no-such-bench'" in err and "Traceback" not in err
    few = tmp_path / "few.jsonl"
    gold = bench.questions[0].relevant_ids
    save_evalset([EvalItem(id="a", question="what?", reference_answer="x", relevant_ids=gold)], few)
    code, _, err = run_cli(capsys, "eval", "tune", "--evalset", str(few), "--docs", str(tmp_path),
                           "--index", str(path))
    assert code != 0 and "only 1 questions with relevant_ids" in err
    code, _, err = run_cli(capsys, "eval", "tune", "--bench", "python-faq", "--index", str(path), "--alphas", "x")
    assert code != 0 and "--alphas" in err
    code, _, err = run_cli(capsys, "eval", "tune", "--evalset", str(few), "--docs", str(tmp_path),
                           "--index", str(tmp_path / "none"))
    assert code != 0 and f"index the corpus first with `ragft index {tmp_path} --root {tmp_path}" in err


def test_tuning_loads_a_bench_and_refuses_a_missing_docs_folder_as_an_eval_run_does(python_faq_bench, tmp_path):
    cache = python_faq_bench.corpus_dir.parents[2]      # the bench cache the fixture built into
    items, folders, origin = load_tuning_questions(bench="python-faq", bench_source=PYTHON_DOC_TREE,
                                                   bench_cache=cache, distractors=4)
    run = load_questions(config_from_mapping({"bench": "python-faq", "bench_source": str(PYTHON_DOC_TREE),
                                              "bench_cache": str(cache), "distractors": 4, "systems": "rag"}))
    assert (items, folders, origin) == (python_faq_bench.questions, [python_faq_bench.corpus_dir], "python-faq")
    assert (items, folders, origin) == (run.items, run.corpus_dirs, run.origin)
    few = tmp_path / "few.jsonl"
    save_evalset([EvalItem(id="a", question="what?", reference_answer="x", relevant_ids=["a.md"])], few)
    missing = tmp_path / "missing"
    with pytest.raises(NotFoundError) as tuned:
        load_tuning_questions(few, [tmp_path, missing])
    with pytest.raises(NotFoundError) as evaluated:
        load_questions(config_from_mapping({"evalset": str(few), "docs": [str(tmp_path), str(missing)],
                                            "systems": "rag"}))
    assert str(tuned.value) == str(evaluated.value) == (f"--docs {missing}: no such folder; give the corpus the "
                                                        "eval set points into")
    assert load_tuning_questions(few, [tmp_path]) == (load_questions(config_from_mapping(
        {"evalset": str(few), "docs": [str(tmp_path)], "systems": "rag"})).items, [tmp_path], str(few))
    with pytest.raises(InputError, match="give either an eval set"):
        load_tuning_questions(few, [tmp_path], bench="python-faq")


def test_eval_run_search_from_measures_the_tuned_settings(bench_index, capsys, tmp_path):
    path, bench = bench_index
    tuned = SearchConfig(fusion="rrf", rrf_k=20.0, weights={"dense": 1.0, "bm25": 0.5}, candidates=50)
    with Index.open(path) as index:
        index.save_search_settings(tuned, k=5, tuned={"by": "test"})
    source = bench.corpus_dir.parents[2]
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, "eval", "run", "--bench", "python-faq", "--cache", str(source), "--distractors", "4",
                           "--from", str(PYTHON_DOC_TREE), "--systems", "rag", "--embedder", "test-hashing",
                           "--limit", "3", "--warmup", "0", "--freshness-trials", "0", "--search-from", str(path),
                           "--out", str(out), "--json")
    assert code == 0, err
    recorded = json.loads((out / "config.json").read_text())["retrieval"]
    assert recorded["fusion"] == "rrf" and recorded["rrf_k"] == 20.0 and recorded["candidates"] == 50
    assert recorded["source"] == str(path.resolve())
    with Index.open(out / "index") as run_index, Index.open(path) as user_index:
        assert run_index.config == tuned                      # any opener of the run's index searches with them
        assert run_index.catalog.chunking == user_index.catalog.chunking

    code, _, err = run_cli(capsys, "eval", "run", "--bench", "python-faq", "--cache", str(source),
                           "--from", str(PYTHON_DOC_TREE), "--search-from", str(tmp_path / "nowhere"))
    assert code != 0 and "no index at" in err and "Traceback" not in err
