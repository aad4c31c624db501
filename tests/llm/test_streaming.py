"""Stop sequences cut streamed text even when split across pieces; SSE lines parse into events."""
from __future__ import annotations

from ragft.llm.http import parse_sse, redact
from ragft.llm.streaming import StopScanner


def _scan(pieces: list[str], stops: tuple[str, ...]) -> tuple[list[str], str]:
    scanner = StopScanner(stops)
    emitted = [scanner.feed(p) for p in pieces]
    emitted.append(scanner.finish())
    return [e for e in emitted if e], "".join(emitted)


def test_stop_sequence_split_across_pieces_ends_the_answer_before_it():
    _, text = _scan([" The answer", " is 42.\n", "\nQuest", "ion: next"], ("\n\n", "Question:"))
    assert text == "The answer is 42."


def test_text_that_only_starts_like_a_stop_sequence_is_released():
    _, text = _scan(["Ques", "ts are fun", "."], ("Question:",))
    assert text == "Quests are fun."


def test_without_a_stop_the_answer_is_stripped_and_nothing_is_lost():
    pieces, text = _scan(["  Paris", " is", " big", " \n"], ("\n\n",))
    assert text == "Paris is big" and "".join(pieces) == text


def test_sse_parser_joins_multiline_data_skips_comments_and_keeps_event_names():
    lines = [": keep-alive", "event: message_start", 'data: {"a":', 'data: 1}', "", "data: [DONE]", ""]
    events = list(parse_sse(iter(lines)))
    assert [(e.event, e.data) for e in events] == [("message_start", '{"a":\n1}'), (None, "[DONE]")]


def test_redact_removes_the_secret_everywhere():
    assert redact("key sk-abc123 failed, sk-abc123", "sk-abc123") == "key [redacted] failed, [redacted]"
