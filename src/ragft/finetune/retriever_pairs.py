"""Training pairs of `ragft finetune retriever`: a query with its positive chunk, and the recipes that need no
other layer: an eval set's questions with the chunks their relevant ids name, and the inverse cloze task.

The inverse cloze task (Lee et al., 2019): one sentence of 6-40 words drawn (seeded) from a chunk of 3+
sentences is the query, the chunk with that sentence removed is the positive, so the model must match a sentence
to its context rather than to its own words. Reading eval sets, benches, drafted questions and headings is
`ragft.evaluate.training_pairs`."""
from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ragft.errors import InputError
from ragft.rag.document import Chunk
from ragft.rag.embedders.tuned import PairsSource

MAX_POSITIVES = 3              # chunks of one relevant document paired with its question
SENTENCE_WORDS = (6, 40)       # inverse cloze: query sentences of this many words
MIN_SENTENCES = 3              # inverse cloze: the chunk keeps at least two sentences of context
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(`])")


@dataclass(frozen=True)
class Pair:
    query: str
    positive: Chunk                 # its text is what the model reads as the positive passage
    origin: str                     # "evalset", "generator:<name>", "structure:heading", "inverse-cloze", ...


@dataclass
class PairSet:
    pairs: list[Pair]
    chunks: list[Chunk]             # the corpus: where hard negatives come from
    source: PairsSource
    details: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        origins: dict[str, int] = {}
        for pair in self.pairs:
            origins[pair.origin] = origins.get(pair.origin, 0) + 1
        return {"pairs": len(self.pairs), "chunks": len(self.chunks),
                "queries": len({p.query for p in self.pairs}), **{f"origin:{k}": v for k, v in origins.items()}}


def data_sha256(pairs: Sequence[Pair], chunks: Sequence[Chunk]) -> str:
    """sha256 of the pairs (query, positive chunk id and text) and the negative pool's chunk ids, in order."""
    digest = hashlib.sha256()
    for pair in pairs:
        digest.update(json.dumps([pair.query, pair.positive.id, pair.positive.text]).encode() + b"\n")
    digest.update(json.dumps([c.id for c in chunks]).encode())
    return digest.hexdigest()


def pairs_from_evalset(items: Sequence[Any], chunks: Sequence[Chunk], where: str = "eval set") -> PairSet:
    """Each item's question paired with the chunks its relevant_ids name: a chunk id, a document id (its first
    MAX_POSITIVES chunks) or a JSONL record 'file.jsonl#3' under a document id. Items with no such chunk in
    the corpus are counted, not paired."""
    by_doc: dict[str, list[Chunk]] = {}
    by_id = {c.id: c for c in chunks}
    for chunk in chunks:
        by_doc.setdefault(chunk.doc_id, []).append(chunk)
    pairs, unmatched = [], 0
    for item in items:
        positives: list[Chunk] = []
        for wanted in item.relevant_ids:
            if wanted in by_id:
                positives.append(by_id[wanted])
            else:
                positives += [c for doc, held in by_doc.items() if doc == wanted or doc.startswith(wanted + "#")
                              for c in held]
        unique = list({c.id: c for c in positives}.values())[:MAX_POSITIVES]
        unmatched += not unique
        pairs += [Pair(item.question, chunk, "evalset") for chunk in unique]
    if not pairs:
        raise InputError(f"{where}: no question's relevant_ids name a document or chunk of the corpus; check that "
                         "--docs is the corpus the eval set was made from")
    return PairSet(pairs, list(chunks), "evalset", {"questions": len(items), "unmatched_questions": unmatched})


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(" ".join(text.split())) if s.strip()]


def inverse_cloze(chunk: Chunk, rng: random.Random, count: int = 1) -> list[Pair]:
    """Up to `count` pairs, each one sentence of the chunk as the query and the chunk without it as the
    positive; none when the chunk has fewer than MIN_SENTENCES sentences or none of SENTENCE_WORDS words."""
    parts = sentences(chunk.text)
    low, high = SENTENCE_WORDS
    usable = [i for i, s in enumerate(parts) if low <= len(s.split()) <= high]
    if len(parts) < MIN_SENTENCES or not usable:
        return []
    taken = rng.sample(usable, min(count, len(usable)))
    return [Pair(parts[i], replace(chunk, text=" ".join(s for j, s in enumerate(parts) if j != i)), "inverse-cloze")
            for i in sorted(taken)]
