"""Prompt-injection text in documents: a small pattern detector whose flags travel with answers and reports.

Retrieved text always reaches a model as quoted passage data in the user turn, never as instructions; this
detector only makes such text visible ("chunk X tries to override instructions"), it does not drop it.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any, Iterable

_EXCERPT = 80

PATTERNS: dict[str, re.Pattern[str]] = {
    "override": re.compile(
        r"\b(ignore|disregard|forget|override)\s+(all\s+|any\s+|the\s+|your\s+)*(previous|prior|above|earlier|"
        r"preceding|original|system)\s+(instructions?|prompts?|rules|directions|messages?)", re.I),
    "role_tag": re.compile(
        r"<\|(im_start|im_end|system|assistant|user|endoftext)\|>|\[/?INST\]|<</?SYS>>|<start_of_turn>|"
        r"</?(system|assistant)>|^[ \t]*#{0,3}[ \t]*(system|assistant)[ \t]*:(?!\S)", re.I | re.M),
    "system_prompt": re.compile(
        r"\b(new|updated|real|actual|hidden)\s+(system\s+)?(instructions|system prompt)\s*:|"
        r"\b(reveal|print|show|repeat|output)\s+(me\s+)?(your|the)\s+(system\s+prompt|instructions|hidden prompt)|"
        r"\byou\s+are\s+now\s+(a|an|in|the|no longer)\b|\bfrom\s+now\s+on,?\s+you\s+(are|will|must)\b", re.I),
    "exfiltration": re.compile(
        r"!\[[^\]]*\]\(\s*https?://[^)\s]+\?[^)\s]*=|\b(send|post|upload|forward)\s+(the\s+)?(conversation|"
        r"chat history|api key|password|credentials|secrets?)\s+to\b", re.I),
}


@dataclass(frozen=True)
class InjectionFlag:
    chunk_id: str
    kind: str          # override, role_tag, system_prompt, exfiltration
    excerpt: str       # the matched text with a little context, one line

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def scan(text: str) -> list[tuple[str, str]]:
    """(kind, excerpt) for each kind of injection text found in `text`, first match of each kind."""
    found = []
    for kind, pattern in PATTERNS.items():
        match = pattern.search(text)
        if match:
            start, end = max(match.start() - 20, 0), min(match.end() + 20, len(text))
            excerpt = " ".join(text[start:end].split())
            found.append((kind, excerpt[:_EXCERPT * 2]))
    return found


def flag(passages: Iterable[tuple[str, str]]) -> list[InjectionFlag]:
    """Flags for (chunk_id, text) pairs, in order; a chunk seen twice is flagged once."""
    flags, seen = [], set()
    for chunk_id, text in passages:
        if chunk_id in seen:
            continue
        seen.add(chunk_id)
        flags += [InjectionFlag(chunk_id, kind, excerpt) for kind, excerpt in scan(text)]
    return flags


def flag_hits(hits) -> list[InjectionFlag]:
    """Flags for retrieved hits (anything with .chunk.id and .chunk.text)."""
    return flag((hit.chunk.id, hit.chunk.text) for hit in hits)
