"""Cost scenarios: the flag-level inputs that build the RAG / fine-tuned / hybrid trio, scenario files,
and the seed document's claims checked against what its own numbers imply."""
from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Callable

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ragft.costs.model import (
    CostReport, RetrievalSpec, SystemSpec, TrainingSpec, estimate, spec_from_dict, usd,
)
from ragft.costs.prices import Catalog, first_error, load_catalog
from ragft.errors import InputError, NotFoundError


class CostInputs(BaseModel):
    """The few numbers that price the three standard systems (the `ragft cost` flags)."""

    model_config = ConfigDict(extra="forbid")

    volume: float = Field(100_000, gt=0)
    model: str = "gpt-4o-mini"
    ft_model: str | None = None
    embedding_model: str = "text-embedding-3-small"
    vector_db: str = "lancedb-local"
    k: int = Field(5, ge=1)
    chunk_tokens: float = Field(500, gt=0)
    prompt_tokens: float = Field(200, ge=0)
    ft_prompt_tokens: float | None = Field(None, ge=0)
    output_tokens: float = Field(200, ge=0)
    examples: int = Field(1000, ge=0)
    example_tokens: float = Field(500, ge=0)
    epochs: float = Field(3, gt=0)
    retrain_weeks: float | None = Field(None, gt=0)
    amortize_months: float = Field(12, gt=0)
    corpus_tokens: float = Field(0, ge=0)
    reindex_fraction: float = Field(0, ge=0, le=1)
    retrieval_ms: float = Field(100, ge=0)
    ttft_ms: float = Field(400, ge=0)
    tokens_per_s: float | None = Field(None, gt=0)
    ft_fixed_monthly: float = Field(0, ge=0, description="e.g. an always-on GPU for a self-hosted model")


def validate_inputs(data: dict, origin: str = "inputs") -> CostInputs:
    try:
        return CostInputs.model_validate(data)
    except ValidationError as error:
        field, problem, given = first_error(error)
        where = f"--{field.replace('_', '-')}" if origin == "flags" else f"{origin}: field '{field}'"
        raise InputError(f"{where}: {problem}, got {given!r}") from None


def standard_systems(inputs: CostInputs) -> list[SystemSpec]:
    """RAG on the base model, the fine-tuned model with a short prompt, and both together."""
    ft_model = inputs.ft_model or inputs.model
    retrieval = RetrievalSpec(
        embedding_model=inputs.embedding_model, vector_db=inputs.vector_db, k=inputs.k,
        chunk_tokens=inputs.chunk_tokens, corpus_tokens=inputs.corpus_tokens,
        reindex_fraction_per_month=inputs.reindex_fraction, retrieval_ms=inputs.retrieval_ms,
    )
    training = TrainingSpec(examples=inputs.examples, tokens_per_example=inputs.example_tokens,
                            epochs=inputs.epochs, retrain_every_weeks=inputs.retrain_weeks)
    common = dict(output_tokens=inputs.output_tokens, amortize_months=inputs.amortize_months,
                  ttft_ms=inputs.ttft_ms, tokens_per_s=inputs.tokens_per_s)
    ft_prompt = inputs.prompt_tokens if inputs.ft_prompt_tokens is None else inputs.ft_prompt_tokens
    return [
        SystemSpec(name="rag", model=inputs.model, prompt_tokens=inputs.prompt_tokens, retrieval=retrieval, **common),
        SystemSpec(name="fine-tuned", model=ft_model, fine_tuned=True, prompt_tokens=ft_prompt,
                   training=training, extra_fixed_monthly_usd=inputs.ft_fixed_monthly, **common),
        SystemSpec(name="hybrid", model=ft_model, fine_tuned=True, prompt_tokens=inputs.prompt_tokens,
                   retrieval=retrieval, training=training, extra_fixed_monthly_usd=inputs.ft_fixed_monthly, **common),
    ]


def measure_inputs(
    inputs: CostInputs,
    catalog: Catalog,
    prompts: str | Path | None = None,
    docs: str | Path | None = None,
    train: str | Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[CostInputs, list[str]]:
    """Replace assumed token counts with ones measured from files; returns the inputs and how each was counted."""
    from ragft.costs.tokens import counter_for, measure_corpus, measure_prompts, measure_training_set

    update: dict = {}
    notes: list[str] = []

    def counter(tokenizer: str, what: str):
        count = counter_for(tokenizer)
        notes.append(f"{what} counted with {count.method}" + (f" ({count.deviation})" if count.deviation else ""))
        return count

    if prompts is not None:
        sample = measure_prompts(prompts, counter(catalog.generation(inputs.model).tokenizer, "prompts"))
        update["prompt_tokens"] = sample.mean_tokens
        notes.append(f"prompt tokens {sample.mean_tokens:,.1f} = mean of {sample.prompts} prompts in {sample.path}")
    if docs is not None:
        embed = catalog.get("embedding", inputs.embedding_model, "embedding model")
        corpus = measure_corpus(docs, counter(embed.tokenizer, "corpus"), progress)
        update["corpus_tokens"] = corpus.tokens
        notes.append(f"corpus {corpus.tokens:,} tokens in {corpus.files} files under {corpus.path}"
                     + (f" ({corpus.skipped_files} non-text files skipped)" if corpus.skipped_files else ""))
    if train is not None:
        ft = catalog.generation(inputs.ft_model or inputs.model, fine_tuned=True)
        data = measure_training_set(train, counter(ft.tokenizer, "training examples"))
        update |= {"examples": data.examples, "example_tokens": data.mean_tokens}
        notes.append(f"training set {data.examples:,} examples x {data.mean_tokens:,.1f} tokens from {data.path}")
    return inputs.model_copy(update=update), notes


class Scenario(BaseModel):
    name: str
    description: str = ""
    inputs: CostInputs
    extra_systems: list[SystemSpec] = []
    claims: dict[str, float | list[float]] = {}


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A shipped scenario by name (`seed`) or a scenario TOML file."""
    path = Path(name_or_path)
    if path.suffix == ".toml":
        if not path.is_file():
            raise NotFoundError(f"scenario file {path} does not exist")
        origin, text = str(path), path.read_text(encoding="utf-8")
    else:
        shipped = resources.files("ragft.costs").joinpath("scenarios", f"{name_or_path}.toml")
        if not shipped.is_file():
            names = sorted(p.name[:-5] for p in resources.files("ragft.costs").joinpath("scenarios").iterdir()
                           if p.name.endswith(".toml"))
            raise NotFoundError(f"unknown scenario '{name_or_path}'; shipped: {', '.join(names)} (or a .toml path)")
        origin, text = f"scenarios/{name_or_path}.toml", shipped.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"{origin}: not valid TOML: {error}") from None
    return Scenario(
        name=data.get("name", path.stem), description=data.get("description", ""),
        inputs=validate_inputs(data.get("inputs", {}), f"{origin} [inputs]"),
        extra_systems=[spec_from_dict(s, f"{origin} [[extra_systems]] #{i}")
                       for i, s in enumerate(data.get("extra_systems", []), start=1)],
        claims=data.get("claims", {}),
    )


class Finding(BaseModel):
    """One claim of the source text set against what its own numbers (or the catalog) imply."""

    topic: str
    claim: str
    computed: str
    holds: bool


class ScenarioResult(BaseModel):
    scenario: str
    description: str
    inputs: CostInputs
    report: CostReport
    findings: list[Finding]


def run_scenario(scenario: Scenario, catalog: Catalog | None = None) -> ScenarioResult:
    catalog = catalog or load_catalog()
    systems = [*standard_systems(scenario.inputs), *scenario.extra_systems]
    report = estimate(systems, scenario.inputs.volume, catalog)
    findings = check_claims(scenario.claims, scenario.inputs, report, catalog) if scenario.claims else []
    return ScenarioResult(scenario=scenario.name, description=scenario.description, inputs=scenario.inputs,
                          report=report, findings=findings)


def _range(value: float | list[float]) -> tuple[float, float]:
    return (value, value) if isinstance(value, (int, float)) else (value[0], value[-1])


def _crossing(fixed: float, rag_var: float, ft_var: float) -> float | None:
    """Volume where `fixed + ft_var V = rag_var V`; None when fine-tuning never catches up."""
    return fixed / (rag_var - ft_var) if rag_var > ft_var else None


def _volume(value: float | None) -> str:
    return "never" if value is None else f"{value:,.0f}/month"


def _break_even_q4(claims: dict) -> Finding:
    rag = _range(claims["rag_per_query_usd"])
    ft = [m / 100_000 for m in _range(claims["ft_monthly_at_100k_usd"])]
    fixed = _range(claims["ft_training_monthly_usd"])
    mid = _crossing(sum(fixed) / 2, sum(rag) / 2, sum(ft) / 2)
    corners = [_crossing(f, r, v) for f in fixed for r in rag for v in ft]
    finite = [c for c in corners if c is not None]
    target = claims["break_even_queries_per_month"]
    spread = (f"; over the range corners it crosses only at {_volume(min(finite))} to {_volume(max(finite))}"
              if finite else "; at no corner of the ranges does it cross")
    rag_mid, ft_mid, fixed_mid = sum(rag) / 2, sum(ft) / 2, sum(fixed) / 2
    return Finding(
        topic="break-even (question 4 figures)",
        claim=f"break-even around {target:,.0f} queries/month",
        computed=(f"RAG {usd(rag_mid)}/query vs fine-tuned {usd(ft_mid)}/query + {usd(fixed_mid)}/month training "
                  f"(midpoints): break-even {_volume(mid)}{spread}; at {target:,.0f}/month RAG costs "
                  f"{usd(rag_mid * target)} and fine-tuning {usd(fixed_mid + ft_mid * target)}"),
        holds=mid is not None and 0.5 * target <= mid <= 2 * target,
    )


def _break_even_table(claims: dict) -> Finding:
    rag = [v / 1000 for v in _range(claims["table_rag_per_1k_usd"])]
    ft = claims["table_ft_per_1k_usd"] / 1000
    fixed = _range(claims["ft_training_monthly_usd"])
    crossings = [_crossing(f, r, ft) for f in fixed for r in rag]
    target = claims["break_even_queries_per_month"]
    finite = [c for c in crossings if c is not None]
    return Finding(
        topic="break-even (production table)",
        claim=f"break-even around {target:,.0f} queries/month",
        computed=(f"RAG {usd(rag[0])}-{usd(rag[1])}/query vs fine-tuned {usd(ft)}/query + {usd(fixed[0])}-"
                  f"{usd(fixed[1])}/month training: break-even between {_volume(min(finite))} and "
                  f"{_volume(max(finite))}"),
        holds=bool(finite) and min(finite) <= target <= max(finite),
    )


def _per_query_consistency(claims: dict) -> list[Finding]:
    rag_q4, rag_table = _range(claims["rag_per_query_usd"]), [v / 1000 for v in _range(claims["table_rag_per_1k_usd"])]
    ft_q4 = [m / 100_000 for m in _range(claims["ft_monthly_at_100k_usd"])]
    ft_table = claims["table_ft_per_1k_usd"] / 1000
    overlap = (max(rag_q4[0], rag_table[0]), min(rag_q4[1], rag_table[1]))
    return [
        Finding(topic="fine-tuned cost per query",
                claim=f"question 4: {usd(ft_q4[0])}-{usd(ft_q4[1])}/query; table: {usd(ft_table)}/query",
                computed=f"the two differ by {ft_q4[0] / ft_table:.0f}x to {ft_q4[1] / ft_table:.0f}x",
                holds=ft_q4[0] <= ft_table <= ft_q4[1]),
        Finding(topic="RAG cost per query",
                claim=f"question 4: {usd(rag_q4[0])}-{usd(rag_q4[1])}/query; table: {usd(rag_table[0])}-"
                      f"{usd(rag_table[1])}/query",
                computed=(f"they overlap only at {usd(overlap[0])}-{usd(overlap[1])}" if overlap[0] <= overlap[1]
                          else "they do not overlap"),
                holds=overlap[0] <= overlap[1]),
    ]


def _per_token(claims: dict, inputs: CostInputs) -> Finding:
    low, high = _range(claims["ft_per_token_usd"])
    prompt = inputs.prompt_tokens if inputs.ft_prompt_tokens is None else inputs.ft_prompt_tokens
    tokens = prompt + inputs.output_tokens
    monthly = _range(claims["ft_monthly_at_100k_usd"])
    per_query = (low * tokens, high * tokens)
    return Finding(
        topic="fine-tuned price per token",
        claim=f"{usd(low)}-{usd(high)} per token at inference",
        computed=(f"x {tokens:,.0f} tokens/query = {usd(per_query[0])}-{usd(per_query[1])}/query, "
                  f"{usd(per_query[0] * 100_000)}-{usd(per_query[1] * 100_000)}/month at 100k queries, "
                  f"not the stated {usd(monthly[0])}-{usd(monthly[1])}; catalog fine-tuned prices are per 1M tokens"),
        holds=monthly[0] <= per_query[0] * 100_000 <= monthly[1],
    )


def _training(claims: dict, inputs: CostInputs, catalog: Catalog) -> list[Finding]:
    tokens = inputs.examples * inputs.example_tokens
    low, high = _range(claims["claude_training_per_1m"])
    claimed = _range(claims["training_100k_x_500_usd"])
    per_epoch = (tokens * low / 1e6, tokens * high / 1e6)
    a100 = catalog.self_hosted.get("self-hosted-7b-a100")
    findings = [Finding(
        topic="training cost, 100k x 500 tokens",
        claim=f"{usd(claimed[0])}-{usd(claimed[1])} at {usd(low)}/{usd(high)} per 1M tokens",
        computed=(f"{tokens / 1e6:,.0f}M tokens per epoch x {usd(low)}/1M = {usd(per_epoch[0])}, x {usd(high)}/1M = "
                  f"{usd(per_epoch[1])}; the range holds only for 1-2 epochs at the lower price. "
                  f"{usd(low)}/{usd(high)} per 1M is Claude Sonnet's inference list price (catalog), not a training "
                  "price; Anthropic's own API sells no fine-tuning (Claude 3 Haiku was tunable on Amazon Bedrock, "
                  "as recalled)"),
        holds=claimed[0] <= per_epoch[0] <= claimed[1],
    )]
    if a100:
        hours = tokens / a100.training_tokens_per_s / 3600
        cost = hours * a100.gpu_hour_usd
        seven = _range(claims["training_7b_usd"])
        findings.append(Finding(
            topic="training cost, 7B model",
            claim=f"{usd(seven[0])}-{usd(seven[1])} to fine-tune a 7B model",
            computed=(f"LoRA on {a100.gpu}: {tokens / 1e6:,.0f}M tokens / {a100.training_tokens_per_s:,.0f} tok/s = "
                      f"{hours:,.1f} GPU h x {usd(a100.gpu_hour_usd)}/h = {usd(cost)} per epoch; the claim buys "
                      f"{seven[0] / a100.gpu_hour_usd:,.0f}-{seven[1] / a100.gpu_hour_usd:,.0f} GPU hours, and "
                      f"contradicts the same text's {usd(claimed[0])}-{usd(claimed[1])} for the same data"),
            holds=seven[0] <= cost <= seven[1],
        ))
    ten_k = _range(claims["training_10k_examples_usd"])
    small = 10_000 * inputs.example_tokens
    runs = {name: small * row.training_per_1m / 1e6 for name, row in catalog.fine_tuning.items()}
    runs |= {name: small / row.training_tokens_per_s / 3600 * row.gpu_hour_usd
             for name, row in catalog.self_hosted.items()}
    inside = [name for name, cost in runs.items() if ten_k[0] <= cost <= ten_k[1]]
    seven_b = [name for name in catalog.self_hosted if name in inside]
    findings.append(Finding(
        topic="training cost, 7B on 10k examples",
        claim=f"{usd(ten_k[0])}-{usd(ten_k[1])} to train a 7B model on 10k examples",
        computed=(f"{small / 1e6:,.0f}M tokens, one epoch: " + ", ".join(f"{n} {usd(c)}" for n, c in runs.items())
                  + (f"; within the claim: {', '.join(inside)}" if inside else "; none within the claim")),
        holds=bool(seven_b),
    ))
    return findings


def _premium(claims: dict, catalog: Catalog) -> Finding:
    low, high = _range(claims["ft_inference_premium"])
    ratios = {name: (row.input_per_1m / catalog.chat[name].input_per_1m,
                     row.output_per_1m / catalog.chat[name].output_per_1m)
              for name, row in catalog.fine_tuning.items() if name in catalog.chat}
    values = [r for pair in ratios.values() for r in pair]
    return Finding(
        topic="fine-tuned inference premium",
        claim=f"fine-tuned models cost {low:.0%}-{high:.0%} more per token",
        computed="catalog fine-tuned/base price: " + ", ".join(f"{n} {i:.2g}x" for n, (i, _) in ratios.items()),
        holds=all(1 + low <= r <= 1 + high for r in values),
    )


def _latency(claims: dict, report: CostReport) -> Finding:
    added = _range(claims["rag_added_latency_s"])
    search = _range(claims["search_ms"])
    rag, ft = report.system("rag"), report.system("fine-tuned")
    gap = (rag.latency.total_ms - ft.latency.total_ms) / 1000
    return Finding(
        topic="latency added by RAG",
        claim=f"RAG adds {added[0]:g}-{added[1]:g} s, with search at {search[0]:g}-{search[1]:g} ms",
        computed=(f"RAG {rag.latency.total_ms / 1000:.2f} s vs fine-tuned {ft.latency.total_ms / 1000:.2f} s: "
                  f"{gap:.2f} s more (search + prefill of {rag.input_tokens - ft.input_tokens:,.0f} retrieved tokens);"
                  f" a {search[0]:g}-{search[1]:g} ms search cannot by itself add {added[0]:g}-{added[1]:g} s"),
        holds=added[0] <= gap <= added[1],
    )


def _catalog_monthly(claims: dict, report: CostReport) -> list[Finding]:
    findings = []
    for system, key in (("rag", "rag_monthly_at_100k_usd"), ("fine-tuned", "ft_monthly_at_100k_usd")):
        low, high = _range(claims[key])
        cost = report.system(system)
        at_100k = cost.monthly_at(100_000)
        findings.append(Finding(
            topic=f"{system} monthly cost at 100k queries (catalog prices)",
            claim=f"{usd(low)}-{usd(high)} per month",
            computed=(f"{cost.model}{' fine-tuned' if cost.fine_tuned else ''}: {usd(cost.fixed_monthly_usd)} + "
                      f"100,000 x {usd(cost.variable_per_query_usd)} = {usd(at_100k)} per month"),
            holds=low <= at_100k <= high,
        ))
    return findings


def _catalog_break_even(report: CostReport) -> Finding:
    even = next(e for e in report.break_evens if {e.a, e.b} == {"rag", "fine-tuned"})
    return Finding(topic="break-even (catalog prices)", claim="break-even around 1M queries/month",
                   computed=f"{_volume(even.volume_per_month)}: {even.reason}",
                   holds=even.volume_per_month is not None and 5e5 <= even.volume_per_month <= 2e6)


def check_claims(claims: dict, inputs: CostInputs, report: CostReport, catalog: Catalog) -> list[Finding]:
    """Each of the seed's cost claims recomputed from its own numbers (and the dated catalog)."""
    try:
        return [
            _break_even_q4(claims), _break_even_table(claims), *_per_query_consistency(claims),
            _per_token(claims, inputs), *_training(claims, inputs, catalog),
            _premium(claims, catalog), _latency(claims, report), *_catalog_monthly(claims, report),
            _catalog_break_even(report),
        ]
    except KeyError as missing:
        raise InputError(f"scenario [claims]: missing claim {missing}") from None
