"""The Anthropic Messages API over httpx: POST {base}/v1/messages, streamed as SSE events."""
from __future__ import annotations

import os
from typing import Any, Iterator

from ragft.errors import InputError, ProviderError
from ragft.llm.base import Generation, GenerationRequest
from ragft.llm.http import ProviderClient
from ragft.llm.prompts import system_prompt, user_message
from ragft.llm.streaming import Event, Usage, collect, text_pieces
from ragft.secrets import get_key

ANTHROPIC_BASE_URL = "https://api.anthropic.com"
ANTHROPIC_VERSION = "2023-06-01"
DEFAULT_ANTHROPIC_MODEL = "claude-haiku-4-5"


class AnthropicGenerator:
    name = "anthropic"

    def __init__(self, client: ProviderClient, model: str):
        self.client = client
        self.model = model

    def generate(self, request: GenerationRequest) -> Generation:
        prompt = f"{system_prompt(request)}\n{user_message(request)}"
        return collect(self._events(request), request, prompt, self.model)

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        return text_pieces(self._events(request))

    def body(self, request: GenerationRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "system": system_prompt(request),
            "messages": [{"role": "user", "content": user_message(request)}],
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "stream": True,
        }
        if request.stop:
            body["stop_sequences"] = list(request.stop)
        return body

    def _events(self, request: GenerationRequest) -> Iterator[Event]:
        input_tokens: int | None = None
        model = self.model
        for sse in self.client.stream_sse("v1/messages", self.body(request)):
            event = sse.json("anthropic")
            kind = event.get("type", sse.event)
            if kind == "message_start":
                message = event.get("message", {})
                input_tokens = message.get("usage", {}).get("input_tokens")
                model = message.get("model", model)
            elif kind == "content_block_delta" and event.get("delta", {}).get("type") == "text_delta":
                yield event["delta"].get("text", "")
            elif kind == "message_delta":
                yield Usage(input_tokens, event.get("usage", {}).get("output_tokens"), model)
            elif kind == "error":
                error = event.get("error", {})
                raise ProviderError(
                    f"anthropic: stream error {error.get('type', '')}: {' '.join(str(error.get('message', '')).split())}"
                )
            elif kind == "message_stop":
                break



def create_anthropic(
    model: str = DEFAULT_ANTHROPIC_MODEL,
    api_key: str | None = None,
    base_url: str | None = None,
    timeout: float = 60.0,
    max_retries: int = 3,
) -> AnthropicGenerator:
    key = api_key or get_key("ANTHROPIC_API_KEY")
    if not key:
        raise InputError("the anthropic generator needs an API key: set ANTHROPIC_API_KEY (or pass api_key=...)")
    client = ProviderClient(
        provider="anthropic",
        base_url=base_url or os.environ.get("ANTHROPIC_BASE_URL") or ANTHROPIC_BASE_URL,
        headers={"x-api-key": key, "anthropic-version": ANTHROPIC_VERSION},
        secret=key,
        key_hint="check ANTHROPIC_API_KEY",
        timeout=timeout,
        max_retries=max_retries,
    )
    return AnthropicGenerator(client, model)
