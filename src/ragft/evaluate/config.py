"""The eval run's configuration: one TOML/YAML/JSON file (or CLI flags) that makes a run reproducible."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ragft.errors import InputError
from ragft.evaluate.records import SystemConfig

SYSTEM_KINDS = ("closed-book", "rag", "fine-tuned", "hybrid")
TUNED_RETRIEVER = "rag-tuned-retriever"     # a rag system whose index is built with --retriever FOLDER
SYSTEM_NAMES = (*SYSTEM_KINDS, TUNED_RETRIEVER)


class RetrievalSettings(BaseModel):
    """How the run's index chunks and fuses: by default the engine's; `ragft eval run --search-from INDEX` copies
    the chunking and the search settings saved in an index (e.g. by `ragft eval tune`), so the run measures them."""

    model_config = ConfigDict(extra="forbid")

    chunk_tokens: int = Field(200, ge=8)
    overlap: int = Field(32, ge=0)
    fusion: Literal["convex", "rrf"] = "convex"
    alpha: float = Field(0.65, ge=0, le=1)
    rrf_k: float = Field(60.0, ge=0)
    weights: dict[str, float] = Field(default_factory=lambda: {"dense": 1.0, "bm25": 1.0})
    candidates: int = Field(100, ge=1)
    source: str | None = None                 # the index they were read from, if any

    def search_config(self):
        from ragft.rag.search import SearchConfig

        return SearchConfig.from_json(self.model_dump())


def retrieval_from_index(path: str | Path) -> RetrievalSettings:
    """The chunking and saved search settings of the index at `path` (its defaults where none were saved)."""
    from ragft.rag.engine import read_catalog

    catalog = read_catalog(path)
    search = catalog.search
    fusion = {} if search is None else search.config().to_json()
    return RetrievalSettings(chunk_tokens=catalog.chunking.max_tokens, overlap=catalog.chunking.overlap,
                             source=str(Path(path).resolve()), **fusion)


class EvalConfig(BaseModel):
    """Everything a run needs: the questions (a built-in bench or an eval set + docs), the systems, the knobs."""

    model_config = ConfigDict(extra="forbid")

    bench: list[str] = Field(default_factory=list, json_schema_extra={"allowed": "python-faq, debian-faq"})
    bench_source: str | None = None           # folder holding the extracted Debian packages (else apt-get)
    bench_cache: str | None = None
    distractors: int = Field(300, ge=0)
    evalset: str | None = None                # JSONL eval set (ragft eval make)
    docs: list[str] = Field(default_factory=list)   # corpus folders for an eval set
    systems: list[SystemConfig] = Field(default_factory=list)
    embedder: str = "minilm"
    retrieval: RetrievalSettings | None = None   # chunking + fusion of the run's index (None: the engine's)
    k: int = Field(5, ge=1)
    seed: int = 0
    repeat: int = Field(1, ge=1)
    limit: int | None = Field(None, ge=1)
    split: Literal["all", "train", "validation", "test"] = "all"
    split_fractions: tuple[float, float, float] = (0.6, 0.2, 0.2)
    warmup: int = Field(2, ge=0, json_schema_extra={"allowed": "questions answered first and not timed"})
    price_model: str = "gpt-4o-mini"          # catalog model every generator is priced at
    volume_per_month: float = Field(100_000, gt=0)
    freshness_trials: int = Field(3, ge=0)
    judge: str | None = None                  # a generator name: LLM judge for hallucination, besides the checker
    judge_options: dict[str, Any] = Field(default_factory=dict)
    profile: str | None = None                # advise profile file or example name
    contenders: list[str] = Field(default_factory=list)   # systems the verdict may recommend (default: one family)
    bootstrap_resamples: int = Field(1000, ge=100)
    confidence: float = Field(0.95, gt=0, lt=1)
    max_tokens: int = Field(256, ge=1)
    jobs_ledger: str | None = None            # provider fine-tuning jobs (default .ragft/finetune-jobs.json)
    engine: Literal["local", "ray"] = "local"   # who answers: this process, or Ray actors (ragft[cluster])
    concurrency: int = Field(1, ge=1)          # questions in flight: threads (local) or actors (ray; 1 = one per CPU)
    address: str | None = None                 # Ray cluster: auto, ray://HOST:10001; None = start one here

    @property
    def needs_index(self) -> bool:
        return any(s.kind in ("rag", "hybrid") for s in self.systems)

    @property
    def label(self) -> str:
        """The bench name(s) or the eval set's file stem, used in run folder names."""
        return "+".join(self.bench) if self.bench else Path(self.evalset or "evalset").name.removesuffix(".jsonl")


def parse_systems(text: str, generator: str = "extractive", adapter: str | None = None,
                  generator_options: dict[str, Any] | None = None, k: int = 5, tuned_model: str | None = None,
                  job: str | None = None, retriever: str | None = None) -> list[SystemConfig]:
    """'closed-book,rag' -> SystemConfigs with the given generator. Tuned kinds (fine-tuned, hybrid) take the
    local generator with `adapter`, or with `tuned_model` (or a provider `job`) the same generator and options
    as the others, answering with the tuned model instead of the base one. `rag-tuned-retriever` is rag
    retrieving from an index built with the tuned embedder folder `retriever` (`ragft finetune retriever`)."""
    if adapter and (tuned_model or job):
        raise InputError("give --adapter (a local LoRA) or --tuned-model / --finetune-job (a provider or served "
                         "fine-tune), not both")
    served = bool(tuned_model or job)
    systems = []
    names = [part.strip() for part in text.split(",") if part.strip()]
    retriever = str(Path(retriever).expanduser().resolve()) if retriever else None
    if (TUNED_RETRIEVER in names) != bool(retriever):
        raise InputError(f"--systems {TUNED_RETRIEVER} needs --retriever FOLDER (a `ragft finetune retriever` output)"
                         if retriever is None else f"--retriever is read by --systems ...,{TUNED_RETRIEVER} only")
    for name in names:
        if name == TUNED_RETRIEVER:
            systems.append(SystemConfig(name=name, kind="rag", k=k, generator=generator,
                                        generator_options=dict(generator_options or {}), retriever=retriever))
            continue
        if name not in SYSTEM_KINDS:
            raise InputError(f"--systems: unknown system '{name}'; choose from {', '.join(SYSTEM_NAMES)}")
        tuned = name in ("fine-tuned", "hybrid")
        systems.append(SystemConfig(
            name=name, kind=name, k=k,
            generator=generator if served or not tuned else "local",
            generator_options=dict(generator_options or {}),
            adapter=adapter if tuned and not served else None,
            tuned_model=tuned_model if tuned else None,
            job=job if tuned else None,
        ))
    if not systems:
        raise InputError("--systems: empty; name at least one of " + ", ".join(SYSTEM_KINDS))
    return systems


def config_from_mapping(data: dict[str, Any], where: str = "config") -> EvalConfig:
    """An EvalConfig from plain data; a string `systems` ("closed-book,rag") and `bench` are accepted."""
    from ragft.advise.loading import validated

    data = dict(data)
    if isinstance(data.get("bench"), str):
        data["bench"] = [b.strip() for b in data["bench"].split(",") if b.strip()]
    if isinstance(data.get("docs"), str):
        data["docs"] = [data["docs"]]
    if isinstance(data.get("systems"), str):
        data["systems"] = [s.model_dump() for s in parse_systems(data["systems"], k=int(data.get("k", 5)))]
    config = validated(EvalConfig, data, where)
    problem = _inconsistency(config)
    if problem:
        raise InputError(f"{where}: {problem}")
    return _with_job_models(config)


def _with_job_models(config: EvalConfig) -> EvalConfig:
    """A system naming a provider job but no tuned model gets the job's fine-tuned model from the jobs ledger
    (and the run's config records it, so a resumed run does not need the ledger to know what it asked)."""
    if not any(s.job and not s.tuned_model for s in config.systems):
        return config
    from ragft.finetune.providers import DEFAULT_LEDGER, JobsLedger

    ledger = JobsLedger(config.jobs_ledger or DEFAULT_LEDGER)
    systems = [s.model_copy(update={"tuned_model": ledger.tuned_model(s.job)}) if s.job and not s.tuned_model else s
               for s in config.systems]
    return config.model_copy(update={"systems": systems})


def _inconsistency(config: EvalConfig) -> str | None:
    if bool(config.bench) == bool(config.evalset):
        return "give exactly one of bench (--bench) or evalset (--evalset)"
    if config.evalset and config.needs_index and not config.docs:
        return "an eval set with rag or hybrid systems needs docs (--docs DIR, the corpus the ids point into)"
    if not config.systems:
        return "systems is empty; name at least one of " + ", ".join(SYSTEM_KINDS)
    names = [s.name for s in config.systems]
    if len(set(names)) != len(names):
        return f"system names must be unique, got {', '.join(names)}"
    if config.contenders:
        from ragft.evaluate.decision import split_systems

        try:
            split_systems(config.systems, config.contenders)
        except InputError as error:
            return str(error)
    if any("api_key" in options for options in [config.judge_options, *(s.generator_options for s in config.systems)]):
        return "api_key: keys are not taken from configs (they are saved in run folders); set the provider's variable"
    return None


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> EvalConfig:
    """Read a TOML/YAML/JSON run config; relative paths in it are taken from the file's folder."""
    from ragft.advise.loading import read_mapping

    path = Path(path)
    data = read_mapping(path, "eval config")
    base = path.resolve().parent
    for key in ("evalset", "bench_source", "bench_cache", "jobs_ledger"):
        if isinstance(data.get(key), str):
            data[key] = str(base / data[key])
    if isinstance(data.get("docs"), str):
        data["docs"] = [data["docs"]]
    if isinstance(data.get("docs"), list):
        data["docs"] = [str(base / d) for d in data["docs"]]
    if isinstance(data.get("profile"), str) and (base / data["profile"]).exists():
        data["profile"] = str(base / data["profile"])
    for system in data.get("systems", []) if isinstance(data.get("systems"), list) else []:
        if isinstance(system, dict) and isinstance(system.get("adapter"), str):
            system["adapter"] = str(base / system["adapter"])
        if isinstance(system, dict) and isinstance(system.get("retriever"), str):
            system["retriever"] = str(base / system["retriever"])
    return config_from_mapping({**data, **(overrides or {})}, str(path))
