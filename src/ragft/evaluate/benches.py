"""Built-in benchmarks made from real Debian packages: the Python FAQ (python3.11-doc) and the Debian FAQ.

Each becomes a corpus folder (one answer per file, plus distractor documents) and a questions.jsonl whose
relevant_ids are corpus-relative paths, cached under ~/.cache/ragft/benches/<name>/ with its provenance.
"""
from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import unquote

from ragft.errors import InputError, NotFoundError, RagftError
from ragft.evaluate.evalset import EvalItem, load_evalset, save_evalset
from ragft.files import cache_dir, sha256_file, swap_in, tree_sha256, write_atomic
from ragft.qa.faq import FaqEntry, parse_debian_faq, parse_rst_faq, reference_answer, rst_to_markdown
from ragft.qa.pairs import slug

PARSER_VERSION = 1
DEFAULT_DISTRACTORS = 300
DISTRACTOR_CHARS = 4000        # keeps the default corpus small enough to embed on a laptop in minutes


@dataclass(frozen=True)
class BenchSource:
    """Where a bench's text came from: the Debian package, its version and hashes of what was parsed."""

    package: str
    version: str
    deb_sha256: str | None      # sha256 of the .deb; None when read from a folder without its .deb
    deb_file: str | None
    tree_sha256: str            # sha256 over the parsed files (relative path + bytes), always set
    origin: str                 # "apt-get download" or "folder <DIR>"


@dataclass(frozen=True)
class Bench:
    name: str
    corpus_dir: Path
    questions: list[EvalItem]
    source: BenchSource
    questions_path: Path
    documents: int              # files in corpus_dir (answers + distractors)
    distractors: int


@dataclass(frozen=True)
class CorpusDoc:
    doc_id: str                 # corpus-relative path: the id the RAG engine gives the file
    title: str
    body: str


@dataclass(frozen=True)
class BenchSpec:
    name: str
    package: str
    description: str
    probe: str                                           # a path that must exist in the extracted tree
    inputs: Callable[[Path, int], list[Path]]            # files parsed, given the tree and distractor count
    build: Callable[[Path, list[Path], int], tuple[list[CorpusDoc], list[EvalItem]]]


# --- python-faq -------------------------------------------------------------------------------

_PY_SOURCES = "usr/share/doc/python3.11/html/_sources"
_PY_DISTRACTOR_DIRS = ("library", "tutorial", "howto", "reference")


def _python_inputs(tree: Path, distractors: int) -> list[Path]:
    faq = sorted(p for p in (tree / _PY_SOURCES / "faq").glob("*.rst.txt") if p.name != "index.rst.txt")
    pool = sorted(p for folder in _PY_DISTRACTOR_DIRS for p in (tree / _PY_SOURCES / folder).rglob("*.rst.txt"))
    return faq + spread(pool, distractors)


def spread(paths: list[Path], count: int) -> list[Path]:
    """`count` items evenly spaced over the sorted list (all of them when count >= len)."""
    if count >= len(paths):
        return list(paths)
    return [paths[(i * len(paths)) // count] for i in range(max(count, 0))]


def _python_build(tree: Path, inputs: list[Path], distractors: int) -> tuple[list[CorpusDoc], list[EvalItem]]:
    sources = tree / _PY_SOURCES
    docs, items = [], []
    for path in inputs:
        relative = path.relative_to(sources).as_posix()
        if relative.startswith("faq/"):
            stem = path.name.removesuffix(".rst.txt")
            entries = parse_rst_faq(path.read_text(encoding="utf-8"), questions_only=False)
            for ordinal, entry in enumerate(entries, start=1):
                doc = _entry_doc(f"faq/{stem}/{ordinal:03d}.md", entry)
                docs.append(doc)
                items.append(_entry_item(f"{stem}-{ordinal:03d}", entry, doc.doc_id, f"faq:{stem}",
                                         reference_answer(entry.answer)))
        else:
            title, body = rst_to_markdown(path.read_text(encoding="utf-8"))
            docs.append(CorpusDoc("docs/" + relative.removesuffix(".rst.txt") + ".md", title,
                                  truncate(body, DISTRACTOR_CHARS)))
    return docs, items


# --- debian-faq -------------------------------------------------------------------------------

_DEBIAN_FAQ = "usr/share/doc/debian/FAQ/debian-faq.en.txt.gz"


def _debian_inputs(tree: Path, distractors: int) -> list[Path]:
    return [tree / _DEBIAN_FAQ]


def _debian_build(tree: Path, inputs: list[Path], distractors: int) -> tuple[list[CorpusDoc], list[EvalItem]]:
    with gzip.open(inputs[0], "rt", encoding="utf-8") as handle:
        entries = parse_debian_faq(handle.read())
    docs, items, others = [], [], []
    for entry in entries:
        chapter = _chapter_slug(entry)
        if "?" not in entry.question:
            others.append(entry)
            continue
        doc = _entry_doc(f"faq/{chapter}/{entry.number}.md", entry)
        docs.append(doc)
        items.append(_entry_item(f"debian-{entry.number}", entry, doc.doc_id,
                                 f"faq:{chapter.split('-', 1)[1]}",
                                 reference_answer(entry.answer, skip_indented=False)))
    for entry in others[:max(distractors, 0)]:
        docs.append(_entry_doc(f"other/{_chapter_slug(entry)}/{entry.number}.md", entry))
    return docs, items


def _chapter_slug(entry: FaqEntry) -> str:
    number = entry.number.split(".")[0]
    title = entry.page.split(". ", 1)[-1]
    return f"{int(number):02d}-{slug(title)}" if number.isdigit() else slug(entry.page)


# --- shared ---------------------------------------------------------------------------------

def _entry_doc(doc_id: str, entry: FaqEntry) -> CorpusDoc:
    """A FAQ answer as a document: titled by its page and section, never by the question it answers."""
    title = " — ".join(part for part in (entry.page, entry.section) if part)
    return CorpusDoc(doc_id, title, entry.answer.strip() + "\n")


def _entry_item(item_id: str, entry: FaqEntry, doc_id: str, tag: str, reference: str) -> EvalItem:
    tags = [tag] + ([f"section:{slug(entry.section)}"] if entry.section else [])
    return EvalItem(id=item_id, question=entry.question, reference_answer=reference or entry.answer.strip(),
                    relevant_ids=[doc_id], tags=tags)


def truncate(text: str, limit: int) -> str:
    """At most `limit` characters, cut at the last paragraph break before the limit when there is one."""
    if len(text) <= limit:
        return text
    cut = text.rfind("\n\n", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip() + "\n"


BENCHES: dict[str, BenchSpec] = {
    spec.name: spec
    for spec in (
        BenchSpec("python-faq", "python3.11-doc",
                  "Python FAQ (8 pages) with Python library/tutorial/howto/reference pages as distractors",
                  _PY_SOURCES + "/faq/index.rst.txt", _python_inputs, _python_build),
        BenchSpec("debian-faq", "debian-faq",
                  "Debian GNU/Linux FAQ; its non-question sections serve as distractors",
                  _DEBIAN_FAQ, _debian_inputs, _debian_build),
    )
}


def list_benches() -> list[BenchSpec]:
    return [BENCHES[name] for name in sorted(BENCHES)]


def default_cache_dir() -> Path:
    return cache_dir() / "benches"


def load_bench(name: str, cache_dir: Path | str | None = None, source_dir: Path | str | None = None,
               distractors: int = DEFAULT_DISTRACTORS) -> Bench:
    """The bench `name`, built once into the cache (rebuilt when the parser, the distractor count or the
    source files change). Text comes from `source_dir` (an extracted .deb tree) or `apt-get download`."""
    spec = BENCHES.get(name)
    if spec is None:
        raise InputError(f"unknown bench '{name}'; choose one of: {', '.join(sorted(BENCHES))}")
    if distractors < 0:
        raise InputError(f"distractors must be >= 0, got {distractors}")
    home = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    bench_dir = home / name
    if source_dir is not None:
        tree, deb = _check_tree(spec, Path(source_dir)), _find_deb(spec, Path(source_dir))
        origin = f"folder {Path(source_dir).resolve()}"
    else:
        tree, deb = _fetch(spec, bench_dir)
        origin = "apt-get download"
    inputs = spec.inputs(tree, distractors)
    source = BenchSource(spec.package, _package_version(spec, tree, deb), sha256_file(deb) if deb else None,
                         deb.name if deb else None, tree_sha256(tree, inputs), origin)
    key = {"parser_version": PARSER_VERSION, "distractors": distractors,
           "distractor_chars": DISTRACTOR_CHARS, "tree_sha256": source.tree_sha256}
    built = bench_dir / "build"
    manifest = _read_manifest(built)
    if manifest.get("key") != key:
        _build(spec, tree, inputs, distractors, bench_dir, key, source)
        manifest = _read_manifest(built)
    questions = load_evalset(built / "questions.jsonl")
    return Bench(name, built / "corpus", questions, BenchSource(**manifest["source"]),
                 built / "questions.jsonl", manifest["documents"], manifest["distractor_documents"])


def _build(spec: BenchSpec, tree: Path, inputs: list[Path], distractors: int, bench_dir: Path,
           key: dict, source: BenchSource) -> None:
    docs, items = spec.build(tree, inputs, distractors)
    if not items:
        raise InputError(f"{tree}: found no questions for bench '{spec.name}'; is this the {spec.package} tree?")
    bench_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=bench_dir, prefix=".build-"))
    try:
        for doc in docs:
            target = staging / "corpus" / doc.doc_id
            target.parent.mkdir(parents=True, exist_ok=True)
            heading = f"# {doc.title}\n\n" if doc.title and not doc.body.startswith("# ") else ""
            target.write_text(heading + doc.body, encoding="utf-8")
        save_evalset(items, staging / "questions.jsonl")
        gold = {i for item in items for i in item.relevant_ids}
        manifest = {"bench": spec.name, "key": key, "source": asdict(source), "questions": len(items),
                    "documents": len(docs), "distractor_documents": sum(d.doc_id not in gold for d in docs)}
        write_atomic(staging / "manifest.json", json.dumps(manifest, indent=2) + "\n")
        swap_in(staging, bench_dir / "build")
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _read_manifest(built: Path) -> dict:
    try:
        return json.loads((built / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


# --- getting the package -----------------------------------------------------------------------

def _check_tree(spec: BenchSpec, folder: Path) -> Path:
    if not folder.is_dir():
        raise NotFoundError(f"{folder}: no such folder; pass the folder `dpkg-deb -x {spec.package}_*.deb DIR` made")
    for candidate in (folder, folder / "x"):
        if (candidate / spec.probe).is_file():
            return candidate
    raise NotFoundError(f"{folder}: no {spec.probe} inside; extract the package there with "
                        f"`apt-get download {spec.package} && dpkg-deb -x {spec.package}_*.deb {folder}`")


def _find_deb(spec: BenchSpec, folder: Path) -> Path | None:
    for place in (folder, folder.parent):
        debs = sorted(place.glob(f"{spec.package}_*.deb"))
        if debs:
            return debs[-1]
    return None


def _fetch(spec: BenchSpec, bench_dir: Path) -> tuple[Path, Path | None]:
    """Download and extract the package once; later calls reuse the extracted tree."""
    tree = bench_dir / "extracted"
    debs = sorted((bench_dir / "download").glob(f"{spec.package}_*.deb"))
    if (tree / spec.probe).is_file() and debs:
        return tree, debs[-1]
    how = (f"download {spec.package}'s .deb on a Debian machine, run `dpkg-deb -x {spec.package}_*.deb DIR` "
           f"and pass --from DIR")
    for tool in ("apt-get", "dpkg-deb"):
        if shutil.which(tool) is None:
            raise RagftError(f"bench '{spec.name}' needs the Debian package {spec.package} and {tool} is not "
                             f"available here: {how}")
    bench_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=bench_dir, prefix=".fetch-"))
    try:
        _download(spec.package, staging, how)
        deb = next(iter(sorted(staging.glob(f"{spec.package}_*.deb"))), None)
        if deb is None:
            raise RagftError(f"apt-get download {spec.package} produced no .deb: {how}")
        _run(["dpkg-deb", "-x", deb.name, "extracted"], staging, how)
        (staging / "download").mkdir()
        os.replace(deb, staging / "download" / deb.name)
        for part in ("download", "extracted"):
            swap_in(staging / part, bench_dir / part)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return _fetch(spec, bench_dir)


def _download(package: str, cwd: Path, how: str) -> None:
    """`apt-get download`; on a fresh machine the package lists may be empty, so as root refresh them once."""
    try:
        _run(["apt-get", "download", package], cwd, how)
    except RagftError:
        if os.geteuid() != 0:
            raise
        _run(["apt-get", "update", "-q"], cwd, how)
        _run(["apt-get", "download", package], cwd, how)


def _run(command: list[str], cwd: Path, how: str) -> None:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RagftError(f"`{' '.join(command)}` failed ({last}); {how}")


def _package_version(spec: BenchSpec, tree: Path, deb: Path | None) -> str:
    if deb is not None:
        if shutil.which("dpkg-deb"):
            done = subprocess.run(["dpkg-deb", "-f", str(deb), "Version"], capture_output=True, text=True)
            if done.returncode == 0 and done.stdout.strip():
                return done.stdout.strip()
        if "_" in deb.name:
            return unquote(deb.name.split("_")[1])
    for name in ("changelog.Debian.gz", "changelog.gz"):
        changelog = tree / "usr/share/doc" / spec.package / name
        if changelog.is_file():
            with gzip.open(changelog, "rt", encoding="utf-8", errors="replace") as handle:
                first = handle.readline()
            if "(" in first and ")" in first:
                return first.split("(", 1)[1].split(")", 1)[0]
    return "unknown"


