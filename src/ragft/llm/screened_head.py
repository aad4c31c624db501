"""Greedy decoding with a cheaper vocabulary projection, for float32 causal LMs on CPU.

Every token Gemma 3 270M decodes multiplies its last hidden state by the 262k x 640 output matrix: 671 MB of
float32 weights read per token, ~55 ms on 2 cores here and half of a decoding step. A greedy decoder needs only the
top token. The screened head reads a float16 copy of the matrix instead (half the bytes; torch's float16
matrix-vector product is 4-5x faster on this CPU, docs/benchmarks.md "Local generation"), bounds every logit's
float16 error, and recomputes in float32 only the rows whose upper bound reaches the best row's lower bound (1-6 rows
on the study's answers). The row it picks is the float32 projection's argmax, except where two float32 logits lie
within float32 rounding of each other: the recomputed rows go through a smaller product whose rounding can differ
from the full one's in the last bits (the same kind of difference as between thread counts).

The bound, for a hidden state h of K entries and a weight row w (float16 rounding is relative 2^-11 for normal
numbers and absolute 2^-25 below; torch's CPU float16 product accumulates in float32 unless
torch._C._set_cpu_allow_fp16_reduced_precision_reduction(True) was called, in which case nothing is installed):
    |exact - approx| <= |h| |w| 2^-9 + 2^-25 sqrt(K) (|h| + |w|) + |approx| 2^-10 + 2^-20

It applies only where argmax is all that is taken: inside `greedy_decoding()` (per thread), for one position, with
no gradient, for a float32 weight on the CPU that has not changed since its float16 copy was made. Everything else
(sampling, training, several positions, a moved, cast or edited weight) gets the float32 projection. Callers must not
enter `greedy_decoding()` when the generation config changes logits before the argmax (a repetition penalty, banned
words, ...: `changes_logits`), since those settings could make a row outside the screened set the winner.
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
_COPIES: dict[int, tuple] = {}   # id(weight) -> (weakref, data_ptr, version, _half_copy's answer)
_COPIES_LOCK = threading.Lock()
_FP16_MAX = 60000.0          # below float16's largest finite value (65504), with room for rounding
_RELATIVE = 2.0 ** -9        # |h| |w| term: float16 rounding of h and of w (2 x 2^-11) + float32 accumulation
_SUBNORMAL = 2.0 ** -25      # float16's absolute rounding of entries below its normal range
_OUTPUT = 2.0 ** -10         # float16 rounding of the result itself (2^-11), doubled for safety
_ABSOLUTE = 2.0 ** -20       # subnormal rounding of a tiny result

# GenerationConfig fields that make transformers change logits before the greedy argmax (generation/utils.py,
# _get_logits_processor), with their neutral values.
_LOGIT_CHANGING = {
    "repetition_penalty": 1.0, "encoder_repetition_penalty": 1.0, "no_repeat_ngram_size": 0,
    "encoder_no_repeat_ngram_size": 0, "min_length": 0, "min_new_tokens": 0, "guidance_scale": 1,
    "sequence_bias": None, "bad_words_ids": None, "forced_bos_token_id": None, "forced_eos_token_id": None,
    "exponential_decay_length_penalty": None, "suppress_tokens": None, "begin_suppress_tokens": None,
    "watermarking_config": None, "num_beams": 1, "renormalize_logits": False,
}


@contextmanager
def greedy_decoding() -> Iterator[None]:
    """In this thread, inside the block, screened heads return logits good for argmax only: float32 for the rows
    that could be the top one, float16 approximations (provably lower) elsewhere."""
    previous = getattr(_GREEDY, "on", False)
    _GREEDY.on = True
    try:
        yield
    finally:
        _GREEDY.on = previous


def changes_logits(config: Any) -> bool:
    """True when a transformers GenerationConfig sets anything that alters logits before a greedy argmax."""
    if config is None:
        return False
    return any(getattr(config, name, default) not in (default, None) for name, default in _LOGIT_CHANGING.items())


class ScreenedHead(torch.nn.Linear):
    """A bias-free `nn.Linear` output projection that screens in float16 inside `greedy_decoding()`.

    It holds the very `weight` Parameter of the projection it replaces, so state_dict keys, weight tying,
    `save_pretrained` and fingerprints are unchanged; the float16 copy is a plain attribute, never saved."""

    def __init__(self, projection: torch.nn.Linear):
        torch.nn.Module.__init__(self)
        self.in_features, self.out_features = projection.in_features, projection.out_features
        self.weight = projection.weight
        self.register_parameter("bias", None)
        self.screened_rows: deque[int] = deque(maxlen=10_000)    # rows recomputed, per recent call (benchmarks)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        if not getattr(_GREEDY, "on", False) or torch.is_grad_enabled() or hidden.shape[:-1].numel() != 1:
            return super().forward(hidden)
        copy = _half_copy(self.weight)
        row = hidden.reshape(1, -1)
        if copy is None or row.dtype != torch.float32 or float(row.abs().max()) > _FP16_MAX:
            return super().forward(hidden)
        weight16, row_norms, largest_norm = copy
        approx = torch.nn.functional.linear(row.half(), weight16).float()[0]
        top, bottom = float(approx.max()), float(approx.min())
        if not (math.isfinite(top) and math.isfinite(bottom)):
            return super().forward(hidden)              # an overflow or a NaN (max and min propagate it)
        # Two passes over the vocabulary only: rows within twice the largest bound of the top (a superset of the
        # rows that can win), then the per-row bounds on those few.
        hidden_norm = float(row.norm())
        widest = _bound(largest_norm, hidden_norm, row.shape[-1], max(abs(top), abs(bottom)))
        near = torch.nonzero(approx >= top - 2 * widest).flatten()
        close = approx[near]
        bound = _bound(row_norms[near], hidden_norm, row.shape[-1], close.abs())
        rows = near[close + bound >= float((close - bound).max())]
        self.screened_rows.append(int(rows.numel()))
        approx[rows] = torch.nn.functional.linear(row, self.weight[rows])[0]
        return approx.reshape(*hidden.shape[:-1], -1)


def install(model: Any, checks: int = 3) -> bool:
    """Puts a `ScreenedHead` in place of `model`'s output projection (a PEFT model's base too); True when it is
    in place. Skips (False) anything but a bias-free float32 `nn.Linear` on the CPU whose entries fit float16, a
    model with final-logit softcapping (tanh can squeeze distinct logits into float32 ties), a torch set to reduce
    float16 products in float16, and a torch whose float16 product breaks the bound on `checks` random states."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    head = base.get_output_embeddings()
    if isinstance(head, ScreenedHead):
        return True
    if (type(head) is not torch.nn.Linear or head.bias is not None or head.weight.dtype != torch.float32
            or head.weight.device.type != "cpu"
            or getattr(getattr(base, "config", None), "final_logit_softcapping", None) is not None
            or getattr(torch._C, "_get_cpu_allow_fp16_reduced_precision_reduction", lambda: False)()):
        return False
    screened = ScreenedHead(head)
    if _half_copy(screened.weight) is None or not _bound_holds(screened, checks):
        return False
    base.set_output_embeddings(screened)
    return True


def _bound(row_norms, hidden_norm: float, size: int, magnitude):
    """The most a float16 logit of size `magnitude` can differ from the float32 one, for weight rows of these norms
    and a hidden state of this norm and `size` entries (module docstring); tensors or plain numbers."""
    root_k = math.sqrt(size)
    return (row_norms * (hidden_norm * _RELATIVE + _SUBNORMAL * root_k) + magnitude * _OUTPUT
            + (_SUBNORMAL * root_k * hidden_norm + _ABSOLUTE))


def _half_copy(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, float] | None:
    """(float16 copy, row norms, largest row norm) of a float32 CPU `weight`; None when it cannot be screened
    (entries beyond float16's range). Worked out once per weight tensor, verdict included, and again only when its
    data changes (new storage, or an in-place edit: the version counter)."""
    if weight.dtype != torch.float32 or weight.device.type != "cpu":
        return None
    key, stamp = id(weight), (weight.data_ptr(), weight._version)
    with _COPIES_LOCK:
        entry = _COPIES.get(key)
        if entry is None or entry[0]() is not weight or entry[1:3] != stamp:
            with torch.no_grad():
                copy = None
                if float(weight.abs().max()) <= _FP16_MAX:
                    norms = weight.norm(dim=1)
                    copy = (weight.to(torch.float16), norms, float(norms.max()))
            entry = (weakref.ref(weight, lambda _: _COPIES.pop(key, None)), *stamp, copy)
            _COPIES[key] = entry
    return entry[3]


def _bound_holds(head: ScreenedHead, checks: int) -> bool:
    weight16, row_norms, _ = _half_copy(head.weight)
    generator = torch.Generator().manual_seed(0)
    with torch.inference_mode():
        for scale in (0.1, 10.0, 1000.0)[:checks]:
            hidden = torch.randn(1, head.in_features, generator=generator) * scale
            exact = torch.nn.functional.linear(hidden, head.weight)[0]
            approx = torch.nn.functional.linear(hidden.half(), weight16).float()[0]
            bound = _bound(row_norms, float(hidden.norm()), head.in_features, approx.abs())
            if bool(((exact - approx).abs() > bound).any()):
                return False
    return True
