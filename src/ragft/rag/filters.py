"""Metadata filters on chunks (`where=`): shared by every store and by BM25 so both filter alike.

Keys `doc_id`, `title` and `source` match the chunk field (source: `metadata["source"]`); any other key
matches `chunk.metadata[key]`. A value ending in `*` is a prefix match; a list/tuple matches any of its
values; `prefix` matches the start of the doc id or of the source path.
"""
from __future__ import annotations

from typing import Any, Callable

from ragft.errors import InputError
from ragft.rag.document import Chunk

Where = dict[str, Any]
Predicate = Callable[[Chunk], bool]


def field_value(chunk: Chunk, key: str) -> Any:
    if key in ("doc_id", "title", "id"):
        return getattr(chunk, key)
    return chunk.metadata.get(key)


def _value_matcher(expected: Any) -> Callable[[Any], bool]:
    if isinstance(expected, (list, tuple, set, frozenset)):
        matchers = [_value_matcher(value) for value in expected]
        return lambda actual: any(match(actual) for match in matchers)
    if isinstance(expected, str) and expected.endswith("*"):
        head = expected[:-1]
        return lambda actual: isinstance(actual, str) and actual.startswith(head)
    return lambda actual: actual == expected or (actual is not None and str(actual) == str(expected))


def compile_where(where: Where | None) -> Predicate | None:
    """A predicate that is true for the chunks `where` keeps (None when there is nothing to filter)."""
    if not where:
        return None
    if not isinstance(where, dict):
        raise InputError(f"where: expected a mapping of field to value, got {type(where).__name__}")
    tests: list[Predicate] = []
    for key, expected in where.items():
        if key == "prefix":
            prefixes = tuple(expected) if isinstance(expected, (list, tuple)) else (str(expected),)
            tests.append(
                lambda chunk, p=prefixes: chunk.doc_id.startswith(p)
                or str(chunk.metadata.get("source", "")).startswith(p)
            )
        else:
            match = _value_matcher(expected)
            tests.append(lambda chunk, k=key, m=match: m(field_value(chunk, k)))
    return lambda chunk: all(test(chunk) for test in tests)


def parse_where(pairs: list[str] | None) -> Where | None:
    """`key=value` strings from the command line into a where mapping (repeated keys: any of the values)."""
    if not pairs:
        return None
    where: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--where {pair!r}: expected key=value, e.g. --where doc_id=faq/general.rst.txt")
        key = key.strip()
        if key in where:
            previous = where[key]
            where[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            where[key] = value
    return where
