"""A numpy forward pass of a BERT encoder (inference only, float32): what MiniLM runs on without torch."""
from __future__ import annotations

import math

import numpy as np
from scipy.special import erf

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


class Bert:
    """Encoder weights in HF BertModel naming; `forward` returns the last hidden state."""

    def __init__(self, weights: dict[str, np.ndarray], config: dict):
        self.hidden = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        act = config.get("hidden_act", "gelu")
        if act != "gelu":
            raise ValueError(f"unsupported hidden_act {act!r}: only exact 'gelu' is implemented")
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
