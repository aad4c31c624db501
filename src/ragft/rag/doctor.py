"""`doctor`: check that an index folder is consistent (store rows, meta, BM25, vectors) and repair what is not.

Checks: chunk ids unique; every stored chunk belongs to a document in meta and every document in meta has the
chunks meta says; sources point at known documents; vectors finite, unit length and of the recorded dimension;
the persisted BM25 (when current) holds exactly the stored chunk ids. Repair drops what is inconsistent and
re-syncs the affected source files, under the index write lock.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ragft.errors import NoIndexError
from ragft.rag.catalog import Catalog

NORM_TOLERANCE = 1e-3


@dataclass(frozen=True)
class Problem:
    kind: str                     # duplicate_chunks, orphan_chunks, missing_chunks, chunk_count, bad_vectors, ...
    detail: str                   # one line for people
    doc_ids: tuple[str, ...] = ()


@dataclass
class DoctorReport:
    path: str
    figures: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)

    @property
    def consistent(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "consistent": self.consistent, "figures": self.figures,
                "problems": [asdict(p) for p in self.problems], "notes": self.notes, "repaired": self.repaired}


@dataclass
class _Rows:
    ids: list[str]
    doc_ids: list[str]
    vectors: np.ndarray | None     # None when the store cannot hand vectors back


def check(path: str | Path, store: str | None = None) -> DoctorReport:
    """Check the index at `path` (its store at `store`, default: the LanceDB in `path`) without changing it."""
    from ragft.rag.engine import _catalog
    from ragft.rag.lock import holder
    from ragft.rag.stores import open_store

    path = Path(path)
    report = DoctorReport(str(path))
    opened = open_store(store or str(path))
    meta = opened.read_meta()
    if not meta:
        raise NoIndexError(str(path))
    catalog = _catalog(meta, path)
    writer = holder(path)
    if writer:
        report.notes.append(f"pid {writer} is writing this index now; figures may be mid-change")
    rows = _rows(opened)
    _check_rows(rows, catalog, report)
    _check_meta(catalog, report)
    _check_bm25(path, catalog, rows, report)
    return report


def repair(path: str | Path, store: str | None = None, embedder: str | None = None,
           progress: bool = False) -> DoctorReport:
    """Fix what `check` finds: drop inconsistent documents from store, meta and BM25, then re-sync their
    source files (documents added without a file are dropped and listed). Returns the check after repair."""
    from ragft.rag.engine import Index
    from ragft.rag.lock import write_lock

    path = Path(path)
    with write_lock(path):
        before = check(path, store)
        if before.consistent:
            return before
        with Index.open(path, embedder=embedder, create=False, store=store) as index:
            doomed = sorted({d for p in before.problems for d in p.doc_ids})
            sources = _sources_of(index.catalog, doomed, index.store)
            actions = [f"dropped {len(doomed)} document(s): {_sample(doomed)}"] if doomed else []
            index._delete_documents(doomed)
            for key in sources:
                index.catalog.forget_source(key)
            index._commit_meta()
            if any(p.kind == "bm25" for p in before.problems):
                _rebuild_bm25(index)
                actions.append("rebuilt BM25 from the store")
            index._save_bm25_if_dirty()
            _resync(index, sources, progress)
            back = sorted(key for key in sources if key in index.catalog.sources)
            if back:
                actions.append(f"re-synced {len(back)} source file(s)")
            gone = sorted(set(sources) - set(back))
            if gone:
                actions.append(f"{len(gone)} without a known file stay dropped (run `ragft index` on their folder "
                               f"to add them again): {_sample(gone)}")
    after = check(path, store)
    after.repaired = actions
    return after


# ---- reading the store ---------------------------------------------------------------------------------


def _rows(store) -> _Rows:
    table = getattr(store, "_table", None)
    if table is not None:                       # the embedded LanceDB: read raw rows, duplicates included
        arrow = table.to_arrow()
        dim = arrow.schema.field("vector").type.list_size
        flat = arrow.column("vector").combine_chunks().flatten().to_numpy(zero_copy_only=False)
        return _Rows(arrow.column("id").to_pylist(), arrow.column("doc_id").to_pylist(),
                     flat.astype(np.float32, copy=False).reshape(arrow.num_rows, dim))
    chunks = list(store.chunks())
    return _Rows([c.id for c in chunks], [c.doc_id for c in chunks], None)


def _check_rows(rows: _Rows, catalog: Catalog, report: DoctorReport) -> None:
    documents = catalog.documents
    report.figures.update(rows=len(rows.ids), chunks=len(set(rows.ids)), documents=len(documents),
                          sources=len(catalog.sources))
    id_counts = Counter(rows.ids)
    doubled = {cid for cid, n in id_counts.items() if n > 1}
    if doubled:
        docs = tuple(sorted({d for cid, d in zip(rows.ids, rows.doc_ids) if cid in doubled}))
        report.problems.append(Problem("duplicate_chunks", f"{len(doubled)} chunk id(s) stored more than once: "
                                       f"{_sample(sorted(doubled))}", docs))
    per_doc = Counter(doc for cid, doc in set(zip(rows.ids, rows.doc_ids)))
    orphans = tuple(sorted(set(per_doc) - set(documents)))
    if orphans:
        report.problems.append(Problem("orphan_chunks", f"{sum(per_doc[d] for d in orphans)} stored chunk(s) of "
                                       f"{len(orphans)} document(s) missing from meta: {_sample(orphans)}", orphans))
    missing = tuple(sorted(d for d, info in documents.items() if info.chunks and not per_doc.get(d)))
    if missing:
        report.problems.append(Problem("missing_chunks", f"{len(missing)} document(s) in meta have no stored "
                                       f"chunks: {_sample(missing)}", missing))
    miscounted = tuple(sorted(d for d, info in documents.items()
                              if per_doc.get(d) and per_doc[d] != info.chunks))
    if miscounted:
        report.problems.append(Problem("chunk_count", f"{len(miscounted)} document(s) whose stored chunk count "
                                       f"differs from meta: {_sample(miscounted)}", miscounted))
    if rows.vectors is not None:
        _check_vectors(rows, catalog, report)


def _check_vectors(rows: _Rows, catalog: Catalog, report: DoctorReport) -> None:
    vectors = rows.vectors
    if len(rows.ids) and vectors.shape[1] != catalog.dim:
        report.problems.append(Problem("dimension", f"stored vectors have {vectors.shape[1]} dimensions, meta "
                                       f"says {catalog.dim}; rebuild with --rebuild", tuple(sorted(set(rows.doc_ids)))))
        return
    finite = np.isfinite(vectors).all(axis=1)
    norms = np.linalg.norm(np.where(finite[:, None], vectors, 0), axis=1)
    bad = ~finite | (np.abs(norms - 1.0) > NORM_TOLERANCE)
    if bad.any():
        docs = tuple(sorted({rows.doc_ids[i] for i in np.flatnonzero(bad)}))
        report.problems.append(Problem("bad_vectors", f"{int(bad.sum())} vector(s) not finite or not unit length "
                                       f"in {len(docs)} document(s): {_sample(docs)}", docs))


def _check_meta(catalog: Catalog, report: DoctorReport) -> None:
    dangling = sorted(key for key, source in catalog.sources.items()
                      if any(d not in catalog.documents for d in source.doc_ids))
    if dangling:
        report.problems.append(Problem("sources", f"{len(dangling)} source(s) list documents missing from meta: "
                                       f"{_sample(dangling)}", tuple(dangling)))


def _check_bm25(path: Path, catalog: Catalog, rows: _Rows, report: DoctorReport) -> None:
    from ragft.rag.bm25 import BM25Index
    from ragft.rag.engine import BM25_FILE

    saved = BM25Index.load(path / BM25_FILE, catalog.stamp)
    if saved is None:
        report.notes.append("BM25 file missing or older than the store: rebuilt from the store at next open")
        return
    report.figures["bm25_chunks"] = len(saved)
    stored = set(rows.ids)
    if set(saved._row_of) != stored:
        extra, lacking = len(set(saved._row_of) - stored), len(stored - set(saved._row_of))
        report.problems.append(Problem("bm25", f"BM25 file is stamped current but holds {extra} chunk(s) not in "
                                       f"the store and lacks {lacking}"))


# ---- repairing --------------------------------------------------------------------------------------------


def _sources_of(catalog: Catalog, doc_ids: list[str], store) -> dict[str, str | None]:
    """The sources to re-sync, by key, with their file's path (None: unknown): those listing a doomed document,
    and for orphans (chunks written by a sync killed before its meta write) the file named in their chunks'
    `source`."""
    wanted = set(doc_ids)
    found = {key: source.path for key, source in catalog.sources.items() if wanted & set(source.doc_ids)}
    orphans = wanted - set(catalog.documents)
    for chunk in store.get(_chunk_ids(store, sorted(orphans))):
        key, where = chunk.doc_id.split("#", 1)[0], chunk.metadata.get("source")
        if key not in found and where and Path(where).is_file():
            found[key] = str(Path(where).resolve())
    for doc_id in orphans:
        found.setdefault(doc_id.split("#", 1)[0], None)
    return found


def _chunk_ids(store, doc_ids: list[str]) -> list[str]:
    return store.chunk_ids(doc_ids)


def _resync(index, sources: dict[str, str | None], progress: bool) -> None:
    by_root: dict[Path, list[Path]] = {}
    for key, path in sources.items():
        where = Path(path) if path else None
        if where is None or not where.is_file():
            continue
        root = Path(*where.parts[: len(where.parts) - len(Path(key).parts)])
        by_root.setdefault(root, []).append(where)
    for root, files in by_root.items():
        index.sync(files, root=root, progress=progress)


def _rebuild_bm25(index) -> None:
    from ragft.rag.bm25 import BM25Index
    from ragft.rag.engine import _bm25_text

    chunks = list(index.store.chunks())
    index.bm25 = BM25Index.build([c.id for c in chunks], [_bm25_text(c) for c in chunks])
    index._bm25_dirty = True


def _sample(items, n: int = 3) -> str:
    items = list(items)
    shown = ", ".join(items[:n])
    return shown + (f" (+{len(items) - n} more)" if len(items) > n else "")
