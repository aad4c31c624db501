"""The questions of an eval run: an eval set (with its corpus folders) or built-in benches, the split and the
seeded sample of `limit`, their sha256s for resume, and the check that the gold ids point into the index."""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ragft.errors import InputError, NotFoundError
from ragft.evaluate.config import EvalConfig
from ragft.evaluate.evalset import EvalItem, load_evalset
from ragft.files import corpus_sha256


@dataclass
class Questions:
    items: list[EvalItem]
    corpus_dirs: list[Path]
    origin: str                   # shown in messages: the eval-set file or the bench names
    evalset_sha256: str
    corpus_sha256: str
    provenance: dict[str, Any]
    bench_names: list[str] = field(default_factory=list)   # set for built-in benches: their corpora get copied


def load_questions(config: EvalConfig) -> Questions:
    """The eval items (bench or eval set), then the split and a seeded sample of `limit`, in original order."""
    if config.bench:
        questions = bench_questions(config.bench, config.bench_cache, config.bench_source, config.distractors)
    else:
        path = Path(config.evalset)
        docs = corpus_folders([Path(d) for d in config.docs])
        questions = Questions(load_evalset(path), docs, str(path), _sha256_bytes(path.read_bytes()),
                              corpus_sha256(docs), {"evalset": str(path.resolve())})
    items = questions.items
    if config.split != "all":
        from ragft.evaluate.splits import split

        parts = split(items, *config.split_fractions, seed=config.seed)
        items = getattr(parts, config.split)
    if config.limit is not None and config.limit < len(items):
        picked = np.sort(np.random.default_rng(config.seed).permutation(len(items))[:config.limit])
        items = [items[i] for i in picked]
    if not items:
        raise InputError(f"{questions.origin}: no questions left after split={config.split} and limit")
    questions.items = items
    return questions


def corpus_folders(docs: Sequence[str | Path]) -> list[Path]:
    """The --docs folders of an eval set as paths; refuses one that does not exist."""
    for folder in docs:
        if not Path(folder).exists():
            raise NotFoundError(f"--docs {folder}: no such folder; give the corpus the eval set points into")
    return [Path(folder) for folder in docs]


def bench_questions(names: Sequence[str], cache_dir: str | Path | None = None, source_dir: str | Path | None = None,
                    distractors: int | None = None) -> Questions:
    """The questions of the built-in benches `names` with their corpus folders (ids prefixed `name:` when several);
    `distractors` None: the benches' default."""
    from ragft.evaluate.benches import DEFAULT_DISTRACTORS, load_bench

    if distractors is None:
        distractors = DEFAULT_DISTRACTORS

    items, dirs, hashes, provenance = [], [], [], {}
    for name in names:
        bench = load_bench(name, cache_dir=cache_dir, source_dir=source_dir, distractors=distractors)
        prefix = f"{name}:" if len(names) > 1 else ""
        items += [item.model_copy(update={"id": prefix + item.id}) for item in bench.questions]
        dirs.append(bench.corpus_dir)
        hashes.append(bench.source.tree_sha256)
        provenance[name] = {"package": bench.source.package, "version": bench.source.version,
                            "deb_sha256": bench.source.deb_sha256, "tree_sha256": bench.source.tree_sha256,
                            "documents": bench.documents, "distractors": bench.distractors}
    text = "".join(item.model_dump_json() + "\n" for item in items)
    return Questions(items, dirs, ", ".join(names), _sha256_bytes(text.encode()),
                     _sha256_bytes("".join(hashes).encode()), provenance, list(names))


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_relevant_ids(items: Sequence[EvalItem], origin: str, index) -> None:
    """Refuse an eval set (`items`, read from `origin`) whose gold ids match nothing in the index: it was built
    from another corpus."""
    gold = sorted({rid for item in items for rid in item.relevant_ids})
    if not gold:
        return
    documents = set(index.catalog.documents)
    if not any(_matches(rid, documents) for rid in gold):
        raise InputError(f"none of the {len(gold)} relevant_ids in {origin} match a document in the "
                         f"index at {index.path}: were they built from another corpus?")


def _matches(rid: str, documents: set[str]) -> bool:
    return rid in documents or rid.split("#", 1)[0] in documents
