"""The Chat Completions wire format over httpx: OpenAI itself, and (by base URL) Ollama, vLLM, llama.cpp server."""
from __future__ import annotations

from typing import Any, Iterator

from ragft.errors import ProviderError
from ragft.llm.base import Generation, GenerationRequest
from ragft.llm.http import ProviderClient, openai_client
from ragft.llm.prompts import system_prompt, user_message
from ragft.llm.streaming import Event, Usage, collect, text_pieces

DEFAULT_OPENAI_MODEL = "gpt-4o-mini"


class ChatCompletionsGenerator:
    """POST {base}/chat/completions with stream=true; usage comes from the include_usage chunk."""

    def __init__(self, client: ProviderClient, model: str, name: str, max_tokens_field: str = "max_tokens"):
        self.client = client
        self.model = model
        self.name = name
        self.max_tokens_field = max_tokens_field

    def generate(self, request: GenerationRequest) -> Generation:
        return collect(self._events(request), request, _prompt_text(request), self.model)

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        return text_pieces(self._events(request))

    def body(self, request: GenerationRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": system_prompt(request)},
                {"role": "user", "content": user_message(request)},
            ],
            self.max_tokens_field: request.max_tokens,
            "temperature": request.temperature,
            "seed": request.seed,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if request.stop:
            body["stop"] = list(request.stop[:4])   # the API accepts at most 4
        return body

    def _events(self, request: GenerationRequest) -> Iterator[Event]:
        for sse in self.client.stream_sse("chat/completions", self.body(request)):
            if sse.data.strip() == "[DONE]":
                break
            chunk = sse.json(self.client.provider)
            if "error" in chunk:
                raise ProviderError(f"{self.client.provider}: stream error: {_one_line(chunk['error'])}")
            for choice in chunk.get("choices") or []:
                yield (choice.get("delta") or {}).get("content") or ""
            if chunk.get("usage"):
                usage = chunk["usage"]
                yield Usage(usage.get("prompt_tokens"), usage.get("completion_tokens"), chunk.get("model", ""))



def _one_line(error: Any) -> str:
    message = error.get("message", error) if isinstance(error, dict) else error
    return " ".join(str(message).split())


def _prompt_text(request: GenerationRequest) -> str:
    return f"{system_prompt(request)}\n{user_message(request)}"


def create_openai(
    model: str = DEFAULT_OPENAI_MODEL,
    api_key: str | None = None,
    base_url: str | None = None,
    timeout: float = 60.0,
    max_retries: int = 3,
) -> ChatCompletionsGenerator:
    client = openai_client("the openai generator", api_key, base_url, timeout, max_retries)
    return ChatCompletionsGenerator(client, model, name="openai", max_tokens_field="max_completion_tokens")
