"""A numpy forward pass of a BERT encoder (inference only, float32): what MiniLM runs on without torch."""
from __future__ import annotations

import math

import numpy as np
from scipy.special import erf

from ragft.cores import torch_threads, usable_cores  # noqa: F401 (usable_cores: imported from here by benchmarks)

_MASKED = np.float32(-1e9)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    x = x - mean
    var = np.mean(np.square(x), axis=-1, keepdims=True)
    x *= 1.0 / np.sqrt(var + eps)
    x *= weight
    x += bias
    return x


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact GELU, 0.5 x (1 + erf(x / sqrt 2)), in place."""
    inner = erf(x * np.float32(1.0 / math.sqrt(2.0)))
    inner += 1.0
    x *= inner
    x *= 0.5
    return x


def _softmax(scores: np.ndarray) -> np.ndarray:
    scores -= scores.max(axis=-1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= scores.sum(axis=-1, keepdims=True)
    return scores


class _Layer:
    def __init__(self, w: dict[str, np.ndarray], prefix: str):
        def get(name: str) -> np.ndarray:
            return np.asarray(w[f"{prefix}.{name}"], dtype=np.float32)

        attn = "attention.self"
        self.qkv_w = np.ascontiguousarray(
            np.concatenate([get(f"{attn}.{p}.weight") for p in ("query", "key", "value")]).T
        )
        self.qkv_b = np.concatenate([get(f"{attn}.{p}.bias") for p in ("query", "key", "value")])
        self.out_w = np.ascontiguousarray(get("attention.output.dense.weight").T)
        self.out_b = get("attention.output.dense.bias")
        self.ln1 = (get("attention.output.LayerNorm.weight"), get("attention.output.LayerNorm.bias"))
        self.up_w = np.ascontiguousarray(get("intermediate.dense.weight").T)
        self.up_b = get("intermediate.dense.bias")
        self.down_w = np.ascontiguousarray(get("output.dense.weight").T)
        self.down_b = get("output.dense.bias")
        self.ln2 = (get("output.LayerNorm.weight"), get("output.LayerNorm.bias"))


def encoder_shape(config: dict) -> tuple[int, int, float]:
    """(hidden size, attention heads, layer-norm epsilon) from a BERT config; only exact GELU is implemented."""
    act = config.get("hidden_act", "gelu")
    if act != "gelu":
        raise ValueError(f"unsupported hidden_act {act!r}: only exact 'gelu' is implemented")
    return int(config["hidden_size"]), int(config["num_attention_heads"]), float(config.get("layer_norm_eps", 1e-12))


class Bert:
    """Encoder weights in HF BertModel naming; `forward` returns the last hidden state."""

    def __init__(self, weights: dict[str, np.ndarray], config: dict):
        self.hidden, self.heads, self.eps = encoder_shape(config)
        emb = "embeddings"
        self.word = np.asarray(weights[f"{emb}.word_embeddings.weight"], dtype=np.float32)
        self.position = np.asarray(weights[f"{emb}.position_embeddings.weight"], dtype=np.float32)
        self.token_type = np.asarray(weights[f"{emb}.token_type_embeddings.weight"], dtype=np.float32)
        self.emb_ln = (weights[f"{emb}.LayerNorm.weight"], weights[f"{emb}.LayerNorm.bias"])
        self.layers = [_Layer(weights, f"encoder.layer.{i}") for i in range(int(config["num_hidden_layers"]))]

    def embed_tokens(self, ids: np.ndarray) -> np.ndarray:
        length = ids.shape[1]
        x = self.word[ids] + self.position[:length] + self.token_type[0]
        return _layer_norm(x, *self.emb_ln, self.eps)

    def forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """ids, mask: int arrays (batch, length); returns float32 (batch, length, hidden)."""
        batch, length = ids.shape
        # Dense layers run on one (batch*length, hidden) matrix: a single large GEMM, not one per text.
        x = self.embed_tokens(ids).reshape(batch * length, self.hidden)
        bias = np.where(mask[:, None, None, :] > 0, np.float32(0.0), _MASKED).astype(np.float32)
        for layer in self.layers:
            x = self._layer(layer, x, bias, batch, length)
        return x.reshape(batch, length, self.hidden)

    def _layer(self, layer: _Layer, x: np.ndarray, bias: np.ndarray, batch: int, length: int) -> np.ndarray:
        hidden = self.hidden
        head_dim = hidden // self.heads
        qkv = np.matmul(x, layer.qkv_w)
        qkv += layer.qkv_b
        qkv = qkv.reshape(batch, length, 3, self.heads, head_dim).transpose(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        q *= np.float32(1.0 / math.sqrt(head_dim))
        scores = np.matmul(q, k.transpose(0, 1, 3, 2))
        scores += bias
        context = np.matmul(_softmax(scores), v).transpose(0, 2, 1, 3).reshape(batch * length, hidden)
        attn = np.matmul(context, layer.out_w)
        attn += layer.out_b
        attn += x
        x = _layer_norm(attn, *layer.ln1, self.eps)
        up = np.matmul(x, layer.up_w)
        up += layer.up_b
        down = np.matmul(_gelu(up), layer.down_w)
        down += layer.down_b
        down += x
        return _layer_norm(down, *layer.ln2, self.eps)


class TorchBert:
    """The same encoder in torch (float32, inference mode): MKL/oneDNN GEMMs and fused attention, on CPU or CUDA.

    Takes the weights as numpy arrays (shared with torch, not copied on CPU) and returns numpy, so callers do not
    import torch themselves."""

    def __init__(self, weights: dict[str, np.ndarray], config: dict, device: str = "cpu"):
        import torch

        self.torch = torch
        self.device = torch.device(device)
        self.hidden, self.heads, self.eps = encoder_shape(config)

        def get(name: str):
            array = np.ascontiguousarray(weights[name], dtype=np.float32)
            if not array.flags.writeable:    # torch wants writeable memory; the copy is made once, at load
                array = array.copy()
            return torch.from_numpy(array).to(self.device)

        self.word, self.position, self.token_type, self.emb_ln, self.layers = torch_weights(
            get, int(config["num_hidden_layers"]))

    def mean_pooled(self, ids: np.ndarray, mask: np.ndarray, threads: int | None = None) -> np.ndarray:
        """ids, mask: (batch, length) arrays; returns the mask-weighted mean of the last hidden state, float32
        (batch, hidden), as numpy. `threads`: the calling thread's torch intra-op threads for this call (CPU), then
        restored (ragft.cores.torch_threads: per OS thread, so concurrent calls do not race)."""
        with torch_threads(self.torch, threads if self.device.type == "cpu" else None):
            return self._pooled(ids, mask)

    def forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The last hidden state as numpy (batch, length, hidden): the same interface as the numpy `Bert`."""
        torch = self.torch
        with torch.inference_mode():
            ids_t = torch.from_numpy(np.ascontiguousarray(ids, dtype=np.int64)).to(self.device)
            mask_t = torch.from_numpy(np.ascontiguousarray(mask, dtype=np.float32)).to(self.device)
            return self._forward(ids_t, mask_t).float().cpu().numpy()

    def _pooled(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        torch = self.torch
        with torch.inference_mode():
            ids_t = torch.from_numpy(np.ascontiguousarray(ids, dtype=np.int64)).to(self.device)
            mask_t = torch.from_numpy(np.ascontiguousarray(mask, dtype=np.float32)).to(self.device)
            hidden = self._forward(ids_t, mask_t)
            pooled = torch.einsum("bld,bl->bd", hidden, mask_t) / mask_t.sum(dim=1, keepdim=True)
            return pooled.float().cpu().numpy()

    def _forward(self, ids, mask):
        return torch_encode(ids, mask, self.word, self.position, self.token_type, self.emb_ln, self.layers,
                            (self.hidden, self.heads, self.eps))


def torch_weights(get, layers: int) -> tuple:
    """(word, position, token type, embedding LayerNorm, per-layer dicts) from `get(HF name) -> tensor`, with
    query/key/value fused into one matrix. Called once for inference; a trainable copy calls it on every
    forward, so the fused matrices stay in the autograd graph of its parameters."""
    import torch

    emb = "embeddings"
    blocks = []
    for i in range(layers):
        p = f"encoder.layer.{i}"
        attn = f"{p}.attention.self"
        blocks.append({
            "qkv_w": torch.cat([get(f"{attn}.{n}.weight") for n in ("query", "key", "value")]),
            "qkv_b": torch.cat([get(f"{attn}.{n}.bias") for n in ("query", "key", "value")]),
            "out_w": get(f"{p}.attention.output.dense.weight"), "out_b": get(f"{p}.attention.output.dense.bias"),
            "ln1": (get(f"{p}.attention.output.LayerNorm.weight"), get(f"{p}.attention.output.LayerNorm.bias")),
            "up_w": get(f"{p}.intermediate.dense.weight"), "up_b": get(f"{p}.intermediate.dense.bias"),
            "down_w": get(f"{p}.output.dense.weight"), "down_b": get(f"{p}.output.dense.bias"),
            "ln2": (get(f"{p}.output.LayerNorm.weight"), get(f"{p}.output.LayerNorm.bias")),
        })
    return (get(f"{emb}.word_embeddings.weight"), get(f"{emb}.position_embeddings.weight"),
            get(f"{emb}.token_type_embeddings.weight"),
            (get(f"{emb}.LayerNorm.weight"), get(f"{emb}.LayerNorm.bias")), blocks)


def torch_encode(ids, mask, word, position, token_type, emb_ln, layers, shape: tuple[int, int, float]):
    """The encoder's last hidden state (batch, length, hidden) in torch, from the tensors of `torch_weights`."""
    import torch

    functional = torch.nn.functional
    hidden, heads, eps = shape
    batch, length = ids.shape
    x = word[ids] + position[:length] + token_type[0]
    x = functional.layer_norm(x, (hidden,), *emb_ln, eps)
    # Additive mask, as in the numpy pass; None when no row is padded (the fused kernel's fastest path).
    bias = None if bool(mask.all()) else ((1.0 - mask) * _MASKED)[:, None, None, :]
    head_dim = hidden // heads
    for layer in layers:
        qkv = functional.linear(x, layer["qkv_w"], layer["qkv_b"])
        q, k, v = qkv.view(batch, length, 3, heads, head_dim).permute(2, 0, 3, 1, 4).unbind(0)
        context = functional.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        context = context.transpose(1, 2).reshape(batch, length, hidden)
        attn = functional.linear(context, layer["out_w"], layer["out_b"]) + x
        x = functional.layer_norm(attn, (hidden,), *layer["ln1"], eps)
        up = functional.gelu(functional.linear(x, layer["up_w"], layer["up_b"]))
        down = functional.linear(up, layer["down_w"], layer["down_b"]) + x
        x = functional.layer_norm(down, (hidden,), *layer["ln2"], eps)
    return x
