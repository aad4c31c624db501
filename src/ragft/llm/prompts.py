"""The prompt templates: RAG (numbered passages, cite with [n]) and closed-book, for chat and base models."""
from __future__ import annotations

import re

from ragft.llm.base import GenerationRequest, Passage

RAG_SYSTEM = (
    "You answer questions using only the numbered passages provided. "
    "Cite every statement with the number of its passage in square brackets, like [1] or [2][3]. "
    "If the passages do not contain the answer, say \"I don't know\" and do not guess. "
    "Answer in a few sentences."
)

CLOSED_BOOK_SYSTEM = (
    "You answer questions from your own knowledge. "
    "If you are not sure of the answer, say \"I don't know\" and do not guess. "
    "Answer in a few sentences."
)

# Base (not instruction-tuned) models continue text, so they get a one-shot "Question:/Answer:" document
# and must stop where the next block would begin.
BASE_MODEL_STOPS: tuple[str, ...] = ("\n\n", "\nQuestion:", "Question:", "\nPassage", "<end_of_turn>", "<eos>")

_RAG_EXAMPLE = (
    "Passages:\n[1] The Amazon river flows through Brazil, Peru and Colombia.\n"
    "[2] The Nile is about 6,650 km long and flows into the Mediterranean Sea.\n\n"
    "Question: How long is the Nile?\n"
    "Answer: The Nile is about 6,650 km long [2].\n\n"
)
_CLOSED_BOOK_EXAMPLE = (
    "Question: What is the capital of France?\n"
    "Answer: The capital of France is Paris.\n\n"
)

_CITATION = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


def format_passages(passages: tuple[Passage, ...]) -> str:
    return "\n".join(_format_passage(p) for p in passages)


def _format_passage(passage: Passage) -> str:
    text = " ".join(passage.text.split())
    title = f"{passage.title}: " if passage.title else ""
    return f"[{passage.ref}] {title}{text}"


def system_prompt(request: GenerationRequest) -> str:
    if request.system is not None:
        return request.system
    return RAG_SYSTEM if request.passages else CLOSED_BOOK_SYSTEM


def user_message(request: GenerationRequest) -> str:
    """The user turn for chat models: passages (if any) then the question."""
    if not request.passages:
        return f"Question: {request.question}"
    return f"Passages:\n{format_passages(request.passages)}\n\nQuestion: {request.question}"


def completion_prompt(request: GenerationRequest) -> str:
    """A plain-text prompt for base models: instruction, one worked example, then the open 'Answer:'."""
    example = _RAG_EXAMPLE if request.passages else _CLOSED_BOOK_EXAMPLE
    return f"{system_prompt(request)}\n\n{example}{user_message(request)}\nAnswer:"


# Format `ragft-qa-v1` (recorded in every adapter manifest): `[system\n\n]` + the user turn of `user_message`
# ("Question: ..." or "Passages:\n[1] ...\n\nQuestion: ...") + `\nAnswer:`; the completion is ` <answer>`
# followed by the tokenizer's EOS. No one-shot example: the adapter has learned the format, so inference must
# use `tuned_prompt`, not the base-model prompt.
TUNED_FORMAT = "ragft-qa-v1"


def tuned_prompt(request: GenerationRequest) -> str:
    """The text a model fine-tuned by ragft (format ragft-qa-v1) expects: no worked example, the adapter
    learned the format; `[system]` + the user turn + an open 'Answer:'."""
    head = f"{request.system}\n\n" if request.system else ""
    return f"{head}{user_message(request)}\nAnswer:"


def training_request(question: str, passages: tuple[str, ...] = (), system: str | None = None) -> GenerationRequest:
    """A training example as a request: its passages numbered [1], [2], ... in order."""
    numbered = tuple(Passage(ref=i, chunk_id=f"p{i}", text=t) for i, t in enumerate(passages, 1))
    return GenerationRequest(question=question, passages=numbered, system=system)


def training_pair(request: GenerationRequest, completion: str) -> tuple[str, str]:
    """(prompt, completion) causal-LM texts in format ragft-qa-v1; the loss is computed on the completion only."""
    return tuned_prompt(request), " " + completion.strip()


# A ragft-trained adapter learned to end its answer with EOS, and answers may hold blank lines.
TUNED_STOPS: tuple[str, ...] = ("\nQuestion:", "\nPassage", "<end_of_turn>", "<eos>")

# Prompt formats (with their stop sequences) by the name an adapter manifest records;
# "completion-v1" is the base-model one-shot prompt.
PROMPT_FORMATS = {"completion-v1": completion_prompt, TUNED_FORMAT: tuned_prompt}
PROMPT_STOPS = {"completion-v1": BASE_MODEL_STOPS, TUNED_FORMAT: TUNED_STOPS}


def cited_refs(text: str, passages: tuple[Passage, ...]) -> list[int]:
    """Passage refs cited as [n] or [n, m] in `text`, in order of first appearance; unknown numbers dropped."""
    known = {p.ref for p in passages}
    refs: list[int] = []
    for group in _CITATION.findall(text):
        for number in group.split(","):
            ref = int(number)
            if ref in known and ref not in refs:
                refs.append(ref)
    return refs
