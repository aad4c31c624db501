"""The adapter manifest: what a trained adapter was made from, and the one reader of it.

A folder is a usable ragft adapter only if `ragft-adapter.json` exists, says `complete: true` and every file
it lists is present with the recorded sha256. Training (ragft.finetune) writes the manifest last, then renames
the folder into place, so an interrupted run can never leave something that loads as if it were finished.
Loading (ragft.llm.local_model) reads the same manifest for the prompt format the adapter was trained on.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ragft.errors import InputError, NotFoundError
from ragft.files import sha256_file

MANIFEST_NAME = "ragft-adapter.json"
_FIX = "it is not a finished ragft adapter (interrupted run?); re-run `ragft finetune train ... --resume`"


class AdapterManifest(BaseModel):
    format_version: int = 1
    complete: bool
    kind: str = "lora"
    base: str                                # the base model name given to load_causal_lm
    base_sha256: str
    prompt_format: str
    data_sha256: str
    examples: int
    hyperparameters: dict[str, Any]
    seed: int
    steps: int
    losses: list[float]
    seconds: float
    seconds_per_step: float
    cpu_seconds: float = 0.0                 # process CPU time of the steps (wall time inflates on shared CPUs)
    device: str
    resumed_from_step: int = 0
    versions: dict[str, str]
    files: dict[str, str]                    # relative path -> sha256
    created_at: str


def file_hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): sha256_file(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MANIFEST_NAME
    }


def read_manifest(folder: str | Path) -> AdapterManifest | None:
    """The manifest of a ragft adapter folder, None when it has none (an adapter made elsewhere); a manifest
    that is unreadable or marked incomplete is refused. Files are not hashed here: `verify_adapter` does that."""
    path = Path(folder) / MANIFEST_NAME
    if not path.is_file():
        return None
    try:
        manifest = AdapterManifest.model_validate_json(path.read_text())
    except (ValidationError, ValueError) as error:
        first = str(error).splitlines()[0]
        raise InputError(f"{path}: unreadable manifest ({first}); {_FIX}") from None
    if not manifest.complete:
        raise InputError(f"{path}: marked incomplete; {_FIX}")
    return manifest


def verify_adapter(path: str | Path) -> AdapterManifest:
    """Return the manifest of a complete adapter folder; refuse anything partial, edited or foreign."""
    folder = Path(path)
    if not folder.is_dir():
        raise NotFoundError(f"{folder}: no such adapter folder; train one with `ragft finetune train`")
    manifest = read_manifest(folder)
    if manifest is None:
        raise InputError(f"{folder}: no {MANIFEST_NAME}; {_FIX}")
    for name, digest in manifest.files.items():
        file = folder / name
        if not file.is_file():
            raise InputError(f"{folder}: missing {name} listed in {MANIFEST_NAME}; {_FIX}")
        if sha256_file(file) != digest:
            raise InputError(f"{file}: sha256 differs from {MANIFEST_NAME}; the adapter was modified")
    return manifest


def write_manifest(folder: Path, manifest: AdapterManifest) -> None:
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest.model_dump(), indent=2))
