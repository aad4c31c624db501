"""Reading advise inputs (TOML/YAML/JSON files, mappings) into validated models with one-line errors."""
from __future__ import annotations

import difflib
import json
import tomllib
import typing
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ragft.errors import InputError, NotFoundError

M = TypeVar("M", bound=BaseModel)

_SUFFIXES = (".toml", ".yaml", ".yml", ".json")


def read_mapping(path: str | Path, what: str) -> dict[str, Any]:
    """The top-level table of a TOML, YAML or JSON file; `what` names the file's role in messages."""
    path = Path(path)
    if path.suffix.lower() not in _SUFFIXES:
        raise InputError(f"{what} file '{path}' must end in .toml, .yaml, .yml or .json")
    if not path.is_file():
        raise NotFoundError(f"{what} file '{path}' not found: check the path")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() == ".toml":
            data = tomllib.loads(text)
        elif path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception as error:  # the parsers' own error types differ; all mean "malformed"
        reason = " ".join(str(error).split())
        raise InputError(f"{path}: not valid {path.suffix.lstrip('.').upper()}: {reason}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a table of keys at the top level, got {type(data).__name__}")
    return data


def validated(model: type[M], data: dict[str, Any], where: str, names: dict[str, str] | None = None,
              hidden_root: str | None = None) -> M:
    """`model` built from `data`; a ValidationError becomes one InputError line naming `where` and the field
    (its flag in `names`; `hidden_root` is a wrapper key the file does not show)."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InputError(_one_line(model, error, where, names or {}, hidden_root)) from None


def _one_line(model: type[BaseModel], error: ValidationError, where: str, names: dict[str, str],
              hidden_root: str | None) -> str:
    first = error.errors()[0]
    loc = [str(part) for part in first["loc"]]
    field = ".".join(loc[1:] if loc and loc[0] == hidden_root else loc)
    shown = names.get(field, field)
    prefix = f"{where}: " if where else ""
    if first["type"] == "extra_forbidden":
        return prefix + _unknown_key(model, loc, shown)
    if loc and loc[-1] == "[key]":
        return prefix + _unknown_key(model, [*loc[:-2], str(first["input"])], str(first["input"]))
    allowed = _allowed(model, loc) or first["msg"].lower().removeprefix("input should be ")
    return f"{prefix}{shown} = {first['input']!r} is invalid: expected {allowed}"


def _unknown_key(model: type[BaseModel], loc: list[str], shown: str) -> str:
    known = _known_keys(model, loc[:-1])
    close = difflib.get_close_matches(loc[-1], known, n=1, cutoff=0.5)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown key '{shown}'{hint}; known keys: {', '.join(known)}"


def _resolve(model: type[BaseModel], loc: list[str]) -> tuple[Any, Any]:
    """(FieldInfo, type) at `loc`, walking nested models and the values of dicts; (None, None) if lost."""
    current: Any = model
    info = None
    for part in loc:
        if typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return None, None
        info = fields[part]
        current = info.annotation
    return info, current


def _known_keys(model: type[BaseModel], parent: list[str]) -> list[str]:
    current = _resolve(model, parent)[1] if parent else model
    if typing.get_origin(current) is dict:
        return [str(key) for key in typing.get_args(typing.get_args(current)[0])]
    fields = getattr(current, "model_fields", None)
    return sorted(fields) if fields else []


def _allowed(model: type[BaseModel], loc: list[str]) -> str | None:
    info = _resolve(model, loc)[0]
    extra = info.json_schema_extra if info is not None else None
    return extra.get("allowed") if isinstance(extra, dict) else None
