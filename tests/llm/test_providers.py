"""The OpenAI, Anthropic and OpenAI-compatible generators against a local server speaking their wire formats."""
from __future__ import annotations

import logging

import pytest

from ragft.errors import InputError, ProviderError
from ragft.llm import GenerationRequest, create_generator
from ragft.llm.base import Passage

from .conftest import ANTHROPIC_KEY, OPENAI_KEY

REQUEST = GenerationRequest(
    question="Who created Python?",
    passages=(Passage(1, "faq-1", "Python was created in the early 1990s by Guido van Rossum at CWI."),),
    max_tokens=64,
)


def _openai(server, **options):
    generator = create_generator("openai", model="gpt-test", api_key=OPENAI_KEY, base_url=f"{server.url}/v1", **options)
    generator.client.backoff_seconds = 0.01
    return generator


def _anthropic(server, **options):
    generator = create_generator("anthropic", model="claude-test", api_key=ANTHROPIC_KEY, base_url=server.url, **options)
    generator.client.backoff_seconds = 0.01
    return generator


def test_openai_generate_streams_chat_completions_and_reads_usage(provider_server):
    answer = _openai(provider_server).generate(REQUEST)
    assert answer.text == provider_server.provider.answer
    assert answer.cited == [1]
    assert (answer.input_tokens, answer.output_tokens) == (42, len(provider_server.provider.pieces()))
    assert answer.first_token_seconds is not None and answer.model == "gpt-test"


def test_openai_request_carries_bearer_key_model_messages_and_token_limit(provider_server):
    _openai(provider_server).generate(REQUEST)
    [received] = provider_server.provider.received
    assert received.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    body = received.body
    assert body["model"] == "gpt-test" and body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["max_completion_tokens"] == 64
    system, user = body["messages"]
    assert system["role"] == "system" and "numbered passages" in system["content"]
    assert user["role"] == "user" and "[1] Python was created" in user["content"] and "Who created Python?" in user["content"]


def test_openai_stream_pieces_join_to_the_generated_text(provider_server):
    generator = _openai(provider_server)
    pieces = list(generator.stream(REQUEST))
    assert len(pieces) > 1
    assert "".join(pieces) == generator.generate(REQUEST).text


def test_openai_401_is_one_line_without_the_key_and_is_not_retried(provider_server, caplog):
    generator = create_generator("openai", model="gpt-test", api_key="sk-wrong-key-123456", base_url=f"{provider_server.url}/v1")
    with caplog.at_level(logging.DEBUG), pytest.raises(ProviderError) as error:
        generator.generate(REQUEST)
    message = str(error.value)
    assert "\n" not in message and "HTTP 401" in message and "OPENAI_API_KEY" in message
    assert "Incorrect API key provided." in message
    assert "sk-wrong-key-123456" not in message
    assert all("sk-wrong-key-123456" not in record.getMessage() for record in caplog.records)
    assert len(provider_server.provider.received) == 1


def test_openai_429_then_200_is_retried_and_succeeds(provider_server):
    provider_server.provider.fail_first = [429, 503]
    answer = _openai(provider_server).generate(REQUEST)
    assert answer.text == provider_server.provider.answer
    assert len(provider_server.provider.received) == 3


def test_openai_persistent_500_fails_after_the_allowed_retries(provider_server):
    provider_server.provider.always_status = 500
    with pytest.raises(ProviderError, match="HTTP 500 after 3 attempts: simulated 500"):
        _openai(provider_server, max_retries=2).generate(REQUEST)
    assert len(provider_server.provider.received) == 3


def test_openai_without_a_key_says_which_variable_to_set(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(InputError, match="OPENAI_API_KEY"):
        create_generator("openai")


def test_openai_key_and_base_url_come_from_the_environment(provider_server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", f"{provider_server.url}/v1")
    assert create_generator("openai", model="gpt-test").generate(REQUEST).text == provider_server.provider.answer


def test_openai_compatible_server_without_a_key_gets_no_authorization_header(provider_server, monkeypatch):
    monkeypatch.delenv("OPENAI_COMPATIBLE_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)   # must not leak to a third-party server
    provider_server.openai_key = None
    generator = create_generator("openai-compatible", model="llama3.2:1b", base_url=f"{provider_server.url}/v1")
    answer = generator.generate(REQUEST)
    [received] = provider_server.provider.received
    assert answer.text == provider_server.provider.answer
    assert "authorization" not in received.headers
    assert received.body["model"] == "llama3.2:1b" and received.body["max_tokens"] == 64


def test_openai_compatible_needs_a_model_name():
    with pytest.raises(InputError, match="model"):
        create_generator("openai-compatible")


def test_anthropic_generate_reads_text_deltas_and_usage(provider_server):
    answer = _anthropic(provider_server).generate(REQUEST)
    assert answer.text == provider_server.provider.answer
    assert answer.cited == [1]
    assert (answer.input_tokens, answer.output_tokens) == (37, len(provider_server.provider.pieces()))


def test_anthropic_request_has_key_version_top_level_system_and_max_tokens(provider_server):
    generator = _anthropic(provider_server)
    assert "".join(generator.stream(REQUEST)) == provider_server.provider.answer
    [received] = provider_server.provider.received
    assert received.headers["x-api-key"] == ANTHROPIC_KEY
    assert received.headers["anthropic-version"] == "2023-06-01"
    body = received.body
    assert body["model"] == "claude-test" and body["max_tokens"] == 64 and body["stream"] is True
    assert "numbered passages" in body["system"]
    assert [m["role"] for m in body["messages"]] == ["user"]


def test_anthropic_401_is_one_line_without_the_key(provider_server):
    generator = create_generator("anthropic", model="claude-test", api_key="sk-ant-wrong-999999", base_url=provider_server.url)
    with pytest.raises(ProviderError) as error:
        generator.generate(REQUEST)
    message = str(error.value)
    assert message.startswith("anthropic: ") and "HTTP 401" in message and "invalid x-api-key" in message
    assert "sk-ant-wrong-999999" not in message and "ANTHROPIC_API_KEY" in message and "\n" not in message


def test_anthropic_529_overloaded_is_retried(provider_server):
    provider_server.provider.fail_first = [529]
    assert _anthropic(provider_server).generate(REQUEST).text == provider_server.provider.answer
    assert len(provider_server.provider.received) == 2


def test_anthropic_error_event_inside_the_stream_raises_provider_error(provider_server):
    provider_server.provider.stream_error = True
    with pytest.raises(ProviderError, match="overloaded_error"):
        _anthropic(provider_server).generate(REQUEST)


def test_unreachable_server_is_a_one_line_provider_error():
    generator = create_generator("openai-compatible", model="m", base_url="http://127.0.0.1:9/v1", max_retries=0)
    with pytest.raises(ProviderError, match="cannot reach http://127.0.0.1:9/v1/chat/completions"):
        generator.generate(REQUEST)
