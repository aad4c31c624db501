"""How `ragft serve` runs: one process (the app built here, answering from a thread pool), or N processes under
uvicorn's supervisor (its multi-worker mode), each building its own app from the settings in $RAGFT_SERVE_SETTINGS.

The settings travel as JSON in one environment variable; the access token never does: every process reads it
from the variable the settings name (--token-env). The per-client rate limit is kept per process, so each
process gets 1/N of the advertised rate and burst: a client whose requests land on any of them is held to the
advertised limit at most (a little less when they land unevenly). The index is only read; the answer and
embedding caches are shared SQLite files in WAL mode (ragft.rag.shared_sqlite)."""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any

from ragft.errors import InputError, RagftError
from ragft.server.guard import BURST, RATE_PER_MINUTE

SETTINGS_ENV = "RAGFT_SERVE_SETTINGS"
TOKEN_ENV = "RAGFT_SERVE_TOKEN"
MAX_PROCESSES = 64
FACTORY = "ragft.server.launch:app_from_env"


@dataclass(frozen=True)
class ServeSettings:
    index: str
    runs: str
    generator: str = "extractive"
    generator_options: dict[str, Any] = field(default_factory=dict)
    token_env: str = TOKEN_ENV
    processes: int = 1
    rate_per_minute: float = RATE_PER_MINUTE
    burst: int = BURST

    def process_limit(self) -> tuple[float, int]:
        """(rate per minute, burst) one process enforces: the advertised limit split across the processes."""
        return self.rate_per_minute / self.processes, max(1, self.burst // self.processes)

    def token(self) -> str | None:
        return os.environ.get(self.token_env) or None

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServeSettings:
        try:
            return cls(**json.loads(text))
        except (ValueError, TypeError) as error:
            raise InputError(f"${SETTINGS_ENV}: not the settings `ragft serve` writes ({error}); "
                             "start the server with `ragft serve`") from None


def parse_processes(value: str | int) -> int:
    """`--processes`: a whole number from 1 to 64, or "auto" (the cores this process may use)."""
    text = str(value).strip().lower()
    if text == "auto":
        from ragft.cores import usable_cores

        return usable_cores()
    if not text.isdigit() or not 1 <= int(text) <= MAX_PROCESSES:
        raise InputError(f"--processes {value}: give a whole number from 1 to {MAX_PROCESSES}, or auto "
                         "(one per usable core)")
    return int(text)


def build_app(settings: ServeSettings):
    """The app of one serving process, with its share of the rate limit."""
    from ragft.server.app import create_app

    rate, burst = settings.process_limit()
    return create_app(settings.index, settings.runs, settings.token(), rate_per_minute=rate, burst=burst,
                      generator=settings.generator, generator_options=settings.generator_options)


def app_from_env():
    """uvicorn's app factory in each worker process: the settings `serve` left in $RAGFT_SERVE_SETTINGS."""
    text = os.environ.get(SETTINGS_ENV)
    if not text:
        raise InputError(f"${SETTINGS_ENV} is not set: start the server with `ragft serve`")
    return build_app(ServeSettings.from_json(text))


def serve(settings: ServeSettings, host: str, port: int) -> None:
    """Listen on host:port until Ctrl+C (SIGINT) or SIGTERM, which stop every worker process too.
    Refuses a non-loopback host without a token first (ragft.server.guard.check_bind)."""
    from ragft.server.guard import check_bind

    check_bind(host, settings.token())
    import uvicorn

    options = {"host": host, "port": port, "log_level": "warning", "server_header": False}
    if settings.processes == 1:
        uvicorn.run(build_app(settings), **options)
        return
    os.environ[SETTINGS_ENV] = settings.to_json()     # spawned workers inherit the environment
    from ragft.server.tcp_config import TcpConfig

    _run_workers(TcpConfig(FACTORY, factory=True, workers=settings.processes, **options))


def _run_workers(config) -> None:
    """What uvicorn.run does for workers > 1 (bind, then its Multiprocess supervisor, which stops every worker
    on SIGINT/SIGTERM), with our socket; a worker that could not start fails the command."""
    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors import Multiprocess

    sock = config.bind_socket()
    supervisor = Multiprocess(config, sockets=[sock])
    try:
        supervisor.run()
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    if any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes):
        raise RagftError("ragft serve: a worker process could not start; its error is printed above")
