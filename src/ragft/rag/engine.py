"""`Index`: the RAG engine users call — sync folders, add/remove documents, search, ask with citations.

An index folder holds the store (LanceDB + meta.json), the persisted BM25 (`bm25.npz`), the embedding
cache and the answer cache. Every change bumps the index generation, which invalidates cached answers.
"""
from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from ragft.errors import IndexMismatchError, InputError, NoIndexError, RagftError
from ragft.files import sha256_stream
from ragft.rag.answer_cache import AnswerCache
from ragft.rag.bm25 import BM25Index
from ragft.rag.catalog import DEFAULT_K, Catalog, Chunking, SearchSettings
from ragft.rag.discovery import printable
from ragft.rag.document import Chunk, Document, Hit
from ragft.rag.lock import holder, write_lock, writes
from ragft.rag.progress import COMPACTING, INDEXING, ProgressCallback, reporter
from ragft.rag.search import MODES, SearchConfig, search

DEFAULT_INDEX = ".ragft/index"
DEFAULT_EMBEDDER = "minilm"
BM25_FILE = "bm25.npz"
ANSWER_CACHE_FILE = "answers.sqlite"
EMBEDDING_CACHE_FILE = "embeddings.sqlite"
# Wiped by rebuild; the embedding cache is kept: keyed by embedder name + text, it stays valid.
_OWNED = ("lance", "meta.json", BM25_FILE, ANSWER_CACHE_FILE)
_EMBED_BATCH = 256


@dataclass
class SyncReport:
    """What a sync or add changed. `failed` lists (path, one-line reason) for every file skipped (unreadable,
    not a regular file, a link out of the root, bad content); `warnings` lists (path, one-line note) for files
    indexed with a caveat (a word longer than a chunk cut into chunks of its own)."""

    added: list[str] = field(default_factory=list)        # doc ids new to the index
    updated: list[str] = field(default_factory=list)      # doc ids re-indexed because their content changed
    removed: list[str] = field(default_factory=list)      # doc ids whose source file is gone
    unchanged: int = 0                                    # source files skipped by content hash
    failed: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    chunks_added: int = 0
    chunks_removed: int = 0
    chunks_total: int = 0
    generation: int = 0
    seconds: float = 0.0
    embedding_cache: dict[str, Any] = field(default_factory=dict)
    engine: dict[str, Any] = field(default_factory=dict)   # ragft.rag.distributed: workers, batches, their seconds

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


class Index:
    """A persistent, incrementally updated RAG index; open it with `Index.open(path)`.

    `catalog` (ragft.rag.catalog.Catalog) is what it knows about itself, persisted as meta.json: embedder,
    chunking, generation, `catalog.sources` and `catalog.documents`, and the saved search settings
    (`catalog.search`, written by `save_search_settings`). `config` is the SearchConfig searches use and
    `default_k` the k `search` takes when its caller gives none."""

    def __init__(self, path: Path, store, embedder, catalog: Catalog, bm25: BM25Index,
                 config: SearchConfig, answers: AnswerCache):
        self.path = path
        self.store = store
        self.embedder = embedder
        self.catalog = catalog
        self.bm25 = bm25
        self.config = config
        self.answers = answers
        self._bm25_dirty = False
        self._answerer = None                   # ragft.rag.answering.Answerer of Index.ask, made on first use
        self._owned_embedder = None            # the embedding-cache wrapper this index made, closed with it

    # ---- opening -------------------------------------------------------------------------------

    @property
    def default_k(self) -> int:
        """The k `search` takes when its caller gives none: the saved one, else DEFAULT_K."""
        search = self.catalog.search
        return search.k if search is not None and search.k else DEFAULT_K

    @classmethod
    def open(
        cls,
        path: str | Path = DEFAULT_INDEX,
        embedder: str | Any | None = None,
        *,
        create: bool = True,
        rebuild: bool = False,
        chunk_tokens: int | None = None,
        overlap: int | None = None,
        search_config: SearchConfig | None = None,
        cache_threshold: float | None = 0.95,
        embedding_cache: bool = True,
        store: str | None = None,
    ) -> "Index":
        """Open (or create) the index at `path`.

        `embedder`: a registry name or an Embedder; None = the one the index was built with (new: minilm).
        `chunk_tokens`/`overlap`: None = as recorded (new: 200/32). An index built with another embedder or
        chunking raises IndexMismatchError; `rebuild=True` wipes it first. `cache_threshold=None` turns
        near-duplicate answer caching off (exact matches are still served). `store`: a store location
        (e.g. a pgvector/qdrant URL) instead of the embedded LanceDB in `path`; BM25 and caches stay in `path`.
        `search_config`: None = the settings saved with `save_search_settings` (none saved: SearchConfig())."""
        from ragft.rag.stores import open_store

        path = Path(path)
        if rebuild:
            with write_lock(path):
                _wipe(path)
        store = open_store(store or str(path))
        meta = store.read_meta()
        if rebuild and meta:                     # a remote store: empty it through the protocol
            store.delete_documents({c.doc_id for c in store.chunks()})
            meta = {}
        if not meta and not create:
            raise NoIndexError(str(path))
        chunking = _chunking(meta, path, chunk_tokens, overlap)
        embedder, label = _resolve_embedder(meta, path, embedder, embedding_cache)
        if meta:
            catalog = _catalog(meta, path)
        else:
            catalog = Catalog.new(label, embedder.name, embedder.dim, Chunking.from_json(chunking))
            store.write_meta(catalog.to_json())
        stored_dim = store.dim
        if store.count() and stored_dim is not None and stored_dim != embedder.dim:
            raise IndexMismatchError(
                f"index at {path} holds {stored_dim}-dimensional vectors but embedder {embedder.name} "
                f"gives {embedder.dim}; open it with rebuild=True"
            )
        bm25 = _open_bm25(path, store, catalog)
        answers = AnswerCache(path / ANSWER_CACHE_FILE, threshold=cache_threshold)
        answers.invalidate(catalog.generation)
        config = search_config or catalog.search_config() or SearchConfig()
        index = cls(path, store, embedder, catalog, bm25, config, answers)
        index._owned_embedder = embedder if embedding_cache else None
        return index

    def close(self) -> None:
        """Persist BM25 if documents were added or removed since the last save."""
        self._save_bm25_if_dirty()
        self.answers.close()
        if self._owned_embedder is not None:
            self._owned_embedder.close()

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def generation(self) -> int:
        return int(self.catalog.generation)

    # ---- writing -------------------------------------------------------------------------------

    @writes
    def sync(self, paths: Sequence[str | Path], root: str | Path | None = None, progress: bool = True, *,
             on_progress: ProgressCallback | None = None) -> SyncReport:
        """Make the index mirror the files under `paths`: new and changed files (by content hash) are
        indexed, files gone from those paths removed, unchanged ones skipped. A problem with one file never
        stops the sync: the file is skipped and listed in `failed` with its one-line reason.

        `on_progress(stage, done, total)` hears of each file and of the compaction (ragft.rag.progress); without
        one, `progress=True` shows a plain line on a terminal and `progress=False` nothing."""
        started = time.perf_counter()
        report = SyncReport()
        todo = self._plan_sync(paths, root, report)
        tell = reporter(progress, on_progress)
        pending: list[tuple[Any, str, list[Document], list[Chunk]]] = []
        uncommitted = 0
        for done, (source, digest) in enumerate(todo, 1):
            loaded = self._load_source(source, report)
            tell(INDEXING, done, len(todo))
            if loaded is None:
                self._forget_source(source.doc_id, report)
                continue
            pending.append((source, digest, *loaded))
            if sum(len(p[3]) for p in pending) >= _EMBED_BATCH:
                uncommitted += self._write_sources(pending, report)
                pending = []
                # meta.json holds every source: written after each batch, a sync of N files would write
                # O(N^2) bytes. Committed once the index has grown by an eighth, it is O(N).
                if uncommitted >= max(_EMBED_BATCH, len(self.catalog.sources) // 8):
                    self._commit_meta()
                    uncommitted = 0
        if self._write_sources(pending, report) or uncommitted:
            self._commit_meta()
        if report.changed:
            # Past the ANN threshold the store builds its vector index here: minutes at 1M chunks.
            tell(COMPACTING, 0, 1)
            self.store.compact()
            tell(COMPACTING, 1, 1)
        self._save_bm25_if_dirty()
        return self._finish(report, started)

    def _plan_sync(self, paths: Sequence[str | Path], root: str | Path | None, report: SyncReport) -> list:
        """Sync's first half (also run by ragft.rag.distributed on its driver): sources gone from `paths` are
        removed; returns the (source, sha256) of the new and changed files, the work left to do."""
        from ragft.rag.loaders import discover

        sources = discover([Path(p) for p in paths], root, skipped=report.failed)
        unlisted = [Path(path) for path, _ in report.failed if os.path.isdir(path)]
        seen: set[str] = set()
        todo = []
        for source in sources:
            seen.add(source.doc_id)
            try:
                digest = _file_hash(source.path)
            except RagftError as error:
                report.failed.append((printable(source.path), printable(str(error))))
                continue
            except OSError as error:
                name = printable(source.path)
                report.failed.append((name, f"{name}: cannot read ({printable(error.strerror or error)})"))
                continue
            if self.catalog.is_current(source.doc_id, digest):
                report.unchanged += 1
            else:
                todo.append((source, digest))
        self._remove_missing_sources([Path(p) for p in paths], seen, report, keep_under=unlisted)
        return todo

    @writes
    def add(self, documents: Iterable[Document]) -> SyncReport:
        """Index documents directly (no source file); each is searchable as soon as this returns."""
        started = time.perf_counter()
        report = SyncReport()
        docs = list(documents)
        chunks = [chunk for doc in docs for chunk in self._chunk(doc)]
        self._replace_documents(docs, chunks, report)     # recorded without a source
        self._commit_meta()
        return self._finish(report, started)

    @writes
    def remove(self, doc_ids: Iterable[str]) -> int:
        """Remove documents by id; returns the number of chunks removed. (A later sync re-adds a
        document whose file is still there: sync mirrors files.)"""
        ids = [d for d in doc_ids if d in self.catalog.documents]
        removed = self._delete_documents(ids)
        self.catalog.unlist_documents(ids)
        self._commit_meta()
        return removed

    def _load_source(self, source, report: SyncReport) -> tuple[list[Document], list[Chunk]] | None:
        from ragft.rag.loaders import load

        name = printable(source.path)
        notes: list[str] = []
        try:
            docs = load(source)
            chunks = [chunk for doc in docs for chunk in self._chunk(doc, notes)]
        except RagftError as error:
            report.failed.append((name, printable(str(error))))
            return None
        except Exception as error:  # noqa: BLE001 - one file's surprise must not lose the other files
            detail = printable(" ".join(f"{type(error).__name__}: {error}".split())[:200])
            report.failed.append((name, f"{name}: could not be loaded ({detail}); please report this file"))
            return None
        if not chunks:
            report.failed.append((name, f"{name}: no text to index (empty file?)"))
            return None
        report.warnings.extend((name, f"{name}: {printable(note)}") for note in notes)
        return docs, chunks

    def _chunk(self, doc: Document, notes: list[str] | None = None) -> list[Chunk]:
        from ragft.rag.chunking import chunk_document

        chunking = self.catalog.chunking
        chunks = chunk_document(doc, max_tokens=chunking.max_tokens, overlap=chunking.overlap, notes=notes)
        if doc.source:
            chunks = [
                c if "source" in c.metadata else replace(c, metadata={**c.metadata, "source": doc.source})
                for c in chunks
            ]
        return chunks

    def _write_sources(self, pending, report: SyncReport, written: Sequence[str] | None = None) -> int:
        """Write the pending (source, digest, docs, chunks) chunks, then their meta entries (the caller commits
        meta: rows before meta, so a crash leaves only orphans the next sync re-indexes); returns the number of
        chunks written. `written`: see _replace_documents."""
        if not pending:
            return 0
        for source, digest, docs, _ in pending:
            old = set(self.catalog.doc_ids_of(source.doc_id))
            stale = sorted(old - {d.id for d in docs})
            report.chunks_removed += self._delete_documents(stale)
            report.removed.extend(stale)
        docs = [doc for _, _, batch_docs, _ in pending for doc in batch_docs]
        chunks = [chunk for *_, batch_chunks in pending for chunk in batch_chunks]
        self._replace_documents(docs, chunks, report, written)
        for source, digest, batch_docs, _ in pending:
            self.catalog.record_source(source.doc_id, printable(Path(source.path).resolve()), digest,
                                       [d.id for d in batch_docs])
        return len(chunks)

    def _replace_documents(self, docs: list[Document], chunks: list[Chunk], report: SyncReport,
                           written: Sequence[str] | None = None) -> None:
        """`written`: a worker already replaced these documents' chunks in the store (ragft.rag.distributed);
        these are the chunk ids it removed. None: delete, embed and upsert here."""
        known = [d.id for d in docs if d.id in self.catalog.documents]
        if written is None:
            # Every doc id, not just the known ones: a run interrupted before its meta write left chunks behind.
            report.chunks_removed += self._delete_documents([d.id for d in docs])
            # Embedded a batch at a time: one file of many chunks must not tokenize them all at once.
            vectors = np.concatenate([self._embed([c.text for c in chunks[i:i + _EMBED_BATCH]])
                                      for i in range(0, len(chunks), _EMBED_BATCH)] or [self._embed([])])
            self.store.upsert(chunks, vectors)
        else:
            report.chunks_removed += self.bm25.remove(written)
        self.bm25.add([c.id for c in chunks], [_bm25_text(c) for c in chunks])
        self._bm25_dirty = True
        per_doc: dict[str, int] = {}
        for chunk in chunks:
            per_doc[chunk.doc_id] = per_doc.get(chunk.doc_id, 0) + 1
        for doc in docs:
            (report.updated if doc.id in known else report.added).append(doc.id)
            self.catalog.record_document(doc, per_doc.get(doc.id, 0))
        report.chunks_added += len(chunks)

    def _delete_documents(self, doc_ids: Sequence[str]) -> int:
        if not doc_ids:
            return 0
        chunk_ids = self.store.chunk_ids(doc_ids)
        removed = self.store.delete_documents(doc_ids)
        self.bm25.remove(chunk_ids)
        self._bm25_dirty = True
        self.catalog.forget_documents(doc_ids)
        return removed

    def _forget_source(self, key: str, report: SyncReport) -> None:
        known = self.catalog.forget_source(key)
        if known:
            report.chunks_removed += self._delete_documents(known.doc_ids)
            report.removed.extend(known.doc_ids)
            self._commit_meta()

    def _remove_missing_sources(self, paths: list[Path], seen: set[str], report: SyncReport,
                                keep_under: Sequence[Path] = ()) -> None:
        """Forget sources no longer found under `paths`, except under folders that could not be listed."""
        scopes = [p.resolve() for p in paths]
        kept = [p.resolve() for p in keep_under]
        for key, known in list(self.catalog.sources.items()):
            if key in seen:
                continue
            where = Path(known.path)
            if any(where == folder or folder in where.parents for folder in kept):
                continue
            if any(where == scope or scope in where.parents for scope in scopes):
                self._forget_source(key, report)

    def _commit_meta(self) -> None:
        self.catalog.commit()
        self.store.write_meta(self.catalog.to_json())
        self.answers.invalidate(self.generation)

    @writes
    def save_search_settings(self, config: SearchConfig, k: int | None = None,
                             tuned: dict[str, Any] | None = None) -> None:
        """Save `config` (and `k`, search's default depth; `tuned`, free-form provenance such as
        {"by": "ragft eval tune", "eval_set": ..., "test_ndcg": ...}) with the index, as `catalog.search`:
        a later `Index.open` without a search_config searches with them. Applies to this index too; bumps
        the generation (cached answers were retrieved with the old settings)."""
        self.catalog.search = SearchSettings.from_config(config, k, tuned)
        self.config = config
        self._commit_meta()
        self._bm25_dirty = True            # its stamp follows the generation: re-stamped, not rebuilt at next open
        self._save_bm25_if_dirty()

    def _save_bm25_if_dirty(self) -> None:
        if self._bm25_dirty:
            self.bm25.save(self.path / BM25_FILE, self.catalog.stamp)
            self._bm25_dirty = False

    def _finish(self, report: SyncReport, started: float) -> SyncReport:
        report.chunks_total = self.store.count()
        report.generation = self.generation
        report.seconds = round(time.perf_counter() - started, 4)
        report.embedding_cache = dict(getattr(self.embedder, "stats", {}) or {})
        return report

    def _embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return np.asarray(self.embedder.embed(texts), dtype=np.float32)

    # ---- reading -------------------------------------------------------------------------------

    def search(
        self,
        query: str,
        k: int | None = None,
        mode: str = "hybrid",
        where: dict[str, Any] | None = None,
        *,
        fusion: str | None = None,
        alpha: float | None = None,
        rrf_k: float | None = None,
        weights: dict[str, float] | None = None,
        query_vector: np.ndarray | None = None,
    ) -> list[Hit]:
        """Top-k chunks for `query` by hybrid (dense + BM25 fused), dense or BM25 ranking; k=None: `default_k`
        (the saved search settings' k, else 10).

        `where` filters on doc_id/title/source/metadata (see ragft.rag.filters); `fusion`, `alpha`, `rrf_k`,
        `weights` override the index's SearchConfig (rrf_k/weights alone imply fusion="rrf", alpha alone
        "convex"); `query_vector` skips embedding the query (batch evaluation)."""
        config = _search_config(self.config, fusion, alpha, rrf_k, weights)
        hits, _, _ = self.retrieve(query, self.default_k if k is None else k, mode, where, query_vector, config)
        return hits

    def embed_query(self, query: str) -> np.ndarray:
        """The query's vector, as search embeds it."""
        return self._embed([query])[0]

    def retrieve(self, query: str, k: int, mode: str = "hybrid", where: dict[str, Any] | None = None,
                 vector: np.ndarray | None = None, config: SearchConfig | None = None):
        """(hits, timings in seconds: embed, search; the query vector or None for bm25): search with its timings,
        for answering."""
        if mode not in MODES:
            raise InputError(f"mode: unknown search mode {mode!r}; choose one of: {', '.join(MODES)}")
        timings: dict[str, float] = {}
        if vector is None and mode != "bm25":
            start = time.perf_counter()
            vector = self.embed_query(query)
            timings["embed"] = time.perf_counter() - start
        start = time.perf_counter()
        hits = search(self.store, self.bm25, query, vector, k, mode, where, config or self.config)
        timings["search"] = time.perf_counter() - start
        return hits, timings, vector

    def ask(self, question: str, generator: str | Any = "extractive", k: int = 5, stream: bool = False,
            **options: Any):
        """`ragft.rag.answering.Answerer(index).ask(...)`: retrieve k chunks, generate an answer citing them as
        [n] (options: mode, where, use_cache, max_tokens, validate and the generator's own, e.g. model=)."""
        from ragft.rag.answering import Answerer

        if self._answerer is None:
            self._answerer = Answerer(self)
        return self._answerer.ask(question, generator, k, stream, **options)

    def stats(self) -> dict[str, Any]:
        """Sizes, settings and cache figures of this index."""
        return {
            "path": str(self.path),
            "documents": len(self.catalog.documents),
            "sources": len(self.catalog.sources),
            "chunks": self.store.count(),
            "dense_index": self.store.index_description,
            "embedder": self.catalog.embedder,
            "embedder_id": self.catalog.embedder_id,
            "dim": self.catalog.dim,
            "chunking": self.catalog.chunking.to_json(),
            "generation": self.generation,
            "bm25_terms": len(self.bm25.vocab),
            "search": {**self.config.to_json(), "k": self.default_k},
            "saved_search": None if self.catalog.search is None else self.catalog.search.to_json(),
            "answer_cache": self.answers.stats(),
            "embedding_cache": dict(getattr(self.embedder, "stats", {}) or {}),
        }


# ---- helpers -------------------------------------------------------------------------------------


def _wipe(path: Path) -> None:
    """Remove only what an index owns, so rebuild=True on a wrong path cannot delete unrelated files."""
    for name in _OWNED:
        target = path / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()


def read_catalog(path: str | Path = DEFAULT_INDEX, store: str | None = None) -> Catalog:
    """The catalog of the index at `path` (chunking, embedder, saved search settings) without opening it: no
    embedder, BM25 or lock. NoIndexError when there is none."""
    from ragft.rag.stores import open_store

    meta = open_store(store or str(path)).read_meta()
    if not meta:
        raise NoIndexError(str(path))
    return _catalog(meta, Path(path))


def _catalog(meta: dict[str, Any], path: Path) -> Catalog:
    try:
        return Catalog.from_json(meta)
    except InputError as error:
        raise InputError(f"index at {path}: {error}") from None


def _chunking(meta: dict[str, Any], path: Path, chunk_tokens: int | None, overlap: int | None) -> dict[str, int]:
    recorded = meta.get("chunking") or {"max_tokens": 200, "overlap": 32}
    wanted = {
        "max_tokens": recorded["max_tokens"] if chunk_tokens is None else chunk_tokens,
        "overlap": recorded["overlap"] if overlap is None else overlap,
    }
    if wanted["max_tokens"] < 1 or not 0 <= wanted["overlap"] < wanted["max_tokens"]:
        raise InputError(
            f"chunk_tokens={wanted['max_tokens']} overlap={wanted['overlap']}: "
            "need chunk_tokens >= 1 and 0 <= overlap < chunk_tokens"
        )
    if meta and wanted != recorded:
        raise IndexMismatchError(
            f"index at {path} was built with chunk_tokens={recorded['max_tokens']} overlap="
            f"{recorded['overlap']}; open it with rebuild=True or those values"
        )
    return wanted


def _resolve_embedder(meta: dict[str, Any], path: Path, embedder: str | Any | None, cache: bool):
    """(embedder, label): the label is the registry name recorded in meta and shown in messages."""
    recorded = meta.get("embedder")
    if embedder is None:
        embedder = recorded or DEFAULT_EMBEDDER
    elif isinstance(embedder, str):                  # a tuned embedder's folder is recorded as an absolute path
        from ragft.rag.embedders.base import embedder_reference

        embedder = embedder_reference(embedder)
    label = embedder if isinstance(embedder, str) else _registry_name(embedder)
    if recorded and label != recorded:
        raise IndexMismatchError(
            f"index at {path} was built with embedder {recorded}; open it with rebuild=True or embedder={recorded}"
        )
    if isinstance(embedder, str):
        from ragft.rag.embedders import create_embedder

        embedder = create_embedder(embedder)
    if meta and (embedder.name != meta["embedder_id"] or embedder.dim != meta["dim"]):
        raise IndexMismatchError(
            f"index at {path} was built with embedder {meta['embedder_id']} ({meta['dim']} dims), not "
            f"{embedder.name} ({embedder.dim} dims); open it with rebuild=True or the embedder it was built with"
        )
    return (_with_embedding_cache(embedder, path) if cache else embedder), label


def _registry_name(embedder) -> str:
    """The registry name of an Embedder instance: the part of its name before ':' when registered; a tuned
    embedder's folder (its absolute path, as `embedder_reference` records it), so the index reopens with it."""
    from ragft.rag.embedders.base import EMBEDDERS

    folder = getattr(getattr(embedder, "inner", embedder), "folder", None)
    if folder is not None:
        return str(folder)
    head = embedder.name.split(":", 1)[0]
    return head if head in EMBEDDERS else embedder.name


def _with_embedding_cache(embedder, path: Path):
    from ragft.rag.embedding_cache import CachedEmbedder

    path.mkdir(parents=True, exist_ok=True)
    return CachedEmbedder(embedder, path / EMBEDDING_CACHE_FILE)


def _search_config(config: SearchConfig, fusion, alpha, rrf_k, weights) -> SearchConfig:
    """`config` with the given overrides; RRF knobs alone select RRF, alpha alone selects convex."""
    if fusion is None and (rrf_k is not None or weights is not None or alpha is not None):
        fusion = "convex" if alpha is not None else "rrf"
        if alpha is not None and (rrf_k is not None or weights is not None):
            raise InputError("alpha is a convex-fusion setting, rrf_k/weights are RRF settings: pick one fusion")
    if fusion is None:
        return config
    return replace(config, fusion=fusion, alpha=config.alpha if alpha is None else alpha,
                   rrf_k=config.rrf_k if rrf_k is None else rrf_k, weights={**config.weights, **(weights or {})})


def _bm25_text(chunk: Chunk) -> str:
    return f"{chunk.title}\n{' '.join(chunk.heading_path)}\n{chunk.text}" if chunk.title else chunk.text


def _open_bm25(path: Path, store, catalog: Catalog) -> BM25Index:
    loaded = BM25Index.load(path / BM25_FILE, catalog.stamp)
    if loaded is not None and len(loaded) == store.count():
        return loaded
    chunks = list(store.chunks())
    index = BM25Index.build([c.id for c in chunks], [_bm25_text(c) for c in chunks])
    if chunks and holder(path) in (None, os.getpid()):   # a reader racing a writer keeps its view in memory
        index.save(path / BM25_FILE, catalog.stamp)
    return index


def _file_hash(path: Path) -> str:
    """sha256 of a regular file, opened without blocking (a file swapped for a FIFO cannot hang the sync)."""
    from ragft.rag.discovery import open_regular

    with open_regular(path) as handle:
        return sha256_stream(handle)
