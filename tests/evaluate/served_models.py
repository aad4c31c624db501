"""A base model and its fine-tune served side by side by one local OpenAI-compatible server (the chat server
of tests/llm/conftest.py), each answering from what the request holds: the question and the numbered passages.

`ServedModels(tuned_knows=True)`: the tuned model answers every known question correctly, with or without
passages; the base model only quotes the first passage it is given, and says "I don't know" closed-book.
`ServedModels(tuned_knows=False)`, the reverse: the base model reads the passages and answers correctly; the
tuned model has learned nothing useful ("I don't know" closed-book), and reads passages as the base does.
Asked about something they were not taught (a freshness trial's new document), both read the passages: the
sentence sharing most words with the question, cited.

`write_eval_data(folder)` writes the eval set and the docs they are answered from (no bench download).
`served_run` is a module-scoped fixture running `ragft eval run` against them; import it into a test module
(`from .served_models import served_run`) to assert more on the same runs."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from llm.conftest import Provider, serve

from ragft.cli import main
from ragft.evaluate.run_folder import load_run

SYSTEMS = "closed-book,rag,fine-tuned,hybrid"

BASE = "acme-base"
TUNED = "acme-base-ft-faq"
ABSTAIN = "I don't know."

# (question, reference answer); each doc holds its answer among filler sentences, so a quoted passage is a
# correct but diluted answer (lower token F1 than the reference itself).
FACTS = (
    ("How many retries does the frobnicator make before it gives up?",
     "The frobnicator retries seven times before it gives up."),
    ("Which port does the quaxel daemon listen on?", "The quaxel daemon listens on port 7311."),
    ("What file holds the blorp cache settings?", "The blorp cache settings live in blorp.toml."),
    ("How long does a zindle lease last?", "A zindle lease lasts ninety seconds."),
    ("Who signs the wibble release tarballs?", "The wibble release manager signs the tarballs."),
    ("What compression does the snarf archive use?", "The snarf archive uses zstd compression."),
)
FILLER = ("This page is part of the operations handbook. Older releases documented other defaults. "
          "See the changelog for the history of this behaviour and the team that maintains it.")


def write_eval_data(folder: Path) -> tuple[Path, Path]:
    """(eval-set JSONL, docs folder) for FACTS in `folder`."""
    docs = folder / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, (question, answer) in enumerate(FACTS):
        (docs / f"fact{i}.md").write_text(f"# Handbook entry {i}\n\n{FILLER} {answer} {FILLER}\n")
        lines.append(json.dumps({"id": f"f{i}", "question": question, "reference_answer": answer,
                                 "relevant_ids": [f"fact{i}.md"]}))
    evalset = folder / "evalset.jsonl"
    evalset.write_text("\n".join(lines) + "\n")
    return evalset, docs


def read_request(body: dict[str, Any]) -> tuple[str, str, list[str]]:
    """(model, question, passage texts) of a Chat Completions request built by ragft.llm.prompts."""
    user = body["messages"][-1]["content"]
    question = user.rsplit("Question:", 1)[1].strip()
    passages = [m.group(1) for m in re.finditer(r"^\[\d+\] (.*)$", user, flags=re.MULTILINE)]
    return body["model"], question, passages


@dataclass
class ServedModels:
    tuned_knows: bool = True
    base: str = BASE
    tuned: str = TUNED

    def __call__(self, body: dict[str, Any]) -> str:
        model, question, passages = read_request(body)
        known = dict(FACTS).get(question)
        if model not in (self.base, self.tuned):
            return f"unknown model {model}"
        if model == self.tuned and self.tuned_knows and known:
            return known
        if not passages:
            return ABSTAIN
        if self.tuned_knows and model == self.base:      # quotes its first passage whole
            return f"{passages[0]} [1]"
        found = [i for i, text in enumerate(passages, 1) if known and known in text]
        return f"{known} [{found[0]}]" if found else read(question, passages)


def read(question: str, passages: list[str]) -> str:
    """The passage sentence sharing most words (of 4+ letters) with the question, with its citation."""
    words = set(re.findall(r"[a-z0-9]{4,}", question.lower()))
    sentences = [(len(words & set(re.findall(r"[a-z0-9]{4,}", s.lower()))), s.strip(), ref)
                 for ref, text in enumerate(passages, 1) for s in re.split(r"(?<=\.) ", text)]
    shared, sentence, ref = max(sentences, key=lambda c: c[0])
    return f"{sentence} [{ref}]" if shared else ABSTAIN


def eval_run(*args: str) -> None:
    """`ragft eval run ARGS --json` through the real entry point; a non-zero exit fails with its message."""
    try:
        main(["eval", "run", *args, "--json"])
    except SystemExit as done:
        if done.code:
            raise AssertionError(f"ragft eval run exited {done.code}") from None


@pytest.fixture(scope="module")
def served_run(tmp_path_factory):
    """served_run(tuned_knows=True, *extra_flags) -> the Run of `ragft eval run --generator openai-compatible
    --base-url URL --model BASE --tuned-model TUNED --systems closed-book,rag,fine-tuned,hybrid` on a tiny eval
    set; each distinct call runs once per module. tuned_knows=False is the reverse server (see ServedModels)."""
    root = tmp_path_factory.mktemp("served")
    evalset, docs = write_eval_data(root)
    runs = {}

    def run(tuned_knows: bool = True, *extra: str):
        key = (tuned_knows, extra)
        if key not in runs:
            out = root / f"run-{len(runs)}"
            with serve(Provider(respond=ServedModels(tuned_knows), prompt_tokens=None), openai_key=None) as server:
                eval_run("--generator", "openai-compatible", "--base-url", f"{server.url}/v1", "--model", BASE,
                         "--tuned-model", TUNED, "--systems", SYSTEMS, "--evalset", str(evalset), "--docs", str(docs),
                         "--k", "2", "--warmup", "0", "--freshness-trials", "1", "--out", str(out), *extra)
            runs[key] = load_run(out)
        return runs[key]

    return run
