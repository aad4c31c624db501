"""The records an eval run writes and the report/server read: per-question rows, metric values, the table.

A run folder (written by `ragft.evaluate.runs`, read back by `ragft.evaluate.run_folder`) holds:
  manifest.json     RunManifest: config, seeds, versions, data hashes, timings of the run itself
  table.json        RunTable: the seed's "real numbers from production" table, measured, winners per row
  questions.jsonl   one QuestionRecord per (system, question)
  questions.csv     the same rows flattened for spreadsheets
  cost.json         the cost model's report fed with the measured token counts (ragft.costs.CostReport)
  verdict.json      ragft.advise re-derived with the measurements (ragft.advise.Verdict)
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RetrievedContext(_Record):
    chunk_id: str
    doc_id: str
    text: str
    score: float = 0.0


class QuestionRecord(_Record):
    """What one system did with one question, and how it scored."""

    system: str                               # "closed-book" | "rag" | "fine-tuned" | "hybrid" | custom
    question_id: str
    question: str
    reference_answer: str
    answer: str
    relevant_ids: list[str] = Field(default_factory=list)
    contexts: list[RetrievedContext] = Field(default_factory=list)
    retrieval: dict[str, float] = Field(default_factory=dict)    # hit@1, recall@k, mrr, ndcg@10
    quality: dict[str, float] = Field(default_factory=dict)      # f1, rouge_l, exact_match
    hallucinated: bool | None = None                              # a sentence unsupported by reference + gold documents
    unsupported_sentences: list[str] = Field(default_factory=list)
    timings: dict[str, float] = Field(default_factory=dict)      # seconds: embed, search, generate, total
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    error: str | None = None                                      # a failed question is kept, not dropped
    repeat: int = 0                                               # which of --repeat N answers (seed = seed + repeat)
    model: str = ""
    abstained: bool = False                                       # declined as a whole: wrong, not hallucinated
    supported_ratio: float | None = None
    evidence_ids: list[str] = Field(default_factory=list)        # gold documents checked against, beside the reference
    grounded: bool | None = None                                  # retrieving systems: all supported by own passages
    grounded_ratio: float | None = None
    judge_hallucinated: bool | None = None                        # the optional LLM judge's verdict (--judge)


class MetricValue(_Record):
    """A number with its uncertainty and the method that produced it."""

    value: float | None                       # None = not applicable to this system (e.g. retrieval, closed-book)
    low: float | None = None                  # bootstrap confidence interval, when per-question values exist
    high: float | None = None
    n: int = 0
    unit: str = ""
    method: str = ""
    note: str = ""
    caveat: str = ""                          # shown next to the value: "by construction" (see the note)


class TableRow(_Record):
    """One row of the seed's production table: a metric across systems, with the winner if evidence allows."""

    key: str                                  # cost_per_1k, latency_p95, time_to_production, freshness, ...
    label: str                                # "Cost per 1k queries"
    higher_is_better: bool
    values: dict[str, MetricValue]            # system name -> value
    winner: str                               # a system name, "tie", or "n/a"
    winner_method: str = ""                   # e.g. "paired bootstrap of differences, 95%"
    seed_claim: dict[str, str] = Field(default_factory=dict)   # what the seed's table says, per system kind


class RunTable(_Record):
    run_id: str
    bench: str
    systems: list[str]
    n_questions: int
    rows: list[TableRow]
    confidence: float = 0.95


class SystemConfig(_Record):
    """How one system under test is built; the runner turns it into a `System`."""

    name: str
    kind: Literal["closed-book", "rag", "fine-tuned", "hybrid"]
    generator: str = "extractive"
    generator_options: dict[str, Any] = Field(default_factory=dict)
    adapter: str | None = None                # a LoRA adapter folder for fine-tuned / hybrid (generator local)
    tuned_model: str | None = None            # fine-tuned / hybrid on any other generator: the tuned model's name
    job: str | None = None                    # the provider fine-tuning job (jobs ledger) that made tuned_model
    retriever: str | None = None              # rag over an index built with this tuned embedder folder
    k: int = 5
    mode: str = "hybrid"
    price_model: str | None = None            # catalog model the cost row is priced at


class RunManifest(_Record):
    run_id: str
    created_at: str                           # ISO 8601 UTC
    bench: str                                # built-in bench name or eval-set path
    evalset_sha256: str
    corpus_sha256: str = ""
    systems: list[SystemConfig]
    seed: int = 0
    repeat: int = 1
    bootstrap_resamples: int = 1000
    confidence: float = 0.95
    versions: dict[str, str] = Field(default_factory=dict)
    config: dict[str, Any] = Field(default_factory=dict)     # everything else needed to re-run
    status: Literal["running", "complete", "interrupted"] = "running"
    seconds: float = 0.0
    measurements: dict[str, Any] = Field(default_factory=dict)   # index build, training, freshness trials

    def training(self, system: str) -> dict[str, Any]:
        """A tuned system's training record: its local adapter's manifest ("adapters") or its provider or served
        model with the job's record ("tuned_models"); {} when it has none."""
        measured = self.measurements
        return measured.get("adapters", {}).get(system) or measured.get("tuned_models", {}).get(system) or {}
