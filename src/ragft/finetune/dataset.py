"""Fine-tuning datasets: load JSONL in three shapes, validate, split deterministically, export (OpenAI, HF)."""
from __future__ import annotations

import hashlib
import json
import random
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from ragft.costs.tokens import TOKENS_PER_MESSAGE, TOKENS_PER_REPLY, TokenCounter, counter_for
from ragft.errors import InputError, NotFoundError
from ragft.files import write_atomic
from ragft.jsonl import BadLine, parse_object
from ragft.llm.base import GenerationRequest
from ragft.llm.prompts import training_pair, training_request, user_message
from ragft.text import check_leakage, word_key


@dataclass(frozen=True)
class Example:
    """One training example: a single-turn prompt/completion, optionally with a system message.

    `context` and `doc_id` carry the gold passage when known (needed by the RAFT recipe);
    `group` ties rewordings of one fact together so a split never separates them.
    """

    prompt: str
    completion: str
    system: str | None = None
    context: str | None = None
    doc_id: str = ""
    group: str = ""
    passages: tuple[str, ...] = ()     # shown to the model with the question (RAFT), cite as [n]
    source: str = ""
    line: int = 0
    recipe: str = ""

    @property
    def where(self) -> str:
        if not self.source:
            return "<generated>"
        return f"{self.source}:{self.line}" if self.line else self.source

    def key(self) -> str:
        return self.group or word_key(self.prompt)

    def request(self) -> GenerationRequest:
        return training_request(self.prompt, self.passages, self.system)

    def user_text(self) -> str:
        """The user turn as ragft's generators send it: "Question: ..." (after numbered passages, if any)."""
        return user_message(self.request())

    def training_pair(self) -> tuple[str, str]:
        """(prompt, completion) causal-LM texts (format ragft-qa-v1); the loss is computed on the completion."""
        return training_pair(self.request(), self.completion)

    def messages(self) -> list[dict[str, str]]:
        head = [{"role": "system", "content": self.system}] if self.system else []
        return head + [
            {"role": "user", "content": self.user_text()},
            {"role": "assistant", "content": self.completion},
        ]


@dataclass(frozen=True)
class Issue:
    level: str          # "error" | "warning"
    where: str          # file:line
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.level}: {self.message}"


@dataclass
class ValidationReport:
    examples: int
    issues: list[Issue] = field(default_factory=list)
    token_counter: str = ""
    token_counter_deviation: str = ""
    tokens_min: int = 0
    tokens_median: float = 0.0
    tokens_max: int = 0
    tokens_total: int = 0

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.level == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors


# ---------------------------------------------------------------- loading

def _from_record(record: Any) -> tuple[dict[str, Any] | None, str]:
    """Map one JSON record to Example fields, or (None, why)."""
    if not isinstance(record, dict):
        return None, "each line must be a JSON object"
    extra = {k: record[k] for k in ("context", "doc_id", "group", "recipe") if isinstance(record.get(k), str)}
    if isinstance(record.get("passages"), list) and all(isinstance(p, str) for p in record["passages"]):
        extra["passages"] = tuple(record["passages"])
    if "messages" in record:
        messages = record["messages"]
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            return None, "'messages' must be a list of {role, content} objects"
        roles = [m.get("role") for m in messages]
        system = None
        if roles[:1] == ["system"]:
            system, messages, roles = messages[0].get("content"), messages[1:], roles[1:]
        if roles != ["user", "assistant"]:
            return None, (f"'messages' roles are {roles}; expected [system?, user, assistant] "
                          "(single turn; multi-turn is not supported)")
        fields = dict(prompt=messages[0].get("content"), completion=messages[1].get("content"),
                      system=system)
    elif "prompt" in record or "completion" in record:
        fields = dict(prompt=record.get("prompt"), completion=record.get("completion"),
                      system=record.get("system"))
    elif "question" in record or "answer" in record:
        fields = dict(prompt=record.get("question"), completion=record.get("answer"),
                      system=record.get("system"))
    else:
        return None, ("unknown record shape; use {\"messages\": [...]}, "
                      "{\"prompt\", \"completion\"} or {\"question\", \"answer\"}")
    for name in ("prompt", "completion", "system"):
        value = fields[name]
        if value is not None and not isinstance(value, str):
            return None, f"field '{name}' must be a string, got {type(value).__name__}"
    return fields | extra, ""


def read_jsonl(path: str | Path) -> tuple[list[Example], list[Issue]]:
    """Read every line; collect (examples, issues) so validation can report all problems at once."""
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"{path}: no such dataset file; pass a JSONL file of examples")
    examples: list[Example] = []
    issues: list[Issue] = []
    with path.open("rb") as lines:
        for number, data in enumerate(lines, start=1):
            where = f"{path}:{number}"
            try:
                raw = data.decode("utf-8")
            except UnicodeDecodeError as error:
                issues.append(Issue("error", where, f"invalid UTF-8 at byte {error.start} of the line; "
                                                    "re-save the file as UTF-8"))
                continue
            if not raw.strip():
                continue
            try:
                record = parse_object(raw, where)
            except BadLine as bad:
                issues.append(Issue("error", where, bad.reason))
                continue
            fields, why = _from_record(record)
            if fields is None:
                issues.append(Issue("error", where, why))
                continue
            empty = [n for n in ("prompt", "completion") if not (fields.get(n) or "").strip()]
            if empty:
                issues.append(Issue("error", where, f"empty {' and '.join(empty)}; every example "
                                                    "needs a non-empty question and answer"))
                continue
            examples.append(Example(source=str(path), line=number, **fields))
    if not examples and not issues:
        issues.append(Issue("error", str(path), "no examples in file"))
    return examples, issues


def load_jsonl(path: str | Path) -> list[Example]:
    """Load examples, raising InputError on the first malformed line (file:line in the message)."""
    examples, issues = read_jsonl(path)
    errors = [i for i in issues if i.level == "error"]
    if errors:
        more = f" (and {len(errors) - 1} more; run `ragft finetune validate`)" if len(errors) > 1 else ""
        raise InputError(f"{errors[0]}{more}")
    return examples


# ---------------------------------------------------------------- tokens

def approx_counter() -> TokenCounter:
    """When the model's tokenizer is not at hand: cl100k_base, bundled offline (documented in costs.tokens)."""
    return counter_for("cl100k_base")


def tokenizer_counter(tokenizer: Any, name: str) -> TokenCounter:
    count = lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])  # noqa: E731
    return TokenCounter(f"{name} tokenizer", count)


def example_tokens(example: Example, counter: TokenCounter) -> int:
    """Chat-format tokens as providers bill them: content + framing per message + reply priming."""
    messages = example.messages()
    return sum(counter.count(m["content"]) + TOKENS_PER_MESSAGE for m in messages) + TOKENS_PER_REPLY


# ---------------------------------------------------------------- validation

def find_duplicates(examples: Sequence[Example]) -> list[Issue]:
    seen: dict[tuple[str, str], Example] = {}
    issues = []
    for example in examples:
        key = (word_key(example.prompt), word_key(example.completion))
        first = seen.setdefault(key, example)
        if first is not example:
            issues.append(Issue("error", example.where, f"duplicate of {first.where}; remove one"))
    return issues


def find_leaks(examples: Sequence[Example], eval_questions: Sequence[str]) -> list[Issue]:
    """Training questions that are (near-)duplicates of evaluation questions (ragft.text.check_leakage)."""
    train = [{"id": str(i), "question": e.prompt} for i, e in enumerate(examples)]
    report = check_leakage(train, [{"id": f"eval#{i + 1}", "question": q} for i, q in enumerate(eval_questions)])
    return [
        Issue("error", examples[int(leak.train_id)].where,
              f"leaks evaluation question {leak.test_question!r} ({leak.kind}, similarity "
              f"{leak.similarity:.2f}); drop it from training or from the eval set")
        for leak in report.leaks
    ]


def validate(
    examples: Sequence[Example],
    *,
    issues: Sequence[Issue] = (),
    counter: TokenCounter | None = None,
    context_length: int = 32768,
    max_seq_len: int | None = None,
    eval_questions: Sequence[str] = (),
) -> ValidationReport:
    """Check duplicates, token lengths (error beyond the context, warning beyond max_seq_len), leakage."""
    counter = counter or approx_counter()
    report = ValidationReport(examples=len(examples), issues=list(issues), token_counter=counter.method,
                              token_counter_deviation=counter.deviation)
    report.issues += find_duplicates(examples)
    lengths = [example_tokens(e, counter) for e in examples]
    for example, tokens in zip(examples, lengths):
        if tokens > context_length:
            report.issues.append(Issue("error", example.where, f"{tokens} tokens exceed the model "
                                       f"context of {context_length}; shorten or split it"))
        elif max_seq_len and tokens > max_seq_len:
            report.issues.append(Issue("warning", example.where, f"{tokens} tokens; training "
                                       f"truncates at --max-seq-len {max_seq_len}"))
    report.issues += find_leaks(examples, eval_questions)
    if lengths:
        report.tokens_min, report.tokens_max = min(lengths), max(lengths)
        report.tokens_median, report.tokens_total = statistics.median(lengths), sum(lengths)
    return report


# ---------------------------------------------------------------- split

def split(
    examples: Sequence[Example], validation_fraction: float = 0.1, seed: int = 0
) -> tuple[list[Example], list[Example]]:
    """Deterministic split by group (rewordings of one fact stay on one side)."""
    if not 0.0 <= validation_fraction < 1.0:
        raise InputError(f"--val-fraction {validation_fraction}: must be in [0, 1)")
    groups = sorted({e.key() for e in examples})
    random.Random(seed).shuffle(groups)
    n_val = round(len(groups) * validation_fraction)
    if validation_fraction > 0 and n_val == 0 and len(groups) > 1:
        n_val = 1
    held = set(groups[:n_val])
    return [e for e in examples if e.key() not in held], [e for e in examples if e.key() in held]


# ---------------------------------------------------------------- export

def to_openai_jsonl(examples: Iterable[Example]) -> str:
    return "".join(json.dumps({"messages": e.messages()}, ensure_ascii=False) + "\n" for e in examples)


def export_openai(examples: Iterable[Example], path: str | Path) -> Path:
    """OpenAI chat fine-tuning format: one {"messages": [system?, user, assistant]} per line."""
    path = Path(path)
    write_atomic(path, to_openai_jsonl(examples))
    return path


def to_jsonl(examples: Iterable[Example]) -> str:
    """ragft's own lossless JSONL (prompt/completion plus context, doc_id, group, recipe)."""
    rows = []
    for e in examples:
        row = {"prompt": e.prompt, "completion": e.completion}
        row |= {k: v for k, v in (("system", e.system), ("context", e.context), ("doc_id", e.doc_id),
                                  ("group", e.group), ("recipe", e.recipe),
                                  ("passages", list(e.passages))) if v}
        rows.append(json.dumps(row, ensure_ascii=False) + "\n")
    return "".join(rows)


def _hf_features() -> dict[str, Any]:
    text = {"dtype": "string", "_type": "Value"}
    return {"messages": [{"role": text, "content": text}], "prompt": text, "completion": text}


def _write_hf_split(examples: Sequence[Example], folder: Path, name: str) -> None:
    import pyarrow as pa

    pairs = [e.training_pair() for e in examples]
    table = pa.table({
        "messages": pa.array([e.messages() for e in examples],
                             type=pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))),
        "prompt": pa.array([p for p, _ in pairs], type=pa.string()),
        "completion": pa.array([c for _, c in pairs], type=pa.string()),
    })
    folder.mkdir(parents=True)
    with pa.OSFile(str(folder / "data-00000-of-00001.arrow"), "wb") as sink:
        with pa.ipc.new_stream(sink, table.schema) as writer:   # datasets uses the IPC stream format
            writer.write_table(table)
    description = ("ragft fine-tuning examples: 'messages' in chat form; 'prompt'/'completion' are the "
                   "causal-LM texts ragft trains on (prompt format ragft-qa-v1, loss on the completion)")
    info = {"citation": "", "description": description, "features": _hf_features(),
            "homepage": "", "license": "", "splits": {name: {"name": name, "num_examples": len(examples)}}}
    fingerprint = hashlib.sha256(to_jsonl(examples).encode()).hexdigest()[:16]
    state = {"_data_files": [{"filename": "data-00000-of-00001.arrow"}], "_fingerprint": fingerprint,
             "_format_columns": None, "_format_kwargs": {}, "_format_type": None,
             "_output_all_columns": False, "_split": name}
    (folder / "dataset_info.json").write_text(json.dumps(info, indent=2))
    (folder / "state.json").write_text(json.dumps(state, indent=2))


def export_hf(splits: dict[str, Sequence[Example]], folder: str | Path) -> Path:
    """A `datasets.load_from_disk`-compatible DatasetDict folder, written with pyarrow only, atomically."""
    from ragft.finetune.manifest import staged_dir

    folder = Path(folder)
    with staged_dir(folder) as tmp:
        for name, examples in splits.items():
            _write_hf_split(examples, tmp / name, name)
        (tmp / "dataset_dict.json").write_text(json.dumps({"splits": list(splits)}))
    return folder


def data_hash(examples: Iterable[Example]) -> str:
    return hashlib.sha256(to_openai_jsonl(examples).encode()).hexdigest()

