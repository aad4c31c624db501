"""Freshness, measured: seconds from adding a document with a new fact to a retrieving system answering
from it (the answer cites it, or states the new fact with the document retrieved); every retrieving system
runs its own trials, as each reads the index with its own generator. A fine-tuned model's freshness is its
measured retraining time (summary.measured_rows)."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass

import numpy as np

from ragft.rag.document import Document

_NOUNS = ("zorblax", "quintaflux", "morvane", "plexidor", "venturix", "kallisto", "drummelin", "oxbrindle")
_VERBS = ("rotates", "serialises", "compresses", "validates", "caches", "indexes", "encrypts", "throttles")


@dataclass(frozen=True)
class FreshnessTrial:
    doc_id: str
    question: str
    seconds: float           # Index.add + ask, end to end
    add_seconds: float
    cited: bool              # the answer cites the new document
    fact_in_answer: bool     # the new fact's number appears in the answer
    retrieved: bool = False  # the new document was among the passages the system read


def new_fact(trial: int, rng: np.random.Generator) -> tuple[Document, str, str]:
    """A document stating a made-up fact no corpus holds, the question it answers, and the fact's number."""
    noun = f"{_NOUNS[trial % len(_NOUNS)]}{int(rng.integers(1000, 9999))}"
    verb = _VERBS[int(rng.integers(len(_VERBS)))]
    count = str(int(rng.integers(2, 99)))
    text = (f"# The {noun} module\n\nThe {noun} module {verb} at most {count} records per call. "
            f"Configure {noun} through its settings file.\n")
    doc = Document(id=f"ragft-freshness/{noun}.md", text=text, title=f"The {noun} module",
                   source=f"ragft-freshness/{noun}.md")
    return doc, f"How many records does the {noun} module handle per call?", count


def measure_freshness(system, trials: int, seed: int = 0) -> list[FreshnessTrial]:
    """Add a new fact, ask the system about it, check the citation, remove the document again (so the run's
    index is left as it was). `system` is a retrieving system (rag or hybrid) with `.index` and `.ask`."""
    rng = np.random.default_rng(seed)
    results = []
    for trial in range(trials):
        doc, question, number = new_fact(trial, rng)
        start = time.perf_counter()
        system.index.add([doc])
        added = time.perf_counter()
        try:
            answer = system.ask(question, seed)
            done = time.perf_counter()
        finally:
            system.index.remove([doc.id])
        stated = re.search(rf"\b{number}\b", answer.answer) is not None
        results.append(FreshnessTrial(doc.id, question, done - start, added - start, doc.id in answer.cited_doc_ids,
                                      stated, any(c.doc_id == doc.id for c in answer.contexts)))
    return results
