"""`openai`: OpenAI's /embeddings endpoint (or an OpenAI-compatible server) over httpx, batched, with retries."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ragft.errors import InputError, ProviderError
from ragft.llm.http import ProviderClient, openai_client
from ragft.rag.embedders.base import l2_normalise

DEFAULT_MODEL = "text-embedding-3-small"
MODEL_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}


class OpenAIEmbedder:
    """POST {base}/embeddings with up to `batch_size` inputs; vectors are placed by their `index` field."""

    def __init__(self, client: ProviderClient, model: str, dim: int, dimensions: int | None = None, batch_size: int = 128):
        self.client = client
        self.model = model
        self.dim = dim
        self.dimensions = dimensions
        self.batch_size = batch_size
        self.name = f"openai:{model}" + (f":{dimensions}" if dimensions else "")

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start : start + self.batch_size]
            out[start : start + len(batch)] = self._vectors(self.client.post_json("embeddings", self.body(batch)), len(batch))
        return l2_normalise(out)

    def body(self, batch: list[str]) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "input": batch, "encoding_format": "float"}
        if self.dimensions:
            body["dimensions"] = self.dimensions
        return body

    def _vectors(self, payload: dict[str, Any], expected: int) -> np.ndarray:
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, list) or len(data) != expected:
            got = len(data) if isinstance(data, list) else "no"
            raise self._error(f"expected {expected} embeddings in 'data', got {got}")
        vectors = np.zeros((expected, self.dim), dtype=np.float32)
        for item in data:
            index, vector = item.get("index"), item.get("embedding")
            if not isinstance(index, int) or not 0 <= index < expected or not isinstance(vector, list):
                raise self._error("an item in 'data' lacks a valid 'index' or 'embedding'")
            if len(vector) != self.dim:
                raise self._error(f"embedding has {len(vector)} dimensions, expected {self.dim} for {self.model}")
            vectors[index] = vector
        return vectors

    def _error(self, message: str) -> ProviderError:
        return ProviderError(f"{self.client.provider}: {self.client.base_url}/embeddings: {message}")


def create_openai(
    model: str = DEFAULT_MODEL,
    dimensions: int | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    batch_size: int = 128,
    timeout: float = 60.0,
    max_retries: int = 3,
) -> OpenAIEmbedder:
    """`dimensions` shortens text-embedding-3-* vectors; it is required for models not in MODEL_DIMENSIONS."""
    client = openai_client("the openai embedder", api_key, base_url, timeout, max_retries)
    dim = dimensions or MODEL_DIMENSIONS.get(model)
    if not dim:
        known = ", ".join(MODEL_DIMENSIONS)
        raise InputError(f"openai embedder: dimension of model '{model}' unknown; pass dimensions=N (known: {known})")
    return OpenAIEmbedder(client, model, int(dim), dimensions, batch_size)
