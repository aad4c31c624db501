"""`ragft index`, `ragft search`, `ragft ask`: the RAG engine's faces over `ragft.rag.engine.Index` and
`ragft.rag.answering.Answerer`."""
from __future__ import annotations

from pathlib import Path
from typing import Any, List, Optional

import typer

from ragft.cli.output import console, err_console, print_json

DEFAULT_INDEX = ".ragft/index"
EXIT_SKIPPED = 3               # `ragft index --strict`: finished, but some files were skipped

IndexOption = typer.Option(DEFAULT_INDEX, "--index", help="Index folder.")
JsonOption = typer.Option(False, "--json", help="Print the result as JSON.")
StoreOption = typer.Option(None, "--store", help="Where chunks and vectors live: the index folder (default; "
                           "DIR?ef=300&ann_min_rows=200000 tunes its ANN index), postgresql://... or "
                           "qdrant://... (see docs/scale-out.md).")


def _hit_json(hit) -> dict[str, Any]:
    chunk = hit.chunk
    return {
        "rank": hit.rank,
        "score": round(hit.score, 6),
        "scores": {k: round(v, 6) for k, v in hit.scores.items()},
        "chunk_id": chunk.id,
        "doc_id": chunk.doc_id,
        "title": chunk.title,
        "heading_path": list(chunk.heading_path),
        "source": chunk.metadata.get("source", ""),
        "text": chunk.text,
    }


def _snippet(text: str, width: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _hits_table(hits, title: str):
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_lines=False)
    table.add_column("#", justify="right")
    table.add_column("score", justify="right")
    table.add_column("dense", justify="right")
    table.add_column("bm25", justify="right")
    table.add_column("source")
    table.add_column("text")
    for hit in hits:
        scores = hit.scores
        table.add_row(
            str(hit.rank),
            f"{hit.score:.4f}",
            f"{scores['dense']:.3f}" if "dense" in scores else "-",
            f"{scores['bm25']:.2f}" if "bm25" in scores else "-",
            hit.chunk.doc_id + (f"\n{hit.chunk.title}" if hit.chunk.title else ""),
            _snippet(hit.chunk.text),
        )
    return table


def _answer_json(answer) -> dict[str, Any]:
    return {
        "question": answer.question,
        "answer": answer.text,
        "citations": [
            {"ref": c.ref, "chunk_id": c.chunk_id, "doc_id": c.doc_id, "title": c.title, "source": c.source,
             "text": c.text}
            for c in answer.citations
        ],
        "retrieved": [_hit_json(hit) for hit in answer.hits],
        "tokens": {"input": answer.input_tokens, "output": answer.output_tokens,
                   "estimated": answer.tokens_estimated},
        "model": answer.model,
        "generator": answer.generator,
        "timings": {k: round(v, 6) for k, v in answer.timings.items()},
        "cache": answer.cache,
        "injection": [flag.to_json() for flag in answer.injection],
    }


def _open_existing(index: Path, embedder: Optional[str], store: Optional[str] = None):
    from ragft.rag.engine import Index

    return Index.open(index, embedder=embedder, create=False, store=store)


def register(app: typer.Typer) -> None:
    @app.command("index")
    def index_command(
        paths: List[Path] = typer.Argument(..., help="Folders or files to index (md, rst, txt, html, pdf, jsonl)."),
        index: Path = IndexOption,
        embedder: Optional[str] = typer.Option(None, "--embedder", help="Embedder name, or a `ragft finetune retriever` folder (new index: minilm)."),
        chunk_tokens: Optional[int] = typer.Option(None, "--chunk-tokens", help="Max tokens per chunk (new: 200)."),
        overlap: Optional[int] = typer.Option(None, "--overlap", help="Tokens shared by neighbouring chunks (new: 32)."),
        root: Optional[Path] = typer.Option(None, "--root", help="Document ids are paths relative to this folder."),
        rebuild: bool = typer.Option(False, "--rebuild", help="Wipe the index first (needed to change embedder)."),
        store: Optional[str] = StoreOption,
        engine: str = typer.Option("local", "--engine", help="local (this process) or ray (Ray workers load, "
                                   "embed and write; needs a server --store and `pip install 'ragft[cluster]'`)."),
        address: Optional[str] = typer.Option(None, "--address", help="Ray cluster for --engine ray: auto or "
                                              "ray://HOST:10001 (default: $RAY_ADDRESS, else a local instance)."),
        workers: int = typer.Option(2, "--workers", help="Ray workers (one CPU each) for --engine ray."),
        strict: bool = typer.Option(False, "--strict", help=f"Exit {EXIT_SKIPPED} instead of 0 when any file "
                                    "was skipped (the rest is still indexed)."),
        as_json: bool = JsonOption,
    ) -> None:
        """Index documents: new and changed files are (re)indexed, deleted ones removed, unchanged skipped.

        A file that cannot be indexed (unreadable, not UTF-8, a link out of the folder, a FIFO...) is skipped
        with one line on stderr and the rest is indexed. Exit codes: 0 done (files may have been skipped), 1 error
        (nothing changed), 3 with --strict when files were skipped (see docs/reliability.md)."""
        from ragft.cli.progress import SyncProgress
        from ragft.errors import InputError
        from ragft.rag.distributed import ENGINES, sync_on_ray
        from ragft.rag.engine import Index
        from ragft.rag.lock import write_lock

        if engine not in ENGINES:
            raise InputError(f"--engine: unknown engine {engine!r}; choose one of: {', '.join(ENGINES)}")
        # Locked before opening, so a second `ragft index` waits and then syncs from what the first wrote.
        with write_lock(index), Index.open(index, embedder=embedder, rebuild=rebuild, chunk_tokens=chunk_tokens,
                                           overlap=overlap, store=store) as opened, \
                SyncProgress(enabled=not as_json) as shown:
            if engine == "ray":
                report = sync_on_ray(opened, paths, root=root, address=address, workers=workers, on_progress=shown)
            else:
                report = opened.sync(paths, root=root, on_progress=shown)
        if as_json:
            print_json({"index": str(index), **_report_json(report)})
        else:
            _print_index_report(report, index)
        if strict and report.failed:
            raise SystemExit(EXIT_SKIPPED)     # typer.Exit's code is dropped under standalone_mode=False

    @app.command("search")
    def search_command(
        query: str = typer.Argument(..., help="What to look for."),
        index: Path = IndexOption,
        k: Optional[int] = typer.Option(None, "-k", "--top-k", help="Number of chunks to return (default: the "
                                        "index's saved k, else 10)."),
        mode: str = typer.Option("hybrid", "--mode", help="hybrid, dense or bm25."),
        where: Optional[List[str]] = typer.Option(
            None, "--where", help="Filter key=value (doc_id, title, source, prefix, any metadata key; value* = prefix)."
        ),
        fusion: Optional[str] = typer.Option(None, "--fusion", help="Hybrid: convex or rrf (default: the index's "
                                             "saved search settings, else convex)."),
        alpha: Optional[float] = typer.Option(None, "--alpha", help="Hybrid convex: dense weight, 0-1 (default: "
                                              "saved, else 0.65)."),
        rrf_k: Optional[float] = typer.Option(None, "--rrf-k", help="Hybrid RRF: constant (default 60); implies --fusion rrf."),
        bm25_weight: Optional[float] = typer.Option(None, "--bm25-weight", help="Hybrid RRF: BM25's weight (dense is 1); implies --fusion rrf."),
        embedder: Optional[str] = typer.Option(None, "--embedder", help="Defaults to the index's embedder."),
        store: Optional[str] = StoreOption,
        as_json: bool = JsonOption,
    ) -> None:
        """Search the index: ranked chunks with their scores and sources."""
        from ragft.rag.filters import parse_where

        weights = None if bm25_weight is None else {"bm25": bm25_weight}
        with _open_existing(index, embedder, store) as opened:
            hits = opened.search(query, k=k, mode=mode, where=parse_where(where), fusion=fusion, alpha=alpha,
                                  rrf_k=rrf_k, weights=weights)
        if as_json:
            print_json({"query": query, "mode": mode, "hits": [_hit_json(hit) for hit in hits]})
        elif not hits:
            console.print("no matching chunks")
        else:
            console.print(_hits_table(hits, f"{mode} search: {query}"))

    @app.command("ask")
    def ask_command(
        question: str = typer.Argument(..., help="The question to answer from the index."),
        index: Path = IndexOption,
        generator: str = typer.Option("extractive", "--generator", help="extractive, local, openai, anthropic, openai-compatible."),
        model: Optional[str] = typer.Option(None, "--model", help="Model name for the generator."),
        base_url: Optional[str] = typer.Option(None, "--base-url", help="Server URL (openai-compatible)."),
        k: int = typer.Option(5, "-k", "--top-k", help="Chunks retrieved as context."),
        mode: str = typer.Option("hybrid", "--mode", help="hybrid, dense or bm25."),
        where: Optional[List[str]] = typer.Option(None, "--where", help="Filter key=value, as for search."),
        stream: bool = typer.Option(True, "--stream/--no-stream", help="Print the answer as it is generated."),
        no_cache: bool = typer.Option(False, "--no-cache", help="Neither read nor write the answer cache."),
        embedder: Optional[str] = typer.Option(None, "--embedder", help="Defaults to the index's embedder."),
        store: Optional[str] = StoreOption,
        validate: bool = typer.Option(False, "--validate", help="Check each answer sentence against the "
                                      "retrieved chunks (judge-free support checker) and mark unsupported ones."),
        refuse_unsupported: bool = typer.Option(False, "--refuse-unsupported", help="With --validate: replace "
                                                "the answer by a refusal when any sentence is unsupported."),
        as_json: bool = JsonOption,
    ) -> None:
        """Answer a question from the index, citing the chunks it used by number."""
        from ragft.rag.answering import Answerer
        from ragft.rag.filters import parse_where

        policy = "refuse" if refuse_unsupported else "flag" if validate else "off"

        # The local generator names its base model `base` (its `model` is a loaded model object).
        model_key = "base" if generator == "local" else "model"
        options = {key: value for key, value in {model_key: model, "base_url": base_url}.items() if value}
        with _open_existing(index, embedder, store) as opened:
            answer = Answerer(opened).ask(question, generator=generator, k=k, stream=stream and not as_json,
                                          mode=mode, where=parse_where(where), use_cache=not no_cache,
                                          validate=policy, **options)
            if answer.validation is not None:
                return _print_validated(answer, as_json)
            if as_json:
                print_json(_answer_json(answer))
                return
            for piece in answer:
                console.print(piece, end="", markup=False, highlight=False, soft_wrap=True)
            console.print()
        _print_sources(answer)


def _print_index_report(report, index: Path) -> None:
    skipped = f", skipped {len(report.failed)}" if report.failed else ""
    console.print(
        f"indexed {len(report.added)} new, {len(report.updated)} changed, removed {len(report.removed)}, "
        f"unchanged {report.unchanged}{skipped} -> {report.chunks_total} chunks in {index} ({report.seconds:.2f} s)",
        soft_wrap=True,
    )
    for label, entries in (("skipped", report.failed), ("warning", report.warnings)):
        for path, reason in entries:
            message = reason if reason.startswith(path) else f"{path}: {reason}"
            err_console.print(f"{label} {message}", markup=False, highlight=False, soft_wrap=True)


def _print_validated(answer, as_json: bool) -> None:
    report = answer.validation.report
    if as_json:
        print_json({**_answer_json(answer), "validation": answer.validation.to_json()})
        return
    console.print(answer.text, markup=False, highlight=False, soft_wrap=True)
    console.print(f"validation: {len(report.sentences) - report.unsupported_count}/{len(report.sentences)} "
                  "sentences supported by the retrieved chunks", markup=False, highlight=False)
    for sentence in report.sentences:
        if not sentence.supported:
            console.print(f"  UNSUPPORTED: {sentence.text} ({sentence.reason})", markup=False, highlight=False)
    _print_sources(answer)


def _print_sources(answer) -> None:
    for flag in answer.injection:
        err_console.print(f"warning: chunk {flag.chunk_id} holds prompt-injection text ({flag.kind}): "
                          f"{flag.excerpt!r}; it was passed to the model as data", markup=False, highlight=False)
    for citation in answer.citations:
        where = citation.doc_id + (f" — {citation.title}" if citation.title else "")
        console.print(f"[{citation.ref}] {where}", markup=False, highlight=False)
    cache = answer.cache
    hit = f", cache: {cache['hit']} hit" if cache.get("hit") else ""
    timings = ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in answer.timings.items())
    err_console.print(f"{answer.generator} ({timings}{hit})", markup=False, highlight=False, style="dim")


def _report_json(report) -> dict[str, Any]:
    return {
        "added": report.added,
        "updated": report.updated,
        "removed": report.removed,
        "unchanged": report.unchanged,
        "failed": [{"path": path, "reason": reason} for path, reason in report.failed],
        "warnings": [{"path": path, "note": note} for path, note in report.warnings],
        "chunks_added": report.chunks_added,
        "chunks_removed": report.chunks_removed,
        "chunks_total": report.chunks_total,
        "generation": report.generation,
        "seconds": report.seconds,
        "embedding_cache": report.embedding_cache,
        **({"engine": report.engine} if report.engine else {}),
    }
