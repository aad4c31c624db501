"""The simple token counter used where no model tokenizer is at hand (extractive answers, provider fallbacks).

A token is a run of word characters or one punctuation character (regex `\\w+|[^\\w\\s]`): it roughly
tracks sub-word tokenizers on English prose (about 0.75x of cl100k_base counts) and needs nothing installed.
"""
from __future__ import annotations

import re

TOKEN_PATTERN = re.compile(r"\w+|[^\w\s]")


def count_tokens(text: str) -> int:
    return len(TOKEN_PATTERN.findall(text))
