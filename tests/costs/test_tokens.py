"""Token counts come from tiktoken offline or a stated approximation, measured from real files."""
from __future__ import annotations

import gzip
import json

import pytest

from ragft.costs.tokens import counter_for, measure_corpus, measure_prompts, measure_training_set
from ragft.errors import InputError, NotFoundError


def test_cl100k_counts_offline_with_the_real_encoding():
    counter = counter_for("cl100k_base")
    assert counter.count("hello world") == 2
    assert counter.count("tiktoken is great!") == 6
    assert counter.deviation == ""


def test_o200k_without_a_local_cache_uses_cl100k_and_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    counter = counter_for("o200k_base")
    assert "cl100k_base" in counter.method
    assert "o200k_base is not cached" in counter.deviation
    assert counter.count("hello world") == 2


def test_claude_tokens_are_characters_over_four_with_the_reason():
    counter = counter_for("chars/4")
    assert counter.count("x" * 400) == 100
    assert counter.count("abcde") == 2  # 5 chars rounds up
    assert "Anthropic" in counter.deviation


def test_prompt_sample_from_text_and_jsonl(tmp_path):
    counter = counter_for("chars/4")
    text = tmp_path / "prompts.txt"
    text.write_text("a" * 40 + "\n\n" + "b" * 80 + "\n")
    sample = measure_prompts(text, counter)
    assert (sample.prompts, sample.total_tokens, sample.mean_tokens, sample.max_tokens) == (2, 30, 15, 20)
    jsonl = tmp_path / "prompts.jsonl"
    jsonl.write_text(json.dumps({"question": "c" * 8}) + "\n" + json.dumps({"prompt": "d" * 16}) + "\n")
    assert measure_prompts(jsonl, counter).total_tokens == 2 + 4


def test_corpus_tokens_read_text_and_gzip_and_skip_binaries(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.md").write_text("e" * 400)
    (tmp_path / "sub" / "b.txt.gz").write_bytes(gzip.compress(b"f" * 800))
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n")
    corpus = measure_corpus(tmp_path, counter_for("chars/4"))
    assert (corpus.files, corpus.skipped_files, corpus.characters, corpus.tokens) == (2, 1, 1200, 300)


def test_training_tokens_from_chat_and_prompt_completion_jsonl(tmp_path):
    counter = counter_for("cl100k_base")
    chat = tmp_path / "chat.jsonl"
    example = {"messages": [{"role": "user", "content": "hello world"},
                            {"role": "assistant", "content": "hello world"}]}
    chat.write_text(json.dumps(example) + "\n" + json.dumps(example) + "\n")
    data = measure_training_set(chat, counter)
    # per example: (2 + 3) + (2 + 3) message tokens + 3 reply priming = 13
    assert (data.examples, data.total_tokens, data.mean_tokens) == (2, 26, 13)
    pc = tmp_path / "pc.jsonl"
    pc.write_text(json.dumps({"prompt": "hello world", "completion": "tiktoken is great!"}) + "\n")
    assert measure_training_set(pc, counter).total_tokens == 2 + 6


def test_malformed_training_line_names_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"prompt": "a", "completion": "b"}\n{not json}\n')
    with pytest.raises(InputError, match=r"bad\.jsonl:2: not valid JSON"):
        measure_training_set(path, counter_for("chars/4"))
    wrong = tmp_path / "wrong.jsonl"
    wrong.write_text('{"text": "a"}\n')
    with pytest.raises(InputError, match=r"wrong\.jsonl:1: expected chat format"):
        measure_training_set(wrong, counter_for("chars/4"))
    with pytest.raises(NotFoundError):
        measure_corpus(tmp_path / "nowhere", counter_for("chars/4"))
