"""The one exception family: every message names the file/field and what to do."""
from __future__ import annotations


class RagftError(Exception):
    """Base of every error ragft raises on purpose; its message is shown to people as is."""


class InputError(RagftError):
    """A file, field or flag the user gave is wrong (bad value, unknown key, malformed line)."""


class NotFoundError(RagftError):
    """Something named by the user does not exist (a file, a model, an index, a run)."""


class NoIndexError(NotFoundError):
    """Nothing has been indexed at `location` (a folder or a store URL) yet; the faces add how to make one."""

    def __init__(self, location: str, remote: bool = False):
        self.location, self.remote = location, remote
        super().__init__(f"no index at {location}: sync documents into it first")


class IndexMismatchError(RagftError):
    """An index was built with other settings (embedder, dimension) than the ones in use."""


class ProviderError(RagftError):
    """A model provider (OpenAI, Anthropic, an OpenAI-compatible server) failed or refused."""


class MissingDependencyError(RagftError):
    """An optional dependency needed for the chosen backend is not installed."""

    def __init__(self, package: str, extra: str, purpose: str):
        super().__init__(
            f"{purpose} needs the package '{package}': install it with "
            f"`pip install 'ragft[{extra}]'` (`make install` installs every extra)"
        )
