"""Systems under test: something the bench can ask a question. One per kind — closed-book (the generator
alone), rag (Index + generator; with a tuned retriever, its own index built with it), fine-tuned (a tuned model,
no retrieval) and hybrid (Index retrieval + the tuned model reading the context) — each built from a SystemConfig.
A tuned model is the local model with a LoRA adapter, or on any other generator a tuned model by name (a provider
fine-tune such as `ft:gpt-4o-mini:...`, or a model served by an OpenAI-compatible server) beside the base model.

Every answer is timed per stage; a generator that streams also reports its first piece, so `ttft` (question
in, first answer text out) comes from the same single generation as the answer."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol, runtime_checkable

from ragft.errors import InputError
from ragft.evaluate.evalset import EvalItem
from ragft.evaluate.records import RetrievedContext, SystemConfig
from ragft.registry import Registry


@dataclass
class SystemAnswer:
    """One answer with what the system read, what it cost in tokens and how long each stage took."""

    answer: str
    contexts: list[RetrievedContext] = field(default_factory=list)
    hits: list[Any] | None = None             # ranked Hits for retrieval metrics; None = the system does not retrieve
    cited_doc_ids: list[str] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    model: str = ""
    timings: dict[str, float] = field(default_factory=dict)   # seconds: embed, search, generate, total, ttft


@runtime_checkable
class System(Protocol):
    name: str
    kind: str
    config: SystemConfig

    def answer(self, item: EvalItem, seed: int = 0) -> SystemAnswer: ...


@dataclass
class BuildContext:
    """What systems share while a run builds them: the index (for retrieving kinds) and loaded generators; a
    system with a tuned retriever gets an index of the same corpus built with it (`index_builder(folder)`)."""

    index: Any = None
    max_tokens: int = 256
    generators: dict[str, Any] = field(default_factory=dict)
    index_builder: Callable[[str], Any] | None = None
    indexes: dict[str, Any] = field(default_factory=dict)

    def index_for(self, retriever: str) -> Any:
        if retriever not in self.indexes:
            if self.index_builder is None:
                raise InputError(f"retriever {retriever}: this run cannot build a second index")
            self.indexes[retriever] = self.index_builder(retriever)
        return self.indexes[retriever]

    def close(self) -> None:
        for index in self.indexes.values():
            index.close()

    def generator(self, name: str, options: dict[str, Any]) -> Any:
        """One generator per (name, options): the fine-tuned and hybrid systems share one loaded model."""
        key = json.dumps([name, options], sort_keys=True, default=str)
        if key not in self.generators:
            from ragft.llm import create_generator

            self.generators[key] = create_generator(name, **{k: v for k, v in options.items() if v is not None})
        return self.generators[key]


SYSTEMS: Registry[Callable[..., System]] = Registry("system")


def retriever_index_dir(run_dir: Path, retriever: str) -> Path:
    """Where a run keeps the corpus indexed with the tuned retriever folder `retriever`."""
    import hashlib

    return run_dir / f"index-retriever-{hashlib.sha256(retriever.encode()).hexdigest()[:10]}"


def build_system(config: SystemConfig, context: BuildContext) -> System:
    return SYSTEMS.create(config.kind, config=config, context=context)


def _sampling(config: SystemConfig) -> tuple[dict[str, Any], float]:
    """(options for the generator factory, temperature for each request): temperature is per request."""
    options = dict(config.generator_options)
    temperature = float(options.pop("temperature", 0.0) or 0.0)
    return options, temperature


def _tuned_options(config: SystemConfig) -> dict[str, Any]:
    """Generator options of a fine-tuned or hybrid system: the local model with its adapter, or the tuned model
    by name on any other generator (same server, key and settings as the base model)."""
    options, _ = _sampling(config)
    if config.generator == "local":
        if config.tuned_model or config.job:
            raise InputError(f"system {config.name}: tuned_model and job name a provider or served model; with "
                             "generator 'local' give a LoRA adapter (--adapter DIR) instead")
        if not config.adapter:
            raise InputError(f"system {config.name}: {config.kind} needs an adapter; train one with "
                             "`ragft finetune train` and pass --adapter DIR (or adapter = \"DIR\" in the config)")
        from ragft.adapters import verify_adapter

        manifest = verify_adapter(config.adapter)
        # The base model's options (--model, --base-url of the closed-book/rag generator) do not apply here.
        return {"base": manifest.base, "device": options.get("device"), "adapter": Path(config.adapter)}
    if config.adapter:
        raise InputError(f"system {config.name}: an adapter is a local LoRA and needs generator 'local', not "
                         f"'{config.generator}'; for a provider or served fine-tune give --tuned-model NAME")
    if config.generator == "extractive":
        raise InputError(f"system {config.name}: {config.kind} needs a generator with a model to tune ('local' "
                         "with --adapter, or openai / openai-compatible with --tuned-model), not 'extractive'")
    if not config.tuned_model:
        raise InputError(f"system {config.name}: {config.kind} on generator '{config.generator}' needs the tuned "
                         "model: --tuned-model NAME (a served fine-tune, or a provider id such as "
                         "ft:gpt-4o-mini:org::abc) or --finetune-job ID from `ragft finetune jobs`")
    return {**options, "model": config.tuned_model}


def _generate(generator: Any, request: Any, started: float) -> tuple[Any, float | None]:
    """(Generation, seconds from `started` to the first answer piece, when the generator streams)."""
    called = time.perf_counter()
    generation = generator.generate(request)
    first = getattr(generation, "first_token_seconds", None)
    return generation, None if first is None else called - started + first


class ClosedBook:
    """The generator alone: no retrieval, the question is all it sees."""

    kind = "closed-book"

    def __init__(self, config: SystemConfig, context: BuildContext, options: dict[str, Any] | None = None):
        self.config, self.name = config, config.name
        generator_options, self.temperature = _sampling(config)
        self.generator = context.generator(config.generator, options or generator_options)
        self.max_tokens = context.max_tokens

    def answer(self, item: EvalItem, seed: int = 0) -> SystemAnswer:
        from ragft.llm.base import GenerationRequest

        request = GenerationRequest(question=item.question, max_tokens=self.max_tokens,
                                    temperature=self.temperature, seed=seed)
        start = time.perf_counter()
        generation, ttft = _generate(self.generator, request, start)
        seconds = time.perf_counter() - start
        timings = {"generate": seconds, "total": seconds, **({} if ttft is None else {"ttft": ttft})}
        return SystemAnswer(answer=generation.text, hits=None, input_tokens=generation.input_tokens,
                            output_tokens=generation.output_tokens, model=generation.model, timings=timings)


class FineTuned(ClosedBook):
    """A tuned model asked closed-book: what it learned is in its weights."""

    kind = "fine-tuned"

    def __init__(self, config: SystemConfig, context: BuildContext):
        super().__init__(config, context, options=_tuned_options(config))


class _Seeded:
    """A generator wrapper fixing each request's seed and temperature (Index.ask builds the request itself);
    it keeps the time to the first answer piece, counted from `started` (retrieval included)."""

    def __init__(self, inner: Any, seed: int, temperature: float, started: float | None = None):
        self.inner, self.seed, self.temperature = inner, seed, temperature
        self.name = inner.name
        self.model = getattr(inner, "model", "") or getattr(inner, "model_name", "")
        self.started = time.perf_counter() if started is None else started
        self.ttft: float | None = None

    def generate(self, request):
        generation, self.ttft = _generate(self.inner, replace(request, seed=self.seed, temperature=self.temperature),
                                          self.started)
        return generation

    def stream(self, request) -> Iterator[str]:
        return self.inner.stream(replace(request, seed=self.seed, temperature=self.temperature))


class Rag:
    """Retrieval from the run's Index, then the generator answers from the top-k chunks with citations."""

    kind = "rag"

    def __init__(self, config: SystemConfig, context: BuildContext, options: dict[str, Any] | None = None):
        if context.index is None:
            raise InputError(f"system {config.name}: {config.kind} needs an index; give docs or a bench")
        from ragft.rag.answering import Answerer

        self.config, self.name = config, config.name
        self.index = context.index_for(config.retriever) if config.retriever else context.index
        self.answerer = Answerer(self.index)
        generator_options, self.temperature = _sampling(config)
        self.generator = context.generator(config.generator, options or generator_options)
        self.max_tokens = context.max_tokens

    def answer(self, item: EvalItem, seed: int = 0) -> SystemAnswer:
        return self.ask(item.question, seed)

    def ask(self, question: str, seed: int = 0) -> SystemAnswer:
        generator = _Seeded(self.generator, seed, self.temperature)
        answer = self.answerer.ask(question, generator=generator, k=self.config.k, mode=self.config.mode,
                                   use_cache=False, max_tokens=self.max_tokens)
        timings = dict(answer.timings) | ({} if generator.ttft is None else {"ttft": generator.ttft})
        contexts = [RetrievedContext(chunk_id=h.chunk.id, doc_id=h.chunk.doc_id, text=h.chunk.text,
                                     score=float(h.score)) for h in answer.hits]
        return SystemAnswer(answer=answer.text, contexts=contexts, hits=list(answer.hits),
                            cited_doc_ids=[c.doc_id for c in answer.citations],
                            input_tokens=answer.input_tokens, output_tokens=answer.output_tokens,
                            model=answer.model, timings=timings)


class Hybrid(Rag):
    """The same retrieval as rag, answered by the tuned model reading the retrieved context."""

    kind = "hybrid"

    def __init__(self, config: SystemConfig, context: BuildContext):
        super().__init__(config, context, options=_tuned_options(config))


for _kind in (ClosedBook, FineTuned, Rag, Hybrid):
    SYSTEMS.register(_kind.kind)(_kind)
