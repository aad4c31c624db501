"""Library errors in the CLI's words: the library names parameters (`rebuild=True`, `chunk_tokens=120`); a
command line user is told the flags that set them."""
from __future__ import annotations

import re

from ragft.errors import NoIndexError, RagftError

_FLAGS = (
    (re.compile(r"^sync_on_ray:"), "--engine ray:"),
    (re.compile(r"\brebuild=True\b"), "--rebuild"),
    (re.compile(r"\bchunk_tokens=(\S+)"), r"--chunk-tokens \1"),
    (re.compile(r"\bchunk_tokens\b"), "--chunk-tokens"),
    (re.compile(r"\boverlap=(\S+)"), r"--overlap \1"),
    (re.compile(r"\bembedder=(\S+)"), r"--embedder \1"),
    (re.compile(r"\bstore=(\S+)"), r"--store \1"),
)


def cli_message(error: RagftError) -> str:
    """The one-line message `ragft` prints for a library error."""
    if isinstance(error, NoIndexError):
        return f"no index at {error.location}: run `ragft index DIR{' --store URL' if error.remote else ''}` first"
    message = str(error)
    for pattern, flag in _FLAGS:
        message = pattern.sub(flag, message)
    return message
