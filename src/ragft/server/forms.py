"""The advisor form: one field per Profile answer, built from the Profile model, read back into a Profile."""
from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any

from ragft.advise.profile import ANSWER_FIELDS, Profile

_LABEL_FIELDS = ("name",)


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    allowed: str
    kind: str                   # "text" | "choice"
    choices: tuple[tuple[str, str], ...]
    value: str


def _choices(annotation: Any) -> tuple[tuple[str, str], ...] | None:
    options = [a for a in typing.get_args(annotation) if a is not type(None)]
    if options == [bool]:
        return (("", "leave to data"), ("true", "yes"), ("false", "no"))
    literal = next((a for a in options if typing.get_origin(a) is typing.Literal), None)
    if literal is not None:
        return (("", "leave to data"), *((v, v) for v in typing.get_args(literal)))
    return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def advisor_fields(values: dict[str, Any]) -> list[Field]:
    """The form's fields in the Profile's order, filled with `values` (a submitted form or an example)."""
    fields = []
    for name in (*_LABEL_FIELDS, *ANSWER_FIELDS):
        info = Profile.model_fields[name]
        choices = _choices(info.annotation)
        fields.append(Field(name=name, label=info.description or name, allowed=info.json_schema_extra["allowed"],
                            kind="choice" if choices else "text", choices=choices or (), value=_text(values.get(name))))
    return fields


def profile_from_form(form: dict[str, str]) -> Profile:
    """Blank fields are left to data; the Profile checks the rest and names the field it rejects."""
    from ragft.advise.profile import profile_from_mapping

    known = (*_LABEL_FIELDS, *ANSWER_FIELDS)
    data = {name: form[name].strip() for name in known if form.get(name, "").strip()}
    return profile_from_mapping(data, "form")


def examples() -> list[str]:
    from ragft.advise.examples import example_names

    return example_names()


def example_values(name: str) -> dict[str, Any]:
    from ragft.advise.examples import example_data

    return example_data(name)
