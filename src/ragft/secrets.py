"""API keys: read from the environment or the system keyring, and scrubbed from any text ragft shows or writes.

`redact` is the one scrubber: provider errors, server logs, run folders and reports all go through it.
"""
from __future__ import annotations

import logging
import os
import re

from ragft.errors import InputError

KEYRING_SERVICE = "ragft"
MASK = "[redacted]"
_MIN_SECRET = 8
# Variables whose values are secrets wherever they turn up.
_SECRET_NAME = re.compile(r"(API_KEY|_TOKEN|_SECRET|PASSWORD)$")
# Key shapes worth scrubbing even when ragft never saw the value: OpenAI/Anthropic keys, bearer headers.
_KEY_SHAPES = re.compile(r"\b(sk-(?:ant-|proj-)?[A-Za-z0-9_\-]{16,})|(?<=Bearer )[A-Za-z0-9._\-]{16,}")


def get_key(name: str, required_for: str | None = None) -> str | None:
    """The secret in environment variable `name`, else in the keyring (service "ragft", user `name`) when the
    `keyring` package is installed. With `required_for`, a missing key is an InputError saying how to set it."""
    value = os.environ.get(name) or _from_keyring(name)
    if not value and required_for:
        raise InputError(
            f"{required_for} needs an API key: set {name} in the environment "
            f"(or store it with `keyring set {KEYRING_SERVICE} {name}`)"
        )
    return value or None


def _from_keyring(name: str) -> str | None:
    try:
        import keyring
    except ImportError:
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE, name)
    except Exception:  # a keyring with no usable backend behaves as an empty one
        return None


def known_secrets() -> list[str]:
    """Values of the secret-named environment variables (at least 8 characters), longest first."""
    values = {v for k, v in os.environ.items() if _SECRET_NAME.search(k.upper()) and len(v) >= _MIN_SECRET}
    return sorted(values, key=len, reverse=True)


def redact(text: str, *secrets: str | None) -> str:
    """`text` with the given secrets, every secret-named environment variable's value and key-shaped strings
    (sk-..., Bearer ...) replaced by [redacted]."""
    if not text:
        return text
    given = [s for s in secrets if s and len(s) >= 4]
    for secret in sorted({*given, *known_secrets()}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return _KEY_SHAPES.sub(MASK, text)


class RedactingFilter(logging.Filter):
    """A logging filter that scrubs secrets from each record's formatted message (and traceback text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> None:
    """Scrub secrets from everything `logger` (default: the root logger) and its handlers emit."""
    target = logger or logging.getLogger()
    if not any(isinstance(f, RedactingFilter) for f in target.filters):
        target.addFilter(RedactingFilter())
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
