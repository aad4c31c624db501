"""A tiny name -> factory registry shared by the pluggable parts (embedders, stores, generators...)."""
from __future__ import annotations

import difflib
from typing import Callable, Generic, TypeVar

from ragft.errors import InputError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str):
        self.kind = kind
        self._factories: dict[str, Callable[..., T]] = {}

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        def decorator(factory: Callable[..., T]) -> Callable[..., T]:
            self._factories[name] = factory
            return factory

        return decorator

    def names(self) -> list[str]:
        return sorted(self._factories)

    def create(self, name: str, **options) -> T:
        factory = self._factories.get(name)
        if factory is None:
            close = difflib.get_close_matches(name, self.names(), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise InputError(
                f"unknown {self.kind} '{name}'{hint}; choose one of: {', '.join(self.names())}"
            )
        return factory(**options)
