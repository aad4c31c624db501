"""The price catalog: sourced, dated price rows loaded from catalog.toml, merged with a user's own file."""
from __future__ import annotations

import datetime as dt
import difflib
import tomllib
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ragft.errors import InputError, NotFoundError

Tokenizer = Literal["cl100k_base", "o200k_base", "chars/4"]


class PriceRow(BaseModel):
    """Fields every row carries: where the price came from and how sure we are of it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    source: str = Field(min_length=1)
    as_of: dt.date
    confidence: Literal["recalled", "verify", "user"] = "user"
    note: str = ""

    @property
    def provenance(self) -> str:
        flag = " (as recalled, verify)" if self.confidence == "verify" else ""
        return f"{self.source} as of {self.as_of.isoformat()}{flag}"


class EmbeddingPrice(PriceRow):
    provider: str
    per_1m_tokens: float = Field(ge=0)
    dimensions: int = Field(gt=0)
    tokenizer: Tokenizer


class ChatPrice(PriceRow):
    provider: str
    input_per_1m: float = Field(ge=0)
    output_per_1m: float = Field(ge=0)
    tokenizer: Tokenizer


class FineTuningPrice(PriceRow):
    """Training price per 1M training tokens and the fine-tuned model's inference prices."""

    provider: str
    training_per_1m: float = Field(ge=0)
    input_per_1m: float = Field(ge=0)
    output_per_1m: float = Field(ge=0)


class SelfHostedPrice(PriceRow):
    """A model you serve on a rented GPU: cost per token follows from the GPU-hour rate and throughput."""

    gpu: str
    gpu_hour_usd: float = Field(ge=0)
    output_tokens_per_s: float = Field(gt=0)
    input_tokens_per_s: float = Field(gt=0)
    training_tokens_per_s: float = Field(gt=0)
    stream_tokens_per_s: float = Field(gt=0)
    tokenizer: Tokenizer

    def per_1m(self, tokens_per_s: float) -> float:
        return self.gpu_hour_usd * 1_000_000 / (tokens_per_s * 3600)


class VectorDBPrice(PriceRow):
    monthly_fixed_usd: float = Field(ge=0)
    per_gb_month_usd: float = Field(ge=0)
    per_1m_queries_usd: float = Field(ge=0)
    per_1m_writes_usd: float = Field(ge=0)


SECTIONS: dict[str, type[PriceRow]] = {
    "embedding": EmbeddingPrice,
    "chat": ChatPrice,
    "fine_tuning": FineTuningPrice,
    "self_hosted": SelfHostedPrice,
    "vector_db": VectorDBPrice,
}


class GenerationPrice(BaseModel):
    """What one generated answer is billed at, whichever kind of row it came from."""

    model_config = ConfigDict(frozen=True)

    model: str
    fine_tuned: bool
    input_per_1m: float
    output_per_1m: float
    tokenizer: Tokenizer
    training: FineTuningPrice | SelfHostedPrice | None
    rows: tuple[PriceRow, ...]


class Catalog(BaseModel):
    model_config = ConfigDict(frozen=True)

    embedding: dict[str, EmbeddingPrice] = {}
    chat: dict[str, ChatPrice] = {}
    fine_tuning: dict[str, FineTuningPrice] = {}
    self_hosted: dict[str, SelfHostedPrice] = {}
    vector_db: dict[str, VectorDBPrice] = {}
    files: tuple[str, ...] = ()

    def rows(self) -> list[tuple[str, PriceRow]]:
        return [(section, row) for section in SECTIONS for row in getattr(self, section).values()]

    def get(self, section: str, name: str, what: str | None = None) -> PriceRow:
        table: dict[str, PriceRow] = getattr(self, section)
        if name in table:
            return table[name]
        raise _unknown(what or section.replace("_", " "), name, list(table))

    def generation(self, model: str, fine_tuned: bool = False) -> GenerationPrice:
        """Inference prices of `model` (a chat model, or a self-hosted one), base or fine-tuned."""
        if model in self.self_hosted:
            row = self.self_hosted[model]
            return GenerationPrice(
                model=model, fine_tuned=fine_tuned, tokenizer=row.tokenizer, training=row, rows=(row,),
                input_per_1m=row.per_1m(row.input_tokens_per_s),
                output_per_1m=row.per_1m(row.output_tokens_per_s),
            )
        if fine_tuned:
            if model not in self.fine_tuning:
                raise _unknown("fine-tunable model", model, [*self.fine_tuning, *self.self_hosted])
            ft = self.fine_tuning[model]
            chat = self.chat.get(model)
            return GenerationPrice(
                model=model, fine_tuned=True, input_per_1m=ft.input_per_1m, output_per_1m=ft.output_per_1m,
                tokenizer=chat.tokenizer if chat else "cl100k_base", training=ft,
                rows=(ft, chat) if chat else (ft,),
            )
        if model not in self.chat:
            raise _unknown("chat model", model, [*self.chat, *self.self_hosted])
        chat = self.chat[model]
        return GenerationPrice(
            model=model, fine_tuned=False, input_per_1m=chat.input_per_1m, output_per_1m=chat.output_per_1m,
            tokenizer=chat.tokenizer, training=None, rows=(chat,),
        )


def first_error(error: ValidationError) -> tuple[str, str, object]:
    """The field, problem and given value of a validation error's first complaint, for one-line messages."""
    first = error.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "value"
    problem = "missing column" if first["type"] == "missing" else first["msg"].lower()
    return field, problem, first.get("input")


def _unknown(what: str, name: str, names: list[str]) -> NotFoundError:
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.4)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    return NotFoundError(
        f"unknown {what} '{name}'{hint}; the catalog has: {', '.join(sorted(names))} "
        "(add your own with --prices FILE)"
    )


def _parse(data: dict, origin: str, default_confidence: str) -> dict[str, dict[str, PriceRow]]:
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise InputError(
            f"{origin}: unknown section [[{unknown[0]}]]; use one of: {', '.join(SECTIONS)}"
        )
    parsed: dict[str, dict[str, PriceRow]] = {}
    for section, model in SECTIONS.items():
        rows = data.get(section, [])
        if not isinstance(rows, list):
            raise InputError(f"{origin}: '{section}' must be an array of tables ([[{section}]])")
        table: dict[str, PriceRow] = {}
        for index, raw in enumerate(rows, start=1):
            table_row = {"confidence": default_confidence, **raw}
            label = f"[[{section}]] #{index} ({raw.get('name', 'no name')})"
            try:
                row = model.model_validate(table_row)
            except ValidationError as error:
                field, problem, _ = first_error(error)
                raise InputError(f"{origin}: {label}: field '{field}': {problem}") from None
            table[row.name] = row
        parsed[section] = table
    return parsed


def _read_toml(path: Path) -> dict:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise NotFoundError(f"price file {path} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"{path}: not valid TOML: {error}") from None


def load_catalog(overrides: str | Path | list[str | Path] | None = None) -> Catalog:
    """The shipped catalog, with each override file's rows replacing same-named rows or adding new ones."""
    shipped = resources.files("ragft.costs").joinpath("catalog.toml")
    tables = _parse(tomllib.loads(shipped.read_text(encoding="utf-8")), "catalog.toml", "recalled")
    files = ["ragft/costs/catalog.toml"]
    paths = [] if overrides is None else overrides if isinstance(overrides, list) else [overrides]
    for path in map(Path, paths):
        for section, rows in _parse(_read_toml(path), str(path), "user").items():
            tables[section] = {**tables[section], **rows}
        files.append(str(path))
    return Catalog(**tables, files=tuple(files))
