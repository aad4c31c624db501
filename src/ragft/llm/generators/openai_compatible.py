"""OpenAI-compatible servers (Ollama, vLLM, llama.cpp server, LM Studio): the Chat Completions client by base URL."""
from __future__ import annotations

import os

from ragft.errors import InputError
from ragft.llm.generators.openai import ChatCompletionsGenerator
from ragft.llm.http import ProviderClient
from ragft.secrets import get_key

DEFAULT_BASE_URL = "http://127.0.0.1:11434/v1"   # Ollama's OpenAI-compatible endpoint


def create_openai_compatible(
    model: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    timeout: float = 120.0,
    max_retries: int = 3,
) -> ChatCompletionsGenerator:
    if not model:
        raise InputError("the openai-compatible generator needs a model name: pass model=... (e.g. 'llama3.2:1b')")
    # Its own variable, so an OpenAI key is never sent to a third-party server by accident.
    key = api_key or get_key("OPENAI_COMPATIBLE_API_KEY")
    client = ProviderClient(
        provider="openai-compatible",
        base_url=base_url or os.environ.get("OPENAI_COMPATIBLE_BASE_URL") or DEFAULT_BASE_URL,
        headers={"Authorization": f"Bearer {key}"} if key else {},
        secret=key,
        key_hint="check OPENAI_COMPATIBLE_API_KEY",
        timeout=timeout,
        max_retries=max_retries,
    )
    return ChatCompletionsGenerator(client, model, name="openai-compatible")
