"""Exact greedy decoding with a cheaper vocabulary projection, for causal LMs on CPU.

Every token Gemma 3 270M decodes multiplies its last hidden state by the 262k x 640 output matrix: 671 MB of
float32 weights read per token, ~57 ms on 2 cores here and most of a decoding step. A greedy decoder needs only the
top token. The screened head reads a float16 copy of the matrix instead (half the bytes; torch's float16
matrix-vector product is 4-5x faster on this CPU, docs/benchmarks.md "Local generation"), bounds every logit's
float16 error, and recomputes in float32 only the rows whose bound reaches the best row's lower bound (1-5 rows on
the study's answers). The token it picks is the one the float32 projection picks, up to float32 rounding.

The bound, for a hidden state h and a weight row w (float16 rounding is relative 2^-11; torch accumulates float16
products in float32, which the install-time self-check verifies):
    |exact - approx| <= |h| (|w| 2^-9 + 2^-20) + |approx| 2^-10 + 2^-20
(the 2^-20 terms cover float16's subnormal rounding of tiny entries and results).

It applies only where argmax is all that is taken: inside `greedy_decoding()` (per thread), for one position, with
no gradient. Everything else (sampling, training, several positions) gets the float32 projection. `install` skips
models whose generation config changes logits before the argmax (a repetition penalty, banned words, ...): those
settings could push the top token out and make a row outside the screened set the winner.
"""
from __future__ import annotations

import math
import threading
import weakref
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch

_GREEDY = threading.local()
_COPIES: dict[int, tuple[weakref.ref, torch.Tensor, torch.Tensor]] = {}   # id(weight) -> (weight, float16, norms)
_COPIES_LOCK = threading.Lock()
_FP16_MAX = 60000.0          # below float16's largest finite value (65504), with room for rounding
_RELATIVE = 2.0 ** -9        # |h| |w| term: float16 rounding of h and of w (2 x 2^-11) + float32 accumulation
_OUTPUT = 2.0 ** -10         # float16 rounding of the result itself (2^-11), doubled for safety
_ABSOLUTE = 2.0 ** -20       # subnormal rounding of tiny entries (per unit of |h|) and of a tiny result

# GenerationConfig fields that make transformers change logits before the greedy argmax (generation/utils.py,
# _get_logits_processor): with any of them set, screening could pick a wrong token, so the head is not installed.
_LOGIT_CHANGING = {
    "repetition_penalty": 1.0, "encoder_repetition_penalty": 1.0, "no_repeat_ngram_size": 0,
    "encoder_no_repeat_ngram_size": 0, "min_length": 0, "min_new_tokens": 0, "guidance_scale": 1,
    "sequence_bias": None, "bad_words_ids": None, "forced_bos_token_id": None, "forced_eos_token_id": None,
    "exponential_decay_length_penalty": None, "suppress_tokens": None, "begin_suppress_tokens": None,
    "watermarking_config": None, "num_beams": 1,
}


@contextmanager
def greedy_decoding() -> Iterator[None]:
    """In this thread, inside the block, screened heads return logits good for argmax only: exact for the rows that
    could be the top one, float16 approximations (provably lower) elsewhere."""
    previous = getattr(_GREEDY, "on", False)
    _GREEDY.on = True
    try:
        yield
    finally:
        _GREEDY.on = previous


class ScreenedHead(torch.nn.Module):
    """Wraps a bias-free output projection (`nn.Linear`); see the module docstring."""

    def __init__(self, projection: torch.nn.Linear):
        super().__init__()
        self.projection = projection
        # Not parameters or buffers (never saved with the model); one pair per weight matrix, shared by the copies
        # of a model that share it (ragft.llm.local_model.base_models_kept).
        self.half, self.row_norms = _half_copy(projection.weight)
        self.screened_rows: deque[int] = deque(maxlen=10_000)    # rows recomputed, per recent call (benchmarks)

    @property
    def weight(self) -> torch.Tensor:                   # what callers of get_output_embeddings() expect
        return self.projection.weight

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        if not getattr(_GREEDY, "on", False) or torch.is_grad_enabled() or hidden.shape[:-1].numel() != 1:
            return self.projection(hidden)
        row = hidden.reshape(1, -1)
        if float(row.abs().max()) > _FP16_MAX:
            return self.projection(hidden)
        approx = torch.nn.functional.linear(row.half(), self.half).float()[0]
        bound = _bound(self.row_norms, float(row.norm()), approx)
        best_lower = float((approx - bound).max())
        if not math.isfinite(best_lower):
            return self.projection(hidden)              # a NaN or an overflow: no bound holds
        rows = torch.nonzero(approx + bound >= best_lower).flatten()
        self.screened_rows.append(int(rows.numel()))
        approx[rows] = torch.nn.functional.linear(row, self.projection.weight[rows])[0]
        return approx.reshape(*hidden.shape[:-1], -1)


def _bound(row_norms: torch.Tensor, hidden_norm: float, approx: torch.Tensor) -> torch.Tensor:
    """Per row, the most the float16 logit `approx` can differ from the float32 one (module docstring)."""
    bound = row_norms * (hidden_norm * _RELATIVE)
    bound += approx.abs() * _OUTPUT
    bound += _ABSOLUTE * (hidden_norm + 1.0)
    return bound


def _half_copy(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(float16 copy, row norms) of `weight`, made once per weight tensor while it lives."""
    key = id(weight)
    with _COPIES_LOCK:
        entry = _COPIES.get(key)
        if entry is None or entry[0]() is not weight:
            with torch.no_grad():
                entry = (weakref.ref(weight, lambda _: _COPIES.pop(key, None)), weight.half(), weight.norm(dim=1))
            _COPIES[key] = entry
    return entry[1], entry[2]


def install(model: Any, checks: int = 3) -> bool:
    """Puts a `ScreenedHead` in place of `model`'s output projection (a PEFT model's base too); True when it is
    in place. Skips (False) a model on another device than the CPU, a projection with a bias, a generation config
    that changes logits, and a torch whose float16 product breaks the bound on `checks` random hidden states."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    head = base.get_output_embeddings()
    if isinstance(head, ScreenedHead):
        return True
    if (not isinstance(head, torch.nn.Linear) or head.bias is not None or head.weight.device.type != "cpu"
            or changes_logits(getattr(base, "generation_config", None))):
        return False
    screened = ScreenedHead(head)
    if not _bound_holds(screened, checks):
        return False
    base.set_output_embeddings(screened)
    return True


def changes_logits(config: Any) -> bool:
    """True when a transformers GenerationConfig sets anything that alters logits before a greedy argmax."""
    if config is None:
        return False
    return any(getattr(config, name, default) not in (default, None) for name, default in _LOGIT_CHANGING.items())


def _bound_holds(head: ScreenedHead, checks: int) -> bool:
    generator = torch.Generator().manual_seed(0)
    with torch.inference_mode(), greedy_decoding():
        for scale in (0.1, 10.0, 1000.0)[:checks]:
            hidden = torch.randn(1, 1, head.projection.in_features, generator=generator) * scale
            exact = head.projection(hidden)[0, 0]
            approx = torch.nn.functional.linear(hidden[0].half(), head.half).float()[0]
            bound = _bound(head.row_norms, float(hidden.norm()), approx)
            if bool(((exact - approx).abs() > bound).any()):
                return False
    head.screened_rows.clear()
    return True
