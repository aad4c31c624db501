"""What stands in front of every page: per-client rate limit, request size limit, access token."""
from __future__ import annotations

import hmac
import ipaddress
import time
from dataclasses import dataclass, field

from ragft.errors import InputError

TOKEN_COOKIE = "ragft_token"
LOOPBACK_NAMES = ("localhost",)
RATE_PER_MINUTE = 240          # per client, the default of the whole server
BURST = 60


@dataclass
class TokenBucket:
    """`burst` requests at once per client, refilled at `per_minute`; old clients are forgotten."""

    per_minute: float
    burst: int
    buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def allow(self, client: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        tokens, last = self.buckets.get(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.per_minute / 60)
        allowed = tokens >= 1
        self.buckets[client] = (tokens - 1 if allowed else tokens, now)
        if len(self.buckets) > 10_000:
            self._forget(now)
        return allowed

    def _forget(self, now: float) -> None:
        full_after = 60 * self.burst / self.per_minute
        self.buckets = {k: v for k, v in self.buckets.items() if now - v[1] < full_after}


def token_matches(given: str | None, token: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


def bearer(header: str | None) -> str | None:
    if header and header[:7].lower() == "bearer ":
        return header[7:].strip()
    return None


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse to listen beyond this machine without an access token."""
    if not is_loopback(host) and not token:
        raise InputError(f"--host {host} is reachable from other machines: set an access token in "
                         "RAGFT_SERVE_TOKEN (or the variable named by --token-env), or bind 127.0.0.1")
