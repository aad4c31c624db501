"""Name -> factory registries for the pluggable parts (embedders, stores, generators...).

A registry knows three kinds of entries, looked up in this order:
- registered: added in code with `register` (a decorator) or, for the length of a `with`, `registered`;
- built-in: declared once as name -> "module:attr" (or a module that registers the name when imported), imported
  on first use so `import ragft` stays fast;
- plugins: entry points of the registry's group (`ragft.embedders`, ...) in any installed package, read on the
  first lookup of a name not found above (or on `names()`), and loaded only when used.
"""
from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Generic, TypeVar

from ragft.errors import InputError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

T = TypeVar("T")

_MISSING = object()


class Registry(Generic[T]):
    def __init__(self, kind: str, builtins: Mapping[str, str] | None = None, group: str | None = None):
        self.kind = kind
        self.group = group
        self._builtins = dict(builtins or {})
        self._factories: dict[str, Callable[..., T]] = {}
        self._plugins: dict[str, EntryPoint] | None = None     # None until the group is first read

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        def decorator(factory: Callable[..., T]) -> Callable[..., T]:
            self._factories[name] = factory
            return factory

        return decorator

    @contextmanager
    def registered(self, name: str, factory: Callable[..., T]) -> Iterator[Callable[..., T]]:
        """Register `factory` as `name` inside the `with` block; on exit restore what was there before."""
        previous = self._factories.get(name, _MISSING)
        self._factories[name] = factory
        try:
            yield factory
        finally:
            if previous is _MISSING:
                self._factories.pop(name, None)
            else:
                self._factories[name] = previous

    def names(self) -> list[str]:
        return sorted({*self._factories, *self._builtins, *self._entry_points()})

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in self._factories or name in self._builtins
                                          or name in self._entry_points())

    def get(self, name: str) -> Callable[..., T]:
        """The factory registered as `name`, importing its module on first use."""
        factory = self._factories.get(name)
        if factory is not None:
            return factory
        if name in self._builtins:
            factory = self._load_builtin(name, self._builtins[name])
        elif name in self._entry_points():
            factory = self._load_plugin(self._entry_points()[name])
        else:
            close = difflib.get_close_matches(name, self.names(), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise InputError(f"unknown {self.kind} '{name}'{hint}; choose one of: {', '.join(self.names())}")
        self._factories.setdefault(name, factory)
        return self._factories[name]

    def create(self, name: str, **options) -> T:
        return self.get(name)(**options)

    def _load_builtin(self, name: str, target: str) -> Callable[..., T]:
        module, _, attr = target.partition(":")
        loaded = importlib.import_module(module)
        if attr:
            return getattr(loaded, attr)
        if name not in self._factories:       # a module path: importing it must have registered the name
            raise InputError(f"built-in {self.kind} '{name}': importing {module} did not register it")
        return self._factories[name]

    def _load_plugin(self, point: EntryPoint) -> Callable[..., T]:
        try:
            return point.load()
        except Exception as error:  # noqa: BLE001 - a broken plugin: name its package, not a traceback
            package = point.dist.name if point.dist is not None else "an installed package"
            raise InputError(f"{self.kind} '{point.name}' from {package} ({point.value}) failed to load: "
                             f"{type(error).__name__}: {error}; fix or uninstall that package") from None

    def _entry_points(self) -> dict[str, EntryPoint]:
        if self._plugins is None:
            from importlib.metadata import entry_points

            found = entry_points(group=self.group) if self.group else ()
            self._plugins = {point.name: point for point in found}
        return self._plugins
