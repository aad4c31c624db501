"""The one HTTP client for model providers: JSON POST and SSE streams, retries on 429/5xx, redacted one-line errors."""
from __future__ import annotations

import functools
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

from ragft.errors import ProviderError
from ragft.secrets import redact  # the one scrubber; re-exported for callers of ragft.llm.http

RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})


@dataclass(frozen=True)
class SseEvent:
    event: str | None
    data: str

    def json(self, provider: str) -> dict[str, Any]:
        try:
            return json.loads(self.data)
        except ValueError:
            raise ProviderError(f"{provider}: stream sent a data line that is not JSON: {self.data[:80]!r}") from None


@dataclass
class ProviderClient:
    """POSTs JSON to `base_url + path` for one provider; `secret` is scrubbed from every error message."""

    provider: str                       # shown in errors, e.g. "openai"
    base_url: str
    headers: dict[str, str] = field(default_factory=dict)
    secret: str | None = None
    key_hint: str = ""                  # what to fix on 401/403, e.g. "check OPENAI_API_KEY"
    timeout: float = 60.0
    max_retries: int = 3
    backoff_seconds: float = 0.5
    max_backoff_seconds: float = 20.0

    def post_json(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        import httpx

        url = self._url(path)
        for attempt in range(self.max_retries + 1):
            with httpx.Client(timeout=self._timeout(), verify=_tls()) as client:
                response = self._send(client, url, body, attempt, stream=False)
                if response is None:
                    continue
                try:
                    return response.json()
                except ValueError:
                    raise self._error(f"{url} returned a body that is not JSON") from None
        raise AssertionError("unreachable")

    def stream_sse(self, path: str, body: dict[str, Any]) -> Iterator[SseEvent]:
        """Server-sent events of a streamed response; retried only before the first byte arrives."""
        import httpx

        url = self._url(path)
        for attempt in range(self.max_retries + 1):
            with httpx.Client(timeout=self._timeout(), verify=_tls()) as client:
                response = self._send(client, url, body, attempt, stream=True)
                if response is None:
                    continue
                try:
                    yield from parse_sse(response.iter_lines())
                except httpx.HTTPError as error:
                    raise self._error(f"stream from {url} broke: {type(error).__name__} {error}") from None
                finally:
                    response.close()
                return

    def _send(self, client, url: str, body: dict[str, Any], attempt: int, stream: bool):
        """The response if it succeeded, None if it should be retried (after sleeping); raises otherwise."""
        import httpx

        try:
            request = client.build_request("POST", url, json=body, headers=self.headers)
            response = client.send(request, stream=stream)
        except httpx.TransportError as error:
            if attempt < self.max_retries:
                self._sleep(attempt, None)
                return None
            raise self._error(f"cannot reach {url}: {type(error).__name__} {error}") from None
        if response.status_code < 400:
            return response
        response.read()
        response.close()
        if response.status_code in RETRY_STATUSES and attempt < self.max_retries:
            self._sleep(attempt, response.headers.get("retry-after"))
            return None
        raise self._status_error(url, response)

    def _status_error(self, url: str, response) -> ProviderError:
        status = response.status_code
        hint = f"; {self.key_hint}" if status in (401, 403) and self.key_hint else ""
        tries = f" after {self.max_retries + 1} attempts" if status in RETRY_STATUSES else ""
        return self._error(f"{url} answered HTTP {status}{tries}: {error_message(response)}{hint}")

    def _error(self, message: str) -> ProviderError:
        return ProviderError(redact(f"{self.provider}: {message}", self.secret))

    def _sleep(self, attempt: int, retry_after: str | None) -> None:
        delay = self.backoff_seconds * (2**attempt) * (1 + 0.25 * random.random())
        if retry_after:
            try:
                delay = max(delay, float(retry_after))
            except ValueError:
                pass
        time.sleep(min(delay, self.max_backoff_seconds))

    def _url(self, path: str) -> str:
        return f"{self.base_url.rstrip('/')}/{path.lstrip('/')}"

    def _timeout(self):
        import httpx

        return httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0))


@functools.lru_cache(maxsize=1)
def _tls():
    """One TLS context per process: building one loads the CA bundle (~0.2 s of CPU on a busy machine), which
    made every request pay it and serialised concurrent eval requests on the GIL. Contexts are thread-safe."""
    import httpx

    return httpx.create_ssl_context()


def parse_sse(lines: Iterator[str]) -> Iterator[SseEvent]:
    """Server-sent events from text lines: `event:` and `data:` fields, dispatched at each blank line."""
    event: str | None = None
    data: list[str] = []
    for line in lines:
        if not line:
            if data:
                yield SseEvent(event, "\n".join(data))
            event, data = None, []
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)
    if data:
        yield SseEvent(event, "\n".join(data))


def error_message(response) -> str:
    """The provider's own error text (OpenAI and Anthropic both use {"error": {"message": ...}}), on one line."""
    try:
        payload = response.json()
        detail = payload.get("error", payload) if isinstance(payload, dict) else payload
        text = (detail.get("message") or json.dumps(detail)) if isinstance(detail, dict) else str(detail)
    except ValueError:
        text = response.text or response.reason_phrase
    return one_line(str(text))


def one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


OPENAI_BASE_URL = "https://api.openai.com/v1"


def openai_client(purpose: str, api_key: str | None = None, base_url: str | None = None, timeout: float = 60.0,
                  max_retries: int = 3) -> ProviderClient:
    """A client for OpenAI's API: key from api_key or OPENAI_API_KEY (one-line error naming `purpose` when
    missing), base URL from base_url, OPENAI_BASE_URL or the public endpoint."""
    import os

    from ragft.errors import InputError
    from ragft.secrets import get_key

    key = api_key or get_key("OPENAI_API_KEY")
    if not key:
        raise InputError(f"{purpose} needs an API key: set OPENAI_API_KEY (or pass api_key=...)")
    return ProviderClient(
        provider="openai",
        base_url=base_url or os.environ.get("OPENAI_BASE_URL") or OPENAI_BASE_URL,
        headers={"Authorization": f"Bearer {key}"},
        secret=key,
        key_hint="check OPENAI_API_KEY",
        timeout=timeout,
        max_retries=max_retries,
    )
