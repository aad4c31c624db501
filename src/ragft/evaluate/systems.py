"""Systems under test: something the bench can ask a question. One per kind — closed-book (the generator
alone), rag (Index + generator), fine-tuned (the local model with a LoRA adapter, no retrieval) and hybrid
(Index retrieval + the tuned generator reading the context) — each built from a SystemConfig."""
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
    timings: dict[str, float] = field(default_factory=dict)   # seconds: embed, search, generate, total


@runtime_checkable
class System(Protocol):
    name: str
    kind: str
    config: SystemConfig

    def answer(self, item: EvalItem, seed: int = 0) -> SystemAnswer: ...


@dataclass
class BuildContext:
    """What systems share while a run builds them: the index (for retrieving kinds) and loaded generators."""

    index: Any = None
    max_tokens: int = 256
    generators: dict[str, Any] = field(default_factory=dict)

    def generator(self, name: str, options: dict[str, Any]) -> Any:
        """One generator per (name, options): the fine-tuned and hybrid systems share one loaded model."""
        key = json.dumps([name, options], sort_keys=True, default=str)
        if key not in self.generators:
            from ragft.llm import create_generator

            self.generators[key] = create_generator(name, **{k: v for k, v in options.items() if v is not None})
        return self.generators[key]


SYSTEMS: Registry[Callable[..., System]] = Registry("system")


def build_system(config: SystemConfig, context: BuildContext) -> System:
    return SYSTEMS.create(config.kind, config=config, context=context)


def _sampling(config: SystemConfig) -> tuple[dict[str, Any], float]:
    """(options for the generator factory, temperature for each request): temperature is per request."""
    options = dict(config.generator_options)
    temperature = float(options.pop("temperature", 0.0) or 0.0)
    return options, temperature


def _tuned_options(config: SystemConfig) -> dict[str, Any]:
    if config.generator != "local":
        raise InputError(f"system {config.name}: {config.kind} needs generator 'local' (a LoRA adapter on the "
                         f"local model), not '{config.generator}'")
    if not config.adapter:
        raise InputError(f"system {config.name}: {config.kind} needs an adapter; train one with "
                         "`ragft finetune train` and pass --adapter DIR (or adapter = \"DIR\" in the config)")
    from ragft.finetune.manifest import verify_adapter

    manifest = verify_adapter(config.adapter)
    options, _ = _sampling(config)
    return {"base": manifest.base, **options, "adapter": Path(config.adapter)}


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
        generation = self.generator.generate(request)
        seconds = time.perf_counter() - start
        return SystemAnswer(answer=generation.text, hits=None, input_tokens=generation.input_tokens,
                            output_tokens=generation.output_tokens, model=generation.model,
                            timings={"generate": seconds, "total": seconds})


class FineTuned(ClosedBook):
    """The local model with a LoRA adapter, asked closed-book: what it learned is in its weights."""

    kind = "fine-tuned"

    def __init__(self, config: SystemConfig, context: BuildContext):
        super().__init__(config, context, options=_tuned_options(config))


class _Seeded:
    """A generator wrapper fixing each request's seed and temperature (Index.ask builds the request itself)."""

    def __init__(self, inner: Any, seed: int, temperature: float):
        self.inner, self.seed, self.temperature = inner, seed, temperature
        self.name = inner.name
        self.model = getattr(inner, "model", "") or getattr(inner, "model_name", "")

    def generate(self, request):
        return self.inner.generate(replace(request, seed=self.seed, temperature=self.temperature))

    def stream(self, request) -> Iterator[str]:
        return self.inner.stream(replace(request, seed=self.seed, temperature=self.temperature))


class Rag:
    """Retrieval from the run's Index, then the generator answers from the top-k chunks with citations."""

    kind = "rag"

    def __init__(self, config: SystemConfig, context: BuildContext, options: dict[str, Any] | None = None):
        if context.index is None:
            raise InputError(f"system {config.name}: {config.kind} needs an index; give docs or a bench")
        self.config, self.name, self.index = config, config.name, context.index
        generator_options, self.temperature = _sampling(config)
        self.generator = context.generator(config.generator, options or generator_options)
        self.max_tokens = context.max_tokens

    def answer(self, item: EvalItem, seed: int = 0) -> SystemAnswer:
        return self.ask(item.question, seed)

    def ask(self, question: str, seed: int = 0) -> SystemAnswer:
        answer = self.index.ask(question, generator=_Seeded(self.generator, seed, self.temperature),
                                k=self.config.k, mode=self.config.mode, use_cache=False,
                                max_tokens=self.max_tokens)
        contexts = [RetrievedContext(chunk_id=h.chunk.id, doc_id=h.chunk.doc_id, text=h.chunk.text,
                                     score=float(h.score)) for h in answer.hits]
        return SystemAnswer(answer=answer.text, contexts=contexts, hits=list(answer.hits),
                            cited_doc_ids=[c.doc_id for c in answer.citations],
                            input_tokens=answer.input_tokens, output_tokens=answer.output_tokens,
                            model=answer.model, timings=dict(answer.timings))


class Hybrid(Rag):
    """The same retrieval as rag, answered by the tuned local model reading the retrieved context."""

    kind = "hybrid"

    def __init__(self, config: SystemConfig, context: BuildContext):
        super().__init__(config, context, options=_tuned_options(config))


for _kind in (ClosedBook, FineTuned, Rag, Hybrid):
    SYSTEMS.register(_kind.kind)(_kind)
