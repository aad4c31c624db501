"""Ingest on a Ray cluster: `sync_on_ray(index, paths)` makes the index mirror the files, as `Index.sync` does,
with the loading, chunking, embedding and upserting done by Ray actors.

The driver (this process) discovers the files and compares their hashes with the store's meta (the engine's own
`_plan_sync`), so a re-run only sends new and changed files. `workers` actors each hold their own embedder and
store connection, opened from the store URL, and take batches of files. When a batch is in the store, the driver
records it in the meta and BM25 (the engine's `_write_sources`, told the chunks are written): the generation
moves only after a batch's chunks are stored, batch by batch, as in a local sync. A worker that dies is
restarted and its batch retried by Ray (chunk ids are stable, so a retried batch overwrites); a killed job
leaves chunks of uncommitted batches that the next run re-does, as a killed local sync does.

Workers write from their own processes and machines, so the store must be a server (pgvector, Qdrant): the
embedded LanceDB folder and qdrant+local are refused. Install Ray with `pip install 'ragft[cluster]'`.
"""
from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from ragft.errors import InputError, MissingDependencyError, RagftError
from ragft.rag.progress import COMPACTING, INDEXING, reporter

if TYPE_CHECKING:
    from ragft.rag.catalog import Chunking

ENGINES = ("local", "ray")
LOCAL_SCHEMES = ("local", "qdrant+local")        # stores one process owns: not for writers on many machines
DEFAULT_FILES_PER_TASK = 16
_EMBED_BATCH = 256


def import_ray():
    try:
        import ray
    except ImportError:
        raise MissingDependencyError("ray", "cluster", "--engine ray") from None
    return ray


LOOPBACK_ONLY = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"   # "0": Ray's single-machine mode, 127.0.0.1 only


def connect(address: str | None = None, num_cpus: int | None = None):
    """Join the Ray cluster at `address` (`auto`: the one `ray start` runs here, `ray://HOST:10001`: Ray Client),
    or start a local instance when None and $RAY_ADDRESS is unset; returns the ray module. Once per process."""
    if not address and not os.environ.get("RAY_ADDRESS"):
        # A local instance stays on the loopback address (Ray otherwise binds the machine's outward address).
        os.environ.setdefault(LOOPBACK_ONLY, "0")
    ray = import_ray()
    if ray.is_initialized():
        return ray
    options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
    if address:
        options["address"] = address
    elif not os.environ.get("RAY_ADDRESS"):
        # A local instance: its workers import the same ragft as this process (a source checkout included).
        here = str(Path(__file__).resolve().parents[2])
        path = os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p)
        options.update(num_cpus=num_cpus, runtime_env={"env_vars": {"PYTHONPATH": path}})
    try:
        ray.init(**options)
    except (ConnectionError, RuntimeError, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InputError(f"--address {address or 'local'}: cannot join a Ray cluster ({first}); start one with "
                         "`ray start --head` or check the address") from None
    return ray


def store_location(index) -> str:
    """The index's store URL, refused when it is one process's store (workers open their own connections)."""
    location = getattr(index.store, "location", None)
    scheme = location.split("://", 1)[0] if location and "://" in location else "local"
    if location is None or scheme in LOCAL_SCHEMES:
        raise InputError(f"sync_on_ray: workers write from their own processes and machines, so the index needs "
                         f"a server store (store=postgresql://... or qdrant://HOST/COLLECTION), not "
                         f"{location or 'the embedded folder ' + str(index.path)}")
    return location


@dataclass
class BatchResult:
    """What a worker sends back: the sources it wrote (documents without their text, chunks with theirs, for
    BM25 and the meta), the ones it could not load, and the chunk ids its delete removed."""

    written: list[tuple[Any, str, list, list]] = field(default_factory=list)   # (source, digest, docs, chunks)
    failed: list[tuple[Any, str]] = field(default_factory=list)                # (source, reason)
    removed: list[str] = field(default_factory=list)
    embedder: str = ""
    seconds: float = 0.0
    cpu_seconds: float = 0.0


class IngestWorker:
    """A Ray actor: its own embedder and store connection; `ingest` loads, chunks, embeds and writes a batch."""

    def __init__(self, location: str, embedder: str, chunking: Chunking):
        from ragft.rag.catalog import Catalog
        from ragft.rag.embedders import create_embedder
        from ragft.rag.engine import Index
        from ragft.rag.stores import open_store

        self.embedder = create_embedder(embedder)
        self.store = open_store(location)
        self.loader = Index.__new__(Index)        # the engine's own loading and chunking, nothing else
        self.loader.catalog = Catalog(embedder, "", 0, chunking)

    def describe(self) -> tuple[str, int]:
        return self.embedder.name, self.embedder.dim

    def ingest(self, batch: Sequence[tuple[Any, str]]) -> BatchResult:
        import numpy as np

        from ragft.rag.engine import SyncReport

        started, cpu = time.perf_counter(), time.process_time()
        result = BatchResult(embedder=self.embedder.name)
        for source, digest in batch:
            report = SyncReport()
            loaded = self.loader._load_source(source, report)
            if loaded is None:
                result.failed.append((source, report.failed[-1][1] if report.failed else "not loaded"))
                continue
            docs, chunks = loaded
            result.written.append((source, digest, [_without_text(d) for d in docs], chunks))
        doc_ids = [d.id for *_, docs, _ in result.written for d in docs]
        chunks = [c for *_, batch_chunks in result.written for c in batch_chunks]
        result.removed = self.store.chunk_ids(doc_ids)
        self.store.delete_documents(doc_ids)
        for start in range(0, len(chunks), _EMBED_BATCH):
            part = chunks[start:start + _EMBED_BATCH]
            vectors = np.asarray(self.embedder.embed([c.text for c in part]), dtype=np.float32)
            self.store.upsert(part, vectors)
        result.seconds, result.cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
        return result


def _without_text(doc):
    """A Document as the meta needs it: the driver gets chunks with text already; the full text stays here."""
    return replace(doc, text="", content_hash=doc.content_hash or hashlib.sha256(doc.text.encode()).hexdigest())


def sync_on_ray(index, paths: Sequence[str | Path], root: str | Path | None = None, *, address: str | None = None,
                workers: int = 2, files_per_task: int = DEFAULT_FILES_PER_TASK, max_retries: int = 3,
                progress: bool = True, on_progress=None):
    """`index.sync(paths, root)` with the work on Ray: `workers` actors (each one CPU) take `files_per_task`
    files at a time; a dead actor is restarted and its batch retried up to `max_retries` times. Returns the
    engine's SyncReport; the index holds the same chunks and vectors as a local sync's."""
    from ragft.rag.lock import writes

    if workers < 1 or files_per_task < 1:
        raise InputError(f"workers and files_per_task: must be at least 1, got {workers} and {files_per_task}")
    location = store_location(index)
    ray = connect(address)
    tell = reporter(progress, on_progress)
    return writes(_sync)(index, ray, location, paths, root, workers, files_per_task, max_retries, tell)


def _sync(index, ray, location, paths, root, workers, files_per_task, max_retries, tell):
    from ragft.rag.engine import SyncReport

    started = time.perf_counter()
    report = SyncReport()
    todo = index._plan_sync(paths, root, report)
    batches = [todo[i:i + files_per_task] for i in range(0, len(todo), files_per_task)]
    report.engine = {"name": "ray", "workers": 0, "batches": len(batches), "worker_seconds": 0.0,
                     "worker_cpu_seconds": 0.0}
    if batches:
        _ensure_table(index)
        actor = ray.remote(num_cpus=1, max_restarts=max_retries, max_task_retries=max_retries)(IngestWorker)
        pool = [actor.remote(location, index.catalog.embedder, index.catalog.chunking)
                for _ in range(min(workers, len(batches)))]
        report.engine["workers"] = len(pool)
        try:
            _check_embedders(index, ray, pool)
            _run(index, ray, pool, batches, report, tell, len(todo))
        finally:
            for worker in pool:
                ray.kill(worker)
    if report.changed:
        tell(COMPACTING, 0, 1)          # builds the store's vector index on a first sync
        index.store.compact()
        tell(COMPACTING, 1, 1)
    index._save_bm25_if_dirty()
    return index._finish(report, started)


def _ensure_table(index) -> None:
    """Create the store's table or collection here, once, before workers write to it concurrently."""
    from ragft.rag.stores import open_store

    if index.store.dim is None:
        index.store.close()
        index.store = open_store(index.store.location, dim=index.embedder.dim)


def _check_embedders(index, ray, pool) -> None:
    name, dim = ray.get(pool[0].describe.remote())
    catalog = index.catalog
    if (name, dim) != (catalog.embedder_id, catalog.dim):
        raise InputError(f"the Ray workers' embedder {catalog.embedder} is {name} ({dim} dims), the index was "
                         f"built with {catalog.embedder_id} ({catalog.dim} dims): install the same "
                         "ragft and models on every node")


def _run(index, ray, pool, batches, report, tell, total: int) -> None:
    queue = list(reversed(batches))
    done = 0
    in_flight: dict[Any, tuple[Any, list, list[str]]] = {}

    def submit(worker) -> None:
        batch = queue.pop()
        known = [d for source, _ in batch for d in index.catalog.doc_ids_of(source.doc_id)]
        in_flight[worker.ingest.remote(batch)] = (worker, batch, index.store.chunk_ids(known))

    for worker in pool:
        if queue:
            submit(worker)
    while in_flight:
        (ref,), _ = ray.wait(list(in_flight), num_returns=1)
        worker, batch, old_ids = in_flight.pop(ref)
        result = _result(ray, ref, batch)
        report.engine["worker_seconds"] = round(report.engine["worker_seconds"] + result.seconds, 3)
        report.engine["worker_cpu_seconds"] = round(report.engine["worker_cpu_seconds"] + result.cpu_seconds, 3)
        for source, reason in result.failed:
            report.failed.append((str(source.path), reason))
            index._forget_source(source.doc_id, report)
        # The chunk ids the driver knew and those the worker's delete found (orphans of a killed run, a retry's).
        index._write_sources(result.written, report, written=sorted(set(old_ids) | set(result.removed)))
        index._commit_meta()
        for _ in batch:
            done += 1
            tell(INDEXING, done, total)
        if queue:
            submit(worker)


def _result(ray, ref, batch) -> BatchResult:
    first = str(batch[0][0].path)
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as error:
        cause = getattr(error, "cause", None)
        if isinstance(cause, RagftError):
            raise type(cause)(str(cause)) from None
        raise RagftError(f"a Ray worker failed on the batch starting at {first}: "
                         f"{type(cause).__name__ if cause else 'error'}: {cause or error}".splitlines()[0]) from None
    except ray.exceptions.RayActorError:
        raise RagftError(f"a Ray worker died on every retry of the batch starting at {first}; the batches "
                         "recorded so far are kept: run the same command again to finish") from None
