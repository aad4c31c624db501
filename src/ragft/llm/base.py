"""The Generator protocol: a question (and optional retrieved passages) in, an answer out."""
from __future__ import annotations

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


# Built-in backends, imported on first use; other packages add theirs through the `ragft.generators` entry points.
GENERATORS: Registry[Generator] = Registry("generator", group="ragft.generators", builtins={
    "extractive": "ragft.llm.generators.extractive:create_extractive",
    "local": "ragft.llm.generators.local:create_local",
    "openai": "ragft.llm.generators.openai:create_openai",
    "anthropic": "ragft.llm.generators.anthropic:create_anthropic",
    "openai-compatible": "ragft.llm.generators.openai_compatible:create_openai_compatible",
})


def create_generator(name: str, **options) -> Generator:
    return GENERATORS.create(name, **options)
