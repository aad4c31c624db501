"""`ragft` with the server tests' hashing embedder registered, for tests that start a real server process:
`python tests/server/hashing_serve.py serve ...`. The registration runs at import as a script, so the worker
processes of `--processes N` (spawned: each runs this file again as __mp_main__) find the embedder too; imported
as a module (the tests' conftest) it registers nothing."""
from __future__ import annotations

from ragft.rag.embedders.base import EMBEDDERS
from ragft.testing import HashingEmbedder

NAME = "test-server-hashing"


class ServerHashingEmbedder(HashingEmbedder):
    name = "test-server-hashing:v1"


if __name__ in ("__main__", "__mp_main__"):
    EMBEDDERS.register(NAME)(ServerHashingEmbedder)

if __name__ == "__main__":
    from ragft.cli import main

    main()
