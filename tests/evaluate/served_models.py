"""A base model and its fine-tune served side by side by one local OpenAI-compatible server (the chat server
of tests/llm/conftest.py), each answering from what the request holds: the question and the numbered passages.

`ServedModels(tuned_knows=True)`: the tuned model answers every known question correctly, with or without
passages; the base model only quotes the first passage it is given, and says "I don't know" closed-book.
`ServedModels(tuned_knows=False)`, the reverse: the base model reads the passages and answers correctly; the
tuned model has learned nothing useful ("I don't know" closed-book), and reads passages as the base does.

`write_eval_data(folder)` writes the eval set and the docs they are answered from (no bench download)."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
        if model == self.tuned and self.tuned_knows:
            return known or ABSTAIN
        if not passages:
            return ABSTAIN
        if self.tuned_knows:            # the base model: quotes its first passage, [1]
            return f"{passages[0]} [1]"
        found = [i for i, text in enumerate(passages, 1) if known and known in text]
        return f"{known} [{found[0]}]" if found else ABSTAIN
