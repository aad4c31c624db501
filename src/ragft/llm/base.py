"""The Generator protocol: a question (and optional retrieved passages) in, an answer out."""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Iterator, Protocol, runtime_checkable

from ragft.registry import Registry


@dataclass(frozen=True)
class Passage:
    """A retrieved passage handed to a generator; `ref` is the citation number shown to users."""

    ref: int
    chunk_id: str
    text: str
    title: str = ""


@dataclass(frozen=True)
class GenerationRequest:
    question: str
    passages: tuple[Passage, ...] = ()      # empty = closed-book
    system: str | None = None               # None = the default prompt for the mode
    max_tokens: int = 256
    temperature: float = 0.0
    stop: tuple[str, ...] = ()
    seed: int = 0


@dataclass
class Generation:
    text: str
    cited: list[int] = field(default_factory=list)     # Passage.ref values the answer cites
    input_tokens: int = 0
    output_tokens: int = 0
    model: str = ""
    seconds: float = 0.0
    first_token_seconds: float | None = None


@runtime_checkable
class Generator(Protocol):
    name: str

    def generate(self, request: GenerationRequest) -> Generation: ...

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        """Yield text pieces as they are produced; joining them gives `generate(...).text`."""
        ...


GENERATORS: Registry[Generator] = Registry("generator")

# Each backend module registers itself on import; listed here so lookup by name finds it.
_BACKENDS: tuple[str, ...] = (
    "ragft.llm.generators.extractive",
    "ragft.llm.generators.local",
    "ragft.llm.generators.openai",
    "ragft.llm.generators.anthropic",
    "ragft.llm.generators.openai_compatible",
)


def create_generator(name: str, **options) -> Generator:
    for module in _BACKENDS:
        importlib.import_module(module)
    return GENERATORS.create(name, **options)
