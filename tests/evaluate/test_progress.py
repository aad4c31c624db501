"""Eval progress as a callback: the library reports stages, answers and the index sync; the faces draw them."""
from __future__ import annotations

import io
import sys

from ragft.cli.progress import EvalProgress
from ragft.evaluate.config import config_from_mapping
from ragft.evaluate.progress import (
    ANSWERING,
    INDEX,
    RAFT_INDEX,
    SUMMARY,
    TRAINING,
    WARM_UP,
    plain_reporter,
    reporter,
)
from ragft.evaluate.runner import evaluate
from ragft.rag.embedders.base import EMBEDDERS
from ragft.rag.progress import INDEXING
from ragft.rag.progress import reporter as sync_reporter
from ragft.testing import HashingEmbedder

from .conftest import PYTHON_DOC_TREE


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_run_reports_each_stage_each_answer_and_the_index_sync_to_its_callback(tmp_path):
    heard = []
    config = config_from_mapping({
        "bench": "python-faq", "bench_source": str(PYTHON_DOC_TREE), "bench_cache": str(tmp_path / "cache"),
        "distractors": 0, "systems": "closed-book,rag", "limit": 3, "warmup": 1, "freshness_trials": 0,
        "bootstrap_resamples": 100, "embedder": "test-hashing"})
    with EMBEDDERS.registered("test-hashing", HashingEmbedder):
        run = evaluate(config, out=tmp_path / "run", on_progress=lambda *event: heard.append(event))
    starts = [(stage, total) for stage, done, total, _ in heard if done == 0 and stage != "compacting"]
    assert starts == [(INDEX, 1), (WARM_UP, 1), (ANSWERING, 6), (SUMMARY, 1)]
    answers = [(done, note) for stage, done, _, note in heard if stage == ANSWERING and done > 0]
    assert [done for done, _ in answers] == [1, 2, 3, 4, 5, 6]
    assert sorted(note for _, note in answers) == sorted(r.system for r in run.records)
    files = [(done, total) for stage, done, total, _ in heard if stage == INDEXING]
    assert files and files[-1][0] == files[-1][1] == len(files)


def test_off_a_terminal_the_plain_reporter_writes_a_line_per_stage_and_every_tenth_answer():
    out = io.StringIO()
    report = plain_reporter(out)
    report(INDEX, 0, 1, "indexing the corpus with minilm")
    report(INDEXING, 1, 2, "")
    report(ANSWERING, 0, 20, "answering: 20 answers from 2 systems")
    for done in range(1, 21):
        report(ANSWERING, done, 20, "rag")
    lines = out.getvalue().splitlines()
    assert lines[:2] == ["ragft: indexing the corpus with minilm", "ragft: answering: 20 answers from 2 systems"]
    assert [line.split(" (")[0] for line in lines[2:]] == [f"ragft: answering {n}/20" for n in range(2, 21, 2)]
    assert "\r" not in out.getvalue()


def test_a_run_reports_to_the_callers_callback_else_plain_lines_when_asked_else_nowhere(monkeypatch):
    heard = []
    assert reporter(True, heard.append) == heard.append and sync_reporter(True, heard.append) == heard.append
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    reporter(False, None)(INDEX, 0, 1, "indexing the corpus")
    sync_reporter(False, None)(INDEXING, 1, 2)
    assert terminal.getvalue() == ""
    reporter(True, None)(INDEX, 0, 1, "indexing the corpus")          # the eval run's default: plain lines
    assert terminal.getvalue() == "ragft: indexing the corpus\n"
    sync_reporter(True, None)(INDEXING, 1, 2)                          # the sync's: a line rewritten in place
    assert terminal.getvalue().endswith("\rindexing 1/2 files")


def test_the_cli_draws_stage_lines_and_a_bar_on_a_terminal_and_plain_lines_elsewhere():
    terminal = Terminal()
    with EvalProgress(stream=terminal) as on_progress:
        on_progress(ANSWERING, 0, 2, "answering: 2 answers from 1 systems")
        on_progress(ANSWERING, 1, 2, "closed-book")
        on_progress(ANSWERING, 2, 2, "closed-book")
        on_progress(SUMMARY, 0, 1, "pricing, bootstrap intervals and the verdict")
    drawn = terminal.getvalue()
    assert "ragft: answering: 2 answers from 1 systems" in drawn and "2/2" in drawn
    assert "ragft: pricing, bootstrap intervals and the verdict" in drawn
    log = io.StringIO()
    with EvalProgress(stream=log) as on_progress:
        on_progress(ANSWERING, 0, 1, "answering: 1 answers from 1 systems")
        on_progress(ANSWERING, 1, 1, "rag")
    assert [line.split(" (")[0] for line in log.getvalue().splitlines()] == [
        "ragft: answering: 1 answers from 1 systems", "ragft: answering 1/1"]
    quiet = Terminal()
    with EvalProgress(enabled=False, stream=quiet) as on_progress:
        on_progress(ANSWERING, 0, 1, "answering: 1 answers from 1 systems")
    assert quiet.getvalue() == ""


def test_the_studys_adapter_training_draws_as_answering_does_plain_lines_in_a_log_and_a_bar_on_a_terminal():
    def study_events(on_progress):
        on_progress(RAFT_INDEX, 0, 1, "indexing the corpus for the RAFT examples' retrieval")
        on_progress(INDEXING, 1, 1, "")
        on_progress(TRAINING, 0, 4, "training the hybrid adapter (raft data): 12 examples, 4 LoRA steps")
        for done in range(1, 5):
            on_progress(TRAINING, done, 4, "hybrid")

    log = io.StringIO()
    with EvalProgress(stream=log) as on_progress:
        study_events(on_progress)
    lines = log.getvalue().splitlines()
    assert lines[:2] == ["ragft: indexing the corpus for the RAFT examples' retrieval",
                         "ragft: training the hybrid adapter (raft data): 12 examples, 4 LoRA steps"]
    assert [line.split(", ")[0] for line in lines[2:]] == [f"ragft: training {n}/4 (hybrid)" for n in range(1, 5)]
    terminal = Terminal()
    with EvalProgress(stream=terminal) as on_progress:
        study_events(on_progress)
    drawn = terminal.getvalue()
    assert "ragft: training the hybrid adapter (raft data): 12 examples, 4 LoRA steps" in drawn
    assert "4/4" in drawn and "hybrid" in drawn.split("LoRA steps", 1)[1]
