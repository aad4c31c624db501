"""Where `ragft finetune retriever` gets its (query, positive chunk) pairs, one source each:

- evalset: each question of an eval set (or a bench) with the chunks of its relevant documents (or the chunk
  it names by id), up to MAX_POSITIVES per question, taken from one split (default train) so the held-out
  questions stay out of training.
- generator: questions drafted from sampled chunks by a generator, with the filters of `ragft eval make`
  (`testset`: parse, supported, standalone, not answerable from the question, not a duplicate).
- documents: no generator, no questions. Headings and definition lists give a question for the chunk holding
  the section (`structured`; a question asked of more than one document is dropped), then the inverse cloze
  task (`ragft.finetune.retriever_pairs.inverse_cloze`) gives up to `per_chunk` pairs per chunk.

Every source also returns the corpus chunks: the pool hard negatives are mined from."""
from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ragft.errors import InputError
from ragft.finetune.retriever_pairs import Pair, PairSet, inverse_cloze, pairs_from_evalset
from ragft.rag.document import Chunk

SOURCES = ("evalset", "generator", "documents")


def corpus(docs: Path | str, max_tokens: int = 200, overlap: int = 32) -> list[Chunk]:
    """The corpus cut into chunks as `ragft index` cuts it; a folder with no text is an error."""
    from ragft.evaluate.testset import corpus_chunks

    folder = Path(docs)
    if not folder.exists():
        raise InputError(f"{folder}: no such documents folder (--docs)")
    chunks = corpus_chunks(folder, max_tokens=max_tokens, overlap=overlap)
    if not chunks:
        raise InputError(f"{folder}: no documents with text to train on (--docs)")
    return chunks


# --- (a) an eval set --------------------------------------------------------------------------------------

def evalset_pairs(evalset: Path | str, docs: Path | str, split: str = "train", seed: int = 0,
                  fractions: tuple[float, float, float] = (0.6, 0.2, 0.2)) -> PairSet:
    """Pairs from one split of an eval set file (`split="all"` for every question) over the corpus `docs`."""
    from ragft.evaluate.evalset import load_evalset

    path = Path(evalset)
    if not path.is_file():
        raise InputError(f"{path}: no such eval set (--evalset)")
    items = _split_items(load_evalset(path), split, seed, fractions)
    found = pairs_from_evalset(items, corpus(docs), str(path))
    found.details.update(evalset=str(path), split=split, split_seed=seed, split_fractions=list(fractions))
    return found


def bench_pairs(name: str, split: str = "train", seed: int = 0, source_dir: Path | str | None = None,
                cache_dir: Path | str | None = None, distractors: int | None = None) -> PairSet:
    """Pairs from one split of a built-in bench (its questions over its own corpus)."""
    from ragft.evaluate.benches import DEFAULT_DISTRACTORS, load_bench

    bench = load_bench(name, cache_dir=cache_dir, source_dir=source_dir,
                       distractors=DEFAULT_DISTRACTORS if distractors is None else distractors)
    items = _split_items(bench.questions, split, seed, (0.6, 0.2, 0.2))
    found = pairs_from_evalset(items, corpus(bench.corpus_dir), f"bench {name}")
    found.details.update(bench=name, split=split, split_seed=seed, distractors=bench.distractors)
    return found


def _split_items(items: Sequence[Any], split: str, seed: int, fractions: tuple[float, float, float]) -> list[Any]:
    from ragft.evaluate.splits import split as split_items

    if split == "all":
        return list(items)
    if split not in ("train", "validation", "test"):
        raise InputError(f"--split {split}: choose train, validation, test or all")
    return list(getattr(split_items(items, *fractions, seed=seed), split))


# --- (b) a generator -------------------------------------------------------------------------------------

def generator_pairs(docs: Path | str, generator: str, n: int = 500, model: str | None = None,
                    base_url: str | None = None, seed: int = 0,
                    on_progress: Callable[[int, int], None] | None = None) -> PairSet:
    """Questions drafted by `generator` from up to `n` sampled chunks (what `ragft eval make` asks), kept
    when they pass its filters, each paired with the chunk it was drafted from."""
    from ragft.evaluate.testset import apply_filters, generate_drafts, generator_options, sample_chunks
    from ragft.llm.base import create_generator

    chunks = corpus(docs)
    picked = sample_chunks(chunks, n, seed)
    if not picked:
        raise InputError(f"{docs}: no chunk long enough to draft a question from (--docs)")
    gen = create_generator(generator, **generator_options(generator, model, base_url))
    drafts, unparsed = generate_drafts(picked, gen, on_progress)
    kept, counts = apply_filters(drafts, unparsed)
    pairs = [Pair(draft.question, draft.chunk, f"generator:{generator}") for draft, _ in kept]
    return PairSet(pairs, chunks, "generator", {"generator": generator, "model": model, "sampled_chunks": len(picked),
                                               "filters": {c.name: [c.kept, c.dropped] for c in counts}})


# --- (c) the documents themselves ------------------------------------------------------------------------

def document_pairs(docs: Path | str, seed: int = 0, max_pairs: int | None = None, per_chunk: int = 1) -> PairSet:
    """Self-supervised pairs: heading/definition questions, then up to `per_chunk` inverse-cloze sentences per
    chunk (distinct sentences; pairs in a seeded order); at most `max_pairs` in all."""
    from ragft.evaluate.structured import structured_drafts

    if per_chunk < 1:
        raise InputError(f"--per-chunk {per_chunk}: take at least one sentence per chunk")
    chunks = corpus(docs)
    drafts = structured_drafts(docs, chunks)
    docs_asked: dict[str, set[str]] = {}
    for draft in drafts:
        docs_asked.setdefault(draft.question, set()).add(draft.chunk.doc_id)
    # A heading shared by many documents (a page title over each of its entries) asks about none of them.
    structured = [Pair(d.question, d.chunk, d.origin) for d in drafts if len(docs_asked[d.question]) == 1]
    rng = random.Random(seed)
    cloze = [pair for chunk in chunks for pair in inverse_cloze(chunk, rng, per_chunk)]
    rng.shuffle(cloze)
    pairs = (structured + cloze)[:max_pairs] if max_pairs else structured + cloze
    return PairSet(pairs, chunks, "documents", {"structure_pairs": len(structured), "cloze_pairs": len(cloze),
                                                "per_chunk": per_chunk, "seed": seed})


# --- one entry point for the faces --------------------------------------------------------------------------

def collect_pairs(source: str, *, docs: Path | str | None = None, evalset: Path | str | None = None,
                  bench: str | None = None, bench_source: Path | str | None = None, split: str = "train",
                  split_seed: int = 0, generator: str | None = None, model: str | None = None,
                  base_url: str | None = None, n: int = 500, per_chunk: int = 1, max_pairs: int | None = None,
                  seed: int = 0, on_progress: Callable[[int, int], None] | None = None) -> PairSet:
    """The pairs of one source, checking that its inputs (and only its inputs) were given."""
    if source not in SOURCES:
        raise InputError(f"--pairs-from {source}: choose one of {', '.join(SOURCES)}")
    if source == "evalset":
        if bool(bench) == bool(evalset):
            raise InputError("--pairs-from evalset: give --evalset FILE with --docs DIR, or --bench NAME")
        if bench:
            return bench_pairs(bench, split=split, seed=split_seed, source_dir=bench_source)
        if docs is None:
            raise InputError("--pairs-from evalset: --docs DIR is missing (the corpus the eval set's ids point into)")
        return evalset_pairs(evalset, docs, split=split, seed=split_seed)
    if evalset or bench:
        raise InputError(f"--pairs-from {source}: --evalset and --bench are for --pairs-from evalset")
    if docs is None:
        raise InputError(f"--pairs-from {source}: --docs DIR is missing (the documents to train on)")
    if source == "generator":
        if not generator or generator == "none":
            raise InputError("--pairs-from generator: --generator NAME is missing (local, openai, "
                             "openai-compatible, ...); without one use --pairs-from documents")
        return generator_pairs(docs, generator, n=n, model=model, base_url=base_url, seed=seed,
                               on_progress=on_progress)
    if generator:
        raise InputError("--pairs-from documents: takes no --generator (use --pairs-from generator)")
    return document_pairs(docs, seed=seed, max_pairs=max_pairs, per_chunk=per_chunk)
