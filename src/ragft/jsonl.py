"""JSON Lines: one JSON value per line, blank lines skipped, and one wording for a line that is not JSON."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ragft.errors import InputError


class BadLine(InputError):
    """A JSONL line that is not one JSON object; `where` is "path:line", `reason` the rest of the message."""

    def __init__(self, where: str, reason: str):
        super().__init__(f"{where}: {reason}")
        self.where, self.reason = where, reason


def parse_value(line: str, where: str) -> Any:
    """The JSON value on one line; `BadLine` naming `where` (path:line) when it is not JSON."""
    try:
        return json.loads(line)
    except json.JSONDecodeError as error:
        raise BadLine(where, f"not valid JSON ({error.msg} at column {error.colno}); "
                             "each line must be one JSON object") from None


def parse_object(line: str, where: str) -> dict[str, Any]:
    """The JSON object on one line; `BadLine` when it is not JSON or not an object."""
    record = parse_value(line, where)
    if not isinstance(record, dict):
        raise BadLine(where, f"expected a JSON object per line, got {type(record).__name__}")
    return record


def objects(text: str, source: object) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of `text`, read from `source` (named in errors)."""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield number, parse_object(line, f"{source}:{number}")
