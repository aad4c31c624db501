"""Local LoRA training: a plain, resumable PyTorch loop over causal-LM loss on the completion tokens.

Checkpoints (adapter, optimizer, scheduler, RNG states, step, losses) are written atomically every
`checkpoint_every` steps beside the output folder; `resume=True` continues from the latest one and gives
the same final adapter as an uninterrupted run. The final adapter is written by `manifest.staged_dir`.
"""
from __future__ import annotations

import hashlib
import json
import math
import random
import shutil
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

from pydantic import BaseModel, ConfigDict, Field

from ragft.adapters import AdapterManifest, file_hashes, verify_adapter, write_manifest
from ragft.errors import InputError, NotFoundError
from ragft.finetune.dataset import Example, data_hash
from ragft.finetune.manifest import staged_dir
from ragft.llm.prompts import TUNED_FORMAT
from ragft.rag.progress import ProgressCallback
from ragft.versions import package_versions

DEFAULT_BASE = "gemma3-270m"
IGNORE = -100
TRAINING = "training"        # the progress stage of the LoRA steps


class TrainConfig(BaseModel):
    """Hyperparameters; all recorded in the manifest and checked on --resume."""

    model_config = ConfigDict(frozen=True)

    r: int = Field(8, ge=1)
    alpha: int = Field(16, ge=1)
    dropout: float = Field(0.05, ge=0.0, lt=1.0)
    target_modules: tuple[str, ...] = ("q_proj", "v_proj")
    learning_rate: float = Field(2e-4, gt=0)
    epochs: int = Field(3, ge=1)
    batch_size: int = Field(4, ge=1)
    max_seq_len: int = Field(256, ge=8)
    warmup_steps: int = Field(0, ge=0)
    max_steps: int | None = Field(None, ge=1)
    checkpoint_every: int = Field(50, ge=1)
    seed: int = 0


def total_steps(n_examples: int, config: TrainConfig) -> int:
    """Steps of a run: epochs over batches, capped by max_steps (the retriever's config has the same fields)."""
    steps = config.epochs * math.ceil(n_examples / config.batch_size)
    return min(steps, config.max_steps) if config.max_steps else steps


# ---------------------------------------------------------------- data

def encode(example: Example, tokenizer: Any, max_seq_len: int) -> tuple[list[int], list[int]]:
    """Token ids and labels; prompt tokens are masked (-100) so only the answer is learned."""
    prompt, completion = example.training_pair()
    bos = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []
    prompt_ids = bos + tokenizer(prompt, add_special_tokens=False)["input_ids"]
    answer_ids = tokenizer(completion, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    if len(prompt_ids) + len(answer_ids) > max_seq_len:
        # Keep the answer (at most half the window) and the prompt's end (question + "Answer:"): cutting
        # the answer instead would leave nothing to learn, and a batch of such rows has a NaN loss.
        answer_ids = answer_ids[:max(1, max_seq_len // 2)]
        body, room = prompt_ids[len(bos):], max(0, max_seq_len - len(answer_ids) - len(bos))
        prompt_ids = bos + body[max(0, len(body) - room):] if room else bos
    return prompt_ids + answer_ids, [IGNORE] * len(prompt_ids) + answer_ids


def collate(rows: Sequence[tuple[list[int], list[int]]], pad_id: int) -> dict[str, Any]:
    import torch

    width = max(len(ids) for ids, _ in rows)
    ids = [r[0] + [pad_id] * (width - len(r[0])) for r in rows]
    labels = [r[1] + [IGNORE] * (width - len(r[1])) for r in rows]
    mask = [[1] * len(r[0]) + [0] * (width - len(r[0])) for r in rows]
    return {"input_ids": torch.tensor(ids), "labels": torch.tensor(labels),
            "attention_mask": torch.tensor(mask)}


def batch_for_step(step: int, n: int, config: TrainConfig) -> list[int]:
    """Example indices of a step: a seeded permutation per epoch, so resuming needs only the step."""
    import numpy as np

    per_epoch = math.ceil(n / config.batch_size)
    epoch, index = divmod(step, per_epoch)
    order = np.random.default_rng([config.seed, epoch]).permutation(n)
    return order[index * config.batch_size:(index + 1) * config.batch_size].tolist()


# ---------------------------------------------------------------- model

def load_base(base: str, device: str) -> tuple[Any, Any]:
    """The base model via the generators' loader (one place loads models)."""
    try:
        from ragft.llm.local_model import load_causal_lm
    except ImportError as error:
        raise NotFoundError(f"base model '{base}': local model loading is unavailable ({error})") from None
    return load_causal_lm(base=base, adapter=None, device=device)


def model_fingerprint(model: Any) -> str:
    """sha256 over the config and all weights: identifies a base model that has no file hash."""
    digest = hashlib.sha256(model.config.to_json_string().encode())
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def attach_lora(model: Any, config: TrainConfig) -> Any:
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(r=config.r, lora_alpha=config.alpha, lora_dropout=config.dropout,
                      target_modules=list(config.target_modules), task_type="CAUSAL_LM")
    with warnings.catch_warnings():   # peft calls a transformers method deprecated in v5; not ours to fix
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        return get_peft_model(model, lora)


def seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def make_optimizer(model: Any, learning_rate: float, warmup_steps: int, steps: int) -> tuple[Any, Any]:
    """AdamW over the trainable parameters, with a linear warmup over `warmup_steps` then linear decay to 0."""
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=learning_rate, weight_decay=0.0)

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / (warmup_steps + 1)
        return max(0.0, (steps - step) / max(1, steps - warmup_steps))

    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def completion_loss(model: Any, batch: dict[str, Any]) -> Any:
    """The model's causal-LM loss, but the vocabulary projection runs only on answer positions.

    On Gemma 3 (262k vocabulary) the projection dominates a step; prompt and padding positions are
    masked anyway, so skipping them gives the same loss for a fraction of the work."""
    import torch.nn.functional as F

    causal = model.get_base_model() if hasattr(model, "get_base_model") else model
    if not (hasattr(causal, "model") and hasattr(causal, "lm_head")):
        return model(**batch).loss
    hidden = causal.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    labels = batch["labels"][:, 1:]
    keep = labels != IGNORE
    logits = causal.lm_head(hidden[:, :-1][keep])
    cap = getattr(causal.config, "final_logit_softcapping", None)
    if cap:
        logits = (logits / cap).tanh() * cap
    return F.cross_entropy(logits.float(), labels[keep])


def apply_step(loss: Any, model: Any, optimizer: Any, scheduler: Any, max_grad_norm: float = 1.0) -> float:
    """One optimiser step from `loss`: backward, clip the trainable parameters' gradient norm, step the optimiser
    and the schedule, drop the gradients; the loss as a float. Shared by LoRA and retriever training."""
    import torch

    loss.backward()
    torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], max_grad_norm)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    return float(loss.detach())


def train_step(model: Any, optimizer: Any, scheduler: Any, batch: dict[str, Any]) -> float:
    return apply_step(completion_loss(model, batch), model, optimizer, scheduler)


# ---------------------------------------------------------------- checkpoints

def checkpoint_root(out: Path) -> Path:
    return out.with_name(f"{out.name}.checkpoints")


def rng_state() -> dict[str, Any]:
    import numpy as np
    import torch

    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    import numpy as np
    import torch

    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(out: Path, model: Any, optimizer: Any, scheduler: Any, state: dict[str, Any]) -> None:
    from peft import get_peft_model_state_dict
    from safetensors.torch import save_file

    with checkpoint_dir(out, optimizer, scheduler, state) as tmp:
        save_file({k: v.detach().cpu().contiguous() for k, v in get_peft_model_state_dict(model).items()},
                  str(tmp / "adapter.safetensors"))


@contextmanager
def checkpoint_dir(out: Path, optimizer: Any, scheduler: Any, state: dict[str, Any]) -> Iterator[Path]:
    """A staged `step-N` folder for the caller's weights, completed with the optimizer, scheduler and RNG
    states and `state.json`; only the two newest checkpoints are kept."""
    import torch

    root = checkpoint_root(out)
    with staged_dir(root / f"step-{state['step']:07d}", overwrite=True) as tmp:
        yield tmp
        torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                    "rng": rng_state()}, tmp / "trainer.pt")
        (tmp / "state.json").write_text(json.dumps(state))
    for old in sorted(root.glob("step-*"))[:-2]:
        shutil.rmtree(old, ignore_errors=True)


def latest_checkpoint(out: Path, identity: dict) -> tuple[Path, dict]:
    """The newest checkpoint folder of `out` and its state, refused when it was made from other inputs."""
    root = checkpoint_root(out)
    found = sorted(p for p in root.glob("step-*") if (p / "state.json").is_file())
    if not found:
        raise NotFoundError(f"{root}: no checkpoint to resume from; run without --resume")
    latest = found[-1]
    state = json.loads((latest / "state.json").read_text())
    for key, value in identity.items():
        if state.get(key) != value:
            raise InputError(f"{latest}: checkpoint was made with another {key}; use the same inputs "
                             f"or delete {root} and train without --resume")
    return latest, state


def restore_trainer(folder: Path, optimizer: Any, scheduler: Any) -> None:
    import torch

    trainer = torch.load(folder / "trainer.pt", weights_only=False)
    optimizer.load_state_dict(trainer["optimizer"])
    scheduler.load_state_dict(trainer["scheduler"])
    set_rng_state(trainer["rng"])


def load_checkpoint(out: Path, model: Any, optimizer: Any, scheduler: Any, identity: dict) -> dict:
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    latest, state = latest_checkpoint(out, identity)
    set_peft_model_state_dict(model, load_file(str(latest / "adapter.safetensors")))
    restore_trainer(latest, optimizer, scheduler)
    return state


# ---------------------------------------------------------------- training

def train_lora(
    examples: Sequence[Example],
    out: str | Path,
    *,
    base: str = DEFAULT_BASE,
    config: TrainConfig = TrainConfig(),
    device: str = "cpu",
    resume: bool = False,
    overwrite: bool = False,
    model: Any = None,
    tokenizer: Any = None,
    base_sha256: str | None = None,
    on_progress: ProgressCallback | None = None,
    on_step: Callable[[int, float], None] | None = None,
) -> AdapterManifest:
    """Train a LoRA adapter on `examples` and write it to `out` with its manifest; return the manifest.

    `model`/`tokenizer` default to `load_causal_lm(base)`; pass them to train something else (tests).
    `on_progress(TRAINING, done, total)` hears of the first step to take (done = the resumed step) and each
    finished step; `on_step(step, loss)` of each step's loss.
    """
    out = Path(out)
    if not examples:
        raise InputError("no training examples; check the dataset file")
    if out.exists() and not overwrite:
        raise InputError(f"{out}: already exists; choose another --out or pass --overwrite")
    if model is None:
        model, tokenizer = load_base(base, device)
    base_sha256 = base_sha256 or model_fingerprint(model)
    rows = [encode(e, tokenizer, config.max_seq_len) for e in examples]
    steps = total_steps(len(rows), config)
    identity = {"data_sha256": data_hash(examples), "config": config.model_dump(mode="json"),
                "base_sha256": base_sha256}

    seed_everything(config.seed)
    model = attach_lora(model, config).to(device)
    model.train()
    optimizer, scheduler = make_optimizer(model, config.learning_rate, config.warmup_steps, steps)
    state = {"step": 0, "losses": [], "seconds": 0.0, "cpu_seconds": 0.0, **identity}
    start_step = 0
    if resume:
        state = load_checkpoint(out, model, optimizer, scheduler, identity)
        start_step = state["step"]

    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    report = on_progress or (lambda stage, done, total: None)
    report(TRAINING, start_step, steps)
    for step in range(start_step, steps):
        began, began_cpu = time.perf_counter(), time.process_time()
        batch = collate([rows[i] for i in batch_for_step(step, len(rows), config)], pad)
        loss = train_step(model, optimizer, scheduler, {k: v.to(device) for k, v in batch.items()})
        if not math.isfinite(loss):
            raise InputError(f"training loss is {loss} at step {step + 1}: no adapter written; check the "
                             "data (empty answers?) or lower --learning-rate")
        state["seconds"] += time.perf_counter() - began
        state["cpu_seconds"] = state.get("cpu_seconds", 0.0) + time.process_time() - began_cpu
        state["losses"].append(round(loss, 6))
        state["step"] = step + 1
        if state["step"] % config.checkpoint_every == 0 and state["step"] < steps:
            save_checkpoint(out, model, optimizer, scheduler, state)
        if on_step:
            on_step(state["step"], loss)
        report(TRAINING, state["step"], steps)

    with staged_dir(out, overwrite=overwrite) as tmp:
        model.save_pretrained(str(tmp))
        manifest = AdapterManifest(
            complete=True, base=base, base_sha256=base_sha256, prompt_format=TUNED_FORMAT,
            data_sha256=identity["data_sha256"], examples=len(examples),
            hyperparameters=identity["config"], seed=config.seed, steps=steps, losses=state["losses"],
            seconds=round(state["seconds"], 3), seconds_per_step=round(state["seconds"] / max(1, steps), 4),
            cpu_seconds=round(state["cpu_seconds"], 3), device=device, resumed_from_step=start_step,
            versions=package_versions(("torch", "transformers", "peft")), files=file_hashes(tmp),
            created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )
        write_manifest(tmp, manifest)
    shutil.rmtree(checkpoint_root(out), ignore_errors=True)
    return manifest


def measure_seconds_per_step(
    examples: Sequence[Example], model: Any, tokenizer: Any, config: TrainConfig,
    *, device: str = "cpu", steps: int = 2,
) -> float:
    """Time `steps` real LoRA steps (after one warm-up step), then remove the adapter from `model`."""
    rows = [encode(e, tokenizer, config.max_seq_len) for e in examples]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    seed_everything(config.seed)
    peft_model = attach_lora(model, config).to(device)
    peft_model.train()
    optimizer, scheduler = make_optimizer(peft_model, config.learning_rate, config.warmup_steps, steps + 1)
    timings = []
    for step in range(steps + 1):
        batch = collate([rows[i] for i in batch_for_step(step, len(rows), config)], pad)
        began = time.perf_counter()
        train_step(peft_model, optimizer, scheduler, {k: v.to(device) for k, v in batch.items()})
        timings.append(time.perf_counter() - began)
    peft_model.unload()
    return sum(timings[1:]) / steps


def apply_adapter(model: Any, adapter: str | Path) -> Any:
    """Wrap a base model with a verified ragft adapter (refuses partial or modified folders)."""
    from peft import PeftModel

    verify_adapter(adapter)
    return PeftModel.from_pretrained(model, str(adapter))


def load_trained(adapter: str | Path, device: str = "cpu") -> tuple[Any, Any]:
    """(model, tokenizer) of a trained adapter on its recorded base, via the generators' loader."""
    manifest = verify_adapter(adapter)
    from ragft.llm.local_model import load_causal_lm

    return load_causal_lm(base=manifest.base, adapter=str(adapter), device=device)
