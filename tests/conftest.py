"""Session-wide fixtures shared by several test folders: one local Ray instance (starting Ray takes seconds)."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

import ragft
from ragft.rag.distributed import LOOPBACK_ONLY
from ragft.testing import HashingEmbedder

CRASH_MARKER_ENV = "RAGFT_TEST_CRASH_MARKER"
os.environ.setdefault(LOOPBACK_ONLY, "0")     # before anything imports ray: the test instance binds 127.0.0.1 only


class CrashOnceEmbedder(HashingEmbedder):
    """The hashing embedder, except that the first call in any Ray worker kills that worker's process
    (os._exit, as an OOM kill or a lost node would): the marker file records that it happened."""

    name = "test-crash-once:v1"

    def embed(self, texts):
        marker = os.environ.get(CRASH_MARKER_ENV)
        if marker and not Path(marker).exists():
            Path(marker).touch()
            os._exit(1)
        return super().embed(texts)


def register_test_embedders() -> None:
    """Run in every Ray worker at start: the test embedders the driver registers per test."""
    from ragft.rag.embedders.base import EMBEDDERS

    for name, factory in (("test-hashing", HashingEmbedder), ("test-crash-once", CrashOnceEmbedder)):
        if name not in EMBEDDERS.names():
            EMBEDDERS.register(name)(factory)


@pytest.fixture(scope="session")
def ray_cluster(tmp_path_factory):
    """A real local Ray instance with 2 CPUs for the whole session; workers import this tree's ragft and
    know the test embedders. `.crash_marker`: the file `.crash_embedder` creates when it kills a worker."""
    ray = pytest.importorskip("ray", reason="the Ray tests need the cluster extra (`make install`)")
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    marker = tmp_path_factory.mktemp("ray") / "crashed"
    source = str(Path(ragft.__file__).resolve().parents[1])
    path = os.pathsep.join(p for p in (source, os.environ.get("PYTHONPATH")) if p)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": path, CRASH_MARKER_ENV: str(marker)},
                          "worker_process_setup_hook": register_test_embedders})
    yield SimpleNamespace(ray=ray, crash_marker=marker, crash_embedder=CrashOnceEmbedder)
    ray.shutdown()
