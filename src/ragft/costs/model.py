"""The cost and latency model: monthly cost = fixed + per-query x volume for each system, break-evens solved exactly.

Pure functions over typed inputs; the eval bench feeds SystemSpec with measured tokens and latencies.
"""
from __future__ import annotations

import math
from itertools import combinations

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ragft.costs.prices import Catalog, GenerationPrice, SelfHostedPrice, first_error, load_catalog
from ragft.errors import InputError

WEEKS_PER_MONTH = 52 / 12
HOURS_PER_MONTH = 730
DEFAULT_TOKENS_PER_S = 60.0
DEFAULT_TTFT_MS = 400.0
DEFAULT_PREFILL_TOKENS_PER_S = 10_000.0
DEFAULT_RETRIEVAL_MS = 100.0
FLOAT32_BYTES = 4


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RetrievalSpec(_Spec):
    """The retrieval half of a RAG or hybrid system: what each query embeds and pulls in, what the index costs."""

    embedding_model: str = "text-embedding-3-small"
    vector_db: str = "lancedb-local"
    k: int = Field(5, ge=1)
    chunk_tokens: float = Field(500, gt=0)
    query_tokens: float | None = Field(None, ge=0, description="tokens embedded per query; default: the prompt")
    corpus_tokens: float = Field(0, ge=0)
    reindex_fraction_per_month: float = Field(0, ge=0, le=1)
    metadata_bytes_per_vector: float = Field(1024, ge=0)
    retrieval_ms: float = Field(DEFAULT_RETRIEVAL_MS, ge=0)

    @property
    def vectors(self) -> int:
        return math.ceil(self.corpus_tokens / self.chunk_tokens)


class TrainingSpec(_Spec):
    """One fine-tuning run (examples x tokens x epochs, or GPU hours when self-hosted) and how often it repeats."""

    examples: int = Field(ge=0)
    tokens_per_example: float = Field(ge=0)
    epochs: float = Field(3, gt=0)
    retrain_every_weeks: float | None = Field(None, gt=0)
    gpu_hours: float | None = Field(None, ge=0)

    @property
    def training_tokens(self) -> float:
        return self.examples * self.tokens_per_example * self.epochs


class SystemSpec(_Spec):
    """One system to price: a generator (base or fine-tuned), optional retrieval, optional training."""

    name: str = Field(min_length=1)
    model: str
    fine_tuned: bool = False
    prompt_tokens: float = Field(200, ge=0, description="system prompt + question, without retrieved chunks")
    output_tokens: float = Field(200, ge=0)
    retrieval: RetrievalSpec | None = None
    training: TrainingSpec | None = None
    amortize_months: float = Field(12, gt=0)
    extra_fixed_monthly_usd: float = Field(0, ge=0)
    ttft_ms: float = Field(DEFAULT_TTFT_MS, ge=0)
    tokens_per_s: float | None = Field(None, gt=0, description="output speed of one stream")
    prefill_tokens_per_s: float = Field(DEFAULT_PREFILL_TOKENS_PER_S, gt=0)

    @model_validator(mode="after")
    def _training_needs_fine_tuning(self) -> SystemSpec:
        if self.training is not None and not self.fine_tuned:
            raise ValueError("training is set but fine_tuned is false; set fine_tuned=True")
        return self

    @property
    def kind(self) -> str:
        if self.retrieval and self.fine_tuned:
            return "hybrid"
        return "rag" if self.retrieval else "fine-tuned" if self.fine_tuned else "base"

    @property
    def input_tokens(self) -> float:
        retrieved = self.retrieval.k * self.retrieval.chunk_tokens if self.retrieval else 0
        return self.prompt_tokens + retrieved


class CostLine(BaseModel):
    item: str
    usd: float
    formula: str


class Latency(BaseModel):
    total_ms: float
    retrieval_ms: float
    first_token_ms: float
    generation_ms: float
    assumptions: list[str]


class SystemCost(BaseModel):
    name: str
    kind: str
    model: str
    fine_tuned: bool
    input_tokens: float
    output_tokens: float
    per_query: list[CostLine]
    fixed_monthly: list[CostLine]
    variable_per_query_usd: float
    fixed_monthly_usd: float
    training_run_usd: float | None
    indexing_run_usd: float | None
    volume_per_month: float
    monthly_usd: float
    per_query_usd: float
    per_1k_queries_usd: float
    latency: Latency
    sources: list[str]
    assumptions: list[str]

    def monthly_at(self, volume: float) -> float:
        return self.fixed_monthly_usd + self.variable_per_query_usd * volume


class BreakEven(BaseModel):
    a: str
    b: str
    volume_per_month: float | None
    cheaper_below: str | None
    cheaper_above: str | None
    reason: str


class CostCurve(BaseModel):
    volumes: list[float]
    monthly_usd: dict[str, list[float]]


class CostReport(BaseModel):
    volume_per_month: float
    systems: list[SystemCost]
    break_evens: list[BreakEven]
    curve: CostCurve
    assumptions: list[str]
    catalog_files: list[str]

    def system(self, name: str) -> SystemCost:
        for cost in self.systems:
            if cost.name == name:
                return cost
        raise KeyError(name)


def usd(value: float) -> str:
    """Dollars with cents, or four significant digits below a dollar ($0.000529)."""
    if abs(value) >= 1 or value == 0:
        return f"${value:,.2f}"
    digits = 3 - math.floor(math.log10(abs(value)))
    text = f"{value:.{digits}f}".rstrip("0")
    return "$" + (text + "0" if len(text.split(".")[1]) < 2 else text)


def _tokens(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def _per_query_lines(spec: SystemSpec, gen: GenerationPrice, catalog: Catalog) -> list[CostLine]:
    prompt = f"{_tokens(spec.prompt_tokens)} prompt"
    if spec.retrieval:
        prompt += f" + {spec.retrieval.k} x {_tokens(spec.retrieval.chunk_tokens)} chunk"
    lines = [
        CostLine(item="generation input", usd=spec.input_tokens * gen.input_per_1m / 1e6,
                 formula=f"({prompt}) tok x {usd(gen.input_per_1m)}/1M"),
        CostLine(item="generation output", usd=spec.output_tokens * gen.output_per_1m / 1e6,
                 formula=f"{_tokens(spec.output_tokens)} tok x {usd(gen.output_per_1m)}/1M"),
    ]
    if spec.retrieval:
        embed = catalog.get("embedding", spec.retrieval.embedding_model, "embedding model")
        db = catalog.get("vector_db", spec.retrieval.vector_db, "vector database")
        query_tokens = spec.prompt_tokens if spec.retrieval.query_tokens is None else spec.retrieval.query_tokens
        lines += [
            CostLine(item="query embedding", usd=query_tokens * embed.per_1m_tokens / 1e6,
                     formula=f"{_tokens(query_tokens)} tok x {usd(embed.per_1m_tokens)}/1M"),
            CostLine(item="vector db query", usd=db.per_1m_queries_usd / 1e6,
                     formula=f"{usd(db.per_1m_queries_usd)}/1M queries"),
        ]
    return lines


def training_run_cost(training: TrainingSpec, gen: GenerationPrice) -> CostLine:
    """One training run: tokens x price on an API, GPU hours x rate when self-hosted."""
    if isinstance(gen.training, SelfHostedPrice):
        row = gen.training
        if training.gpu_hours is not None:
            hours, how = training.gpu_hours, f"{training.gpu_hours:,.2f} GPU h (given)"
        else:
            hours = training.training_tokens / row.training_tokens_per_s / 3600
            how = (f"{training.examples:,} ex x {_tokens(training.tokens_per_example)} tok x "
                   f"{training.epochs:g} ep / {row.training_tokens_per_s:,.0f} tok/s = {hours:,.2f} GPU h")
        return CostLine(item="training run", usd=hours * row.gpu_hour_usd,
                        formula=f"{how} x {usd(row.gpu_hour_usd)}/h")
    if gen.training is None:
        raise InputError(f"model '{gen.model}' has no fine-tuning price; pick a fine-tunable model")
    if training.gpu_hours is not None:
        raise InputError(f"training.gpu_hours applies to self-hosted models only, not '{gen.model}'")
    price = gen.training.training_per_1m
    return CostLine(
        item="training run", usd=training.training_tokens * price / 1e6,
        formula=(f"{training.examples:,} ex x {_tokens(training.tokens_per_example)} tok x "
                 f"{training.epochs:g} ep x {usd(price)}/1M"),
    )


def _training_lines(spec: SystemSpec, run: CostLine) -> list[CostLine]:
    months = spec.amortize_months
    lines = [CostLine(item="training (amortized)", usd=run.usd / months,
                      formula=f"{usd(run.usd)} / {months:g} months")]
    weeks = spec.training.retrain_every_weeks if spec.training else None
    if weeks:
        lines.append(CostLine(item="retraining", usd=run.usd * WEEKS_PER_MONTH / weeks,
                              formula=f"{usd(run.usd)} x (52/12 weeks per month / every {weeks:g} weeks)"))
    return lines


def _retrieval_fixed_lines(spec: SystemSpec, catalog: Catalog) -> tuple[list[CostLine], float]:
    r = spec.retrieval
    embed = catalog.get("embedding", r.embedding_model, "embedding model")
    db = catalog.get("vector_db", r.vector_db, "vector database")
    gb = r.vectors * (embed.dimensions * FLOAT32_BYTES + r.metadata_bytes_per_vector) / 1e9
    index_run = r.corpus_tokens * embed.per_1m_tokens / 1e6 + r.vectors * db.per_1m_writes_usd / 1e6
    lines = [
        CostLine(item="vector db base", usd=db.monthly_fixed_usd, formula=f"{usd(db.monthly_fixed_usd)}/month"),
        CostLine(item="vector db storage", usd=gb * db.per_gb_month_usd,
                 formula=(f"{r.vectors:,} vectors x ({embed.dimensions} x 4 + {_tokens(r.metadata_bytes_per_vector)})"
                          f" B = {gb:,.3f} GB x {usd(db.per_gb_month_usd)}/GB-month")),
        CostLine(item="indexing (amortized)", usd=index_run / spec.amortize_months,
                 formula=(f"({_tokens(r.corpus_tokens)} tok x {usd(embed.per_1m_tokens)}/1M + {r.vectors:,} writes"
                          f" x {usd(db.per_1m_writes_usd)}/1M) / {spec.amortize_months:g} months")),
    ]
    if r.reindex_fraction_per_month:
        lines.append(CostLine(item="re-indexing changed docs", usd=index_run * r.reindex_fraction_per_month,
                              formula=f"{usd(index_run)} x {r.reindex_fraction_per_month:g} of corpus per month"))
    return lines, index_run


def estimate_latency(spec: SystemSpec, gen: GenerationPrice) -> Latency:
    """Retrieval + time to first token (fixed + prefill of the prompt) + output tokens / tokens per second."""
    assumptions = []
    speed = spec.tokens_per_s
    if speed is None:
        if isinstance(gen.training, SelfHostedPrice):
            speed = gen.training.stream_tokens_per_s
            assumptions.append(f"output speed {speed:g} tok/s: single-stream figure of catalog row {gen.model}")
        else:
            speed = DEFAULT_TOKENS_PER_S
            assumptions.append(f"output speed {speed:g} tok/s: assumed for a hosted API model (measure it)")
    else:
        assumptions.append(f"output speed {speed:g} tok/s: given")
    retrieval_ms = spec.retrieval.retrieval_ms if spec.retrieval else 0.0
    if spec.retrieval:
        assumptions.append(f"retrieval {retrieval_ms:g} ms: query embedding + vector search")
    prefill_ms = spec.input_tokens / spec.prefill_tokens_per_s * 1000
    assumptions.append(
        f"first token {spec.ttft_ms:g} ms + {_tokens(spec.input_tokens)} prompt tok / "
        f"{spec.prefill_tokens_per_s:,.0f} tok/s prefill = {spec.ttft_ms + prefill_ms:,.0f} ms"
    )
    generation_ms = spec.output_tokens / speed * 1000
    return Latency(
        total_ms=retrieval_ms + spec.ttft_ms + prefill_ms + generation_ms, retrieval_ms=retrieval_ms,
        first_token_ms=spec.ttft_ms + prefill_ms, generation_ms=generation_ms, assumptions=assumptions,
    )


def system_cost(spec: SystemSpec, volume_per_month: float, catalog: Catalog) -> SystemCost:
    """Price one system at a monthly volume."""
    _check_volume(volume_per_month)
    gen = catalog.generation(spec.model, fine_tuned=spec.fine_tuned)
    per_query = _per_query_lines(spec, gen, catalog)
    fixed: list[CostLine] = []
    index_run = run = None
    if spec.retrieval:
        retrieval_lines, index_run = _retrieval_fixed_lines(spec, catalog)
        fixed += retrieval_lines
    if spec.training:
        run = training_run_cost(spec.training, gen)
        fixed += _training_lines(spec, run)
    if spec.extra_fixed_monthly_usd:
        fixed.append(CostLine(item="other fixed", usd=spec.extra_fixed_monthly_usd, formula="given"))
    variable = sum(line.usd for line in per_query)
    fixed_total = sum(line.usd for line in fixed)
    monthly = fixed_total + variable * volume_per_month
    rows = list(gen.rows)
    if spec.retrieval:
        rows += [catalog.get("embedding", spec.retrieval.embedding_model),
                 catalog.get("vector_db", spec.retrieval.vector_db)]
    return SystemCost(
        name=spec.name, kind=spec.kind, model=spec.model, fine_tuned=spec.fine_tuned,
        input_tokens=spec.input_tokens, output_tokens=spec.output_tokens,
        per_query=per_query, fixed_monthly=fixed, variable_per_query_usd=variable, fixed_monthly_usd=fixed_total,
        training_run_usd=run.usd if run else None, indexing_run_usd=index_run,
        volume_per_month=volume_per_month, monthly_usd=monthly, per_query_usd=monthly / volume_per_month,
        per_1k_queries_usd=monthly / volume_per_month * 1000, latency=estimate_latency(spec, gen),
        sources=[f"{row.name}: {row.provenance}" for row in rows],
        assumptions=_cost_assumptions(spec, gen),
    )


def _cost_assumptions(spec: SystemSpec, gen: GenerationPrice) -> list[str]:
    notes = []
    if isinstance(gen.training, SelfHostedPrice):
        row = gen.training
        notes.append(
            f"{row.name}: tokens priced at {row.output_tokens_per_s:,.0f} output / {row.input_tokens_per_s:,.0f} "
            f"input tok/s on a fully used {row.gpu}; an always-on GPU costs {usd(row.gpu_hour_usd * HOURS_PER_MONTH)}"
            "/month at any volume (add it with --ft-fixed-monthly / extra_fixed_monthly_usd)"
        )
    if spec.retrieval and spec.retrieval.corpus_tokens == 0:
        notes.append("corpus size not given: indexing and storage priced at zero")
    if spec.training and spec.training.retrain_every_weeks is None:
        notes.append(f"no retraining: one training run spread over {spec.amortize_months:g} months")
    return notes


def break_even(a: SystemCost, b: SystemCost) -> BreakEven:
    """The volume where a's and b's monthly cost lines cross: fixed_a + v_a V = fixed_b + v_b V."""
    dv = a.variable_per_query_usd - b.variable_per_query_usd
    df = b.fixed_monthly_usd - a.fixed_monthly_usd
    if dv == 0:
        if df == 0:
            return BreakEven(a=a.name, b=b.name, volume_per_month=None, cheaper_below=None, cheaper_above=None,
                             reason=f"{a.name} and {b.name} cost the same at every volume")
        cheap = a if df > 0 else b
        return BreakEven(
            a=a.name, b=b.name, volume_per_month=None, cheaper_below=cheap.name, cheaper_above=cheap.name,
            reason=(f"never: same per-query cost ({usd(a.variable_per_query_usd)}) and {cheap.name} has lower "
                    f"fixed cost, so it is cheaper at every volume by {usd(abs(df))}/month"),
        )
    volume = df / dv
    low_var, high_var = (a, b) if dv < 0 else (b, a)
    if volume <= 0:
        return BreakEven(
            a=a.name, b=b.name, volume_per_month=None, cheaper_below=low_var.name, cheaper_above=low_var.name,
            reason=(f"never: {high_var.name} per-query cost is higher ({usd(high_var.variable_per_query_usd)} vs "
                    f"{usd(low_var.variable_per_query_usd)}) and its fixed cost is not lower "
                    f"({usd(high_var.fixed_monthly_usd)} vs {usd(low_var.fixed_monthly_usd)}/month), "
                    f"so {low_var.name} is cheaper at every volume"),
        )
    return BreakEven(
        a=a.name, b=b.name, volume_per_month=volume, cheaper_below=high_var.name, cheaper_above=low_var.name,
        reason=(f"{high_var.name} is cheaper below {volume:,.0f} queries/month (lower fixed cost: "
                f"{usd(high_var.fixed_monthly_usd)} vs {usd(low_var.fixed_monthly_usd)}/month), {low_var.name} above "
                f"(lower per-query cost: {usd(low_var.variable_per_query_usd)} vs "
                f"{usd(high_var.variable_per_query_usd)})"),
    )


def default_volumes(volume_per_month: float, extra: list[float] = (), points: int = 41) -> list[float]:
    """Log-spaced volumes from volume/100 to volume*100, plus the given points (e.g. break-evens)."""
    low, high = math.log10(volume_per_month / 100), math.log10(volume_per_month * 100)
    grid = [10 ** (low + (high - low) * i / (points - 1)) for i in range(points)]
    return sorted({*grid, *(v for v in extra if v > 0)})


def monthly_cost_curve(costs: list[SystemCost], volumes: list[float]) -> CostCurve:
    """Monthly cost of each priced system at each volume."""
    for volume in volumes:
        _check_volume(volume)
    return CostCurve(volumes=list(volumes),
                     monthly_usd={c.name: [c.monthly_at(v) for v in volumes] for c in costs})


def _check_volume(volume: float) -> None:
    if not isinstance(volume, (int, float)) or not math.isfinite(volume) or volume <= 0:
        raise InputError(f"volume_per_month must be a positive number of queries per month, got {volume}")


def estimate(
    systems: list[SystemSpec],
    volume_per_month: float,
    catalog: Catalog | None = None,
    volumes: list[float] | None = None,
    assumptions: list[str] = (),
) -> CostReport:
    """Price every system at `volume_per_month`, solve pairwise break-evens, and trace cost against volume."""
    _check_volume(volume_per_month)
    if not systems:
        raise InputError("estimate needs at least one system")
    names = [s.name for s in systems]
    if len(set(names)) != len(names):
        raise InputError(f"system names must be unique, got {', '.join(names)}")
    catalog = catalog or load_catalog()
    costs = [system_cost(spec, volume_per_month, catalog) for spec in systems]
    evens = [break_even(a, b) for a, b in combinations(costs, 2)]
    crossing = [e.volume_per_month for e in evens if e.volume_per_month]
    curve = monthly_cost_curve(costs, volumes or default_volumes(volume_per_month, crossing))
    notes = [*assumptions,
             f"a month is 52/12 = {WEEKS_PER_MONTH:.3f} weeks; one-off costs are spread over the amortization months"]
    return CostReport(volume_per_month=volume_per_month, systems=costs, break_evens=evens, curve=curve,
                      assumptions=notes, catalog_files=list(catalog.files))


def spec_from_dict(data: dict, origin: str) -> SystemSpec:
    """A SystemSpec from plain data (a scenario file, a JSON payload) with a one-line error naming the field."""
    try:
        return SystemSpec.model_validate(data)
    except ValidationError as error:
        field, problem, _ = first_error(error)
        raise InputError(f"{origin}: field '{field}': {problem}") from None
