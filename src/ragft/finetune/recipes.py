"""Training-data recipes: turn Q/A facts into training examples (`qa`, `paraphrase`, `raft`), and get facts
from documents (offline from Q/A-shaped corpora, or with an LLM generator per chunk).

- qa: one example per fact, unchanged.
- paraphrase (Ovadia et al. 2023, "Fine-tuning or retrieval?": knowledge sticks better when each fact is
  seen in several wordings): `n` variants per fact. Offline the variants are TEMPLATE rewordings of the
  question (fixed framings such as "Could you tell me: ..."), labelled `paraphrase:template`; they vary the
  surface form but are not true paraphrases. With a generator the model rewrites the question
  (`paraphrase:llm`). The answer is kept as is. All variants share the fact's group, so splits keep them
  together.
- raft (Zhang et al. 2024, "RAFT"): each example shows numbered passages (the gold passage plus
  `distractors` passages retrieved for the question that are not the gold passage) in seeded random
  order; a fraction `p_no_gold` (default 0.2) of examples omit the gold passage so the model also learns
  the answer itself. Completion format: `<answer> [n]`, n = the gold passage's number, the same citation
  style ragft's RAG prompt asks for; without the gold passage the completion is the bare answer.
"""
from __future__ import annotations

import random
import re
from dataclasses import replace
from typing import Any, Callable, Iterable, Protocol, Sequence

from ragft.errors import InputError
from ragft.finetune.dataset import Example
from ragft.registry import Registry
from ragft.text import word_key

RECIPES: Registry[Callable[..., list[Example]]] = Registry("recipe")   # name -> recipe function

TEMPLATES: tuple[str, ...] = (
    "{q}",
    "Could you tell me: {q}",
    "I have a question. {q}",
    "{q} Please answer briefly.",
    "Quick question: {q}",
    "Here is what I would like to know: {q}",
)


class Retriever(Protocol):
    """Anything with `search(query, k)` returning hits with `.chunk.text` and `.chunk.doc_id` (ragft.Index)."""

    def search(self, query: str, k: int) -> Sequence[Any]: ...


def _fact_group(example: Example) -> str:
    return example.group or word_key(example.prompt)


def qa(facts: Sequence[Example], **_: Any) -> list[Example]:
    return [replace(f, group=_fact_group(f), recipe="qa") for f in facts]


def paraphrase(facts: Sequence[Example], *, n: int = 3, generator: Any = None, seed: int = 0,
               **_: Any) -> list[Example]:
    if not 1 <= n <= len(TEMPLATES) and generator is None:
        raise InputError(f"--paraphrases {n}: offline templates allow 1..{len(TEMPLATES)}; "
                         "configure a --generator for more")
    out: list[Example] = []
    for fact in facts:
        group = _fact_group(fact)
        if generator is not None:
            wordings, label = [fact.prompt] + llm_rewordings(generator, fact.prompt, n - 1, seed), "llm"
        else:
            wordings, label = [t.format(q=fact.prompt.strip()) for t in TEMPLATES[:n]], "template"
        out += [replace(fact, prompt=w, group=group, recipe=f"paraphrase:{label}") for w in wordings]
    return out


def llm_rewordings(generator: Any, question: str, n: int, seed: int = 0) -> list[str]:
    """Ask a generator for `n` rewordings of `question`, one per line; keep distinct, non-empty ones."""
    from ragft.llm.base import GenerationRequest

    request = GenerationRequest(
        question=f"Rewrite this question in {n} different ways, one per line, keeping its meaning. "
                 f"Do not answer it.\n\n{question}",
        system="You rewrite questions. Output only the rewritten questions, one per line.",
        max_tokens=60 * n, seed=seed)
    lines = [re.sub(r"^\s*(?:\d+[.)]|[-*])\s*", "", line).strip()
             for line in generator.generate(request).text.splitlines()]
    seen = {word_key(question)}
    kept = []
    for line in lines:
        if line and word_key(line) not in seen:
            seen.add(word_key(line))
            kept.append(line)
    return kept[:n]


def raft(facts: Sequence[Example], *, retriever: Retriever | None = None, distractors: int = 2,
         p_no_gold: float = 0.2, seed: int = 0, passage_words: int = 120, **_: Any) -> list[Example]:
    if retriever is None:
        raise InputError("recipe 'raft' needs a retriever for distractor passages; pass --index PATH")
    if not 0.0 <= p_no_gold <= 1.0:
        raise InputError(f"--p-no-gold {p_no_gold}: must be between 0 and 1")
    rng = random.Random(seed)
    out = []
    for fact in facts:
        gold = gold_passage(fact, retriever)
        others = distractor_passages(fact, gold, retriever, distractors)
        keep_gold = rng.random() >= p_no_gold
        passages = ([gold] if keep_gold else []) + others
        rng.shuffle(passages)
        completion = fact.completion.strip()
        if keep_gold:
            completion = f"{completion} [{passages.index(gold) + 1}]"
        out.append(replace(fact, completion=completion, group=_fact_group(fact), recipe="raft",
                           context=gold, passages=tuple(_clip(p, passage_words) for p in passages)))
    return out


def gold_passage(fact: Example, retriever: Retriever) -> str:
    """The fact's own passage: given (`context`), else the best hit from its document, else its answer."""
    if fact.context:
        return fact.context
    if fact.doc_id:
        for hit in retriever.search(fact.prompt, k=10):
            if hit.chunk.doc_id == fact.doc_id:
                return hit.chunk.text
    return fact.completion


def distractor_passages(fact: Example, gold: str, retriever: Retriever, count: int) -> list[str]:
    """Retrieved passages for the question that are not the gold passage (nor overlap it by half)."""
    picked: list[str] = []
    for hit in retriever.search(fact.prompt, k=count + 10):
        text = hit.chunk.text
        if _overlaps(text, gold) or text in picked:
            continue
        picked.append(text)
        if len(picked) == count:
            break
    return picked


def _overlaps(text: str, gold: str, threshold: float = 0.5) -> bool:
    a, b = set(word_key(text).split()), set(word_key(gold).split())
    return bool(a and b) and len(a & b) / len(a | b) >= threshold


def _clip(text: str, words: int) -> str:
    parts = text.split()
    return " ".join(parts[:words]) + (" ..." if len(parts) > words else "")


for _name, _recipe in (("qa", qa), ("paraphrase", paraphrase), ("raft", raft)):
    RECIPES.register(_name)(lambda recipe=_recipe: recipe)


def build(recipe: str, facts: Sequence[Example], **options: Any) -> list[Example]:
    """Run the recipe named `recipe` (qa, paraphrase, raft) over `facts`."""
    if not facts:
        raise InputError("no facts to build training examples from")
    return RECIPES.create(recipe)(facts, **options)


# ---------------------------------------------------------------- facts from documents

def facts_from_items(items: Iterable[Any], source: str) -> list[Example]:
    """Eval-set items (question, reference_answer, relevant_ids, id) as facts, the gold document as doc_id."""
    return [Example(prompt=item.question, completion=item.reference_answer,
                    doc_id=item.relevant_ids[0] if item.relevant_ids else "", group=item.id,
                    source=source) for item in items]


def facts_from_corpus(corpus_dir: str) -> list[Example]:
    """Offline: Q/A pairs from a corpus already shaped as questions (`ragft.qa`: FAQ headings, Q/A JSONL)."""
    from ragft.qa.pairs import read_qa_pairs

    return [Example(prompt=pair.question, completion=pair.answer, doc_id=pair.doc_id, group=pair.id,
                    source=corpus_dir) for pair in read_qa_pairs(corpus_dir)]


_QA_LINE = re.compile(r"^\s*(Q|A)\s*[:.]\s*(.+)$", re.IGNORECASE)


def facts_from_chunks(chunks: Iterable[Any], generator: Any, per_chunk: int = 2) -> list[Example]:
    """With an LLM: ask `generator` for `per_chunk` Q/A pairs about each chunk ("Q: ..." / "A: ..." lines)."""
    from ragft.llm.base import GenerationRequest, Passage

    facts = []
    for chunk in chunks:
        request = GenerationRequest(
            question=f"Write {per_chunk} question and answer pairs that the passage answers. Format each "
                     "pair as two lines: 'Q: <question>' then 'A: <answer>'.",
            passages=(Passage(ref=1, chunk_id=chunk.id, text=chunk.text, title=chunk.title),),
            system="You write exam questions answered by the given passage, with short exact answers.",
            max_tokens=120 * per_chunk)
        facts += [Example(prompt=q, completion=a, context=chunk.text, doc_id=chunk.doc_id,
                          source=f"llm:{getattr(generator, 'name', 'generator')}")
                  for q, a in parse_qa_pairs(generator.generate(request).text)[:per_chunk]]
    return facts


def parse_qa_pairs(text: str) -> list[tuple[str, str]]:
    pairs, question = [], None
    for line in text.splitlines():
        match = _QA_LINE.match(line)
        if not match:
            continue
        kind, body = match.group(1).upper(), match.group(2).strip()
        if kind == "Q":
            question = body
        elif question:
            pairs.append((question, re.sub(r"\s*\[\d+\]\s*$", "", body)))
            question = None
    return pairs
