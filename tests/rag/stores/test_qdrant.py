"""Qdrant: the URL grammar (server, TLS, gRPC, cluster settings, local mode) and its errors; the behaviour
itself is covered by the conformance suite in local mode."""
from __future__ import annotations

import pytest

from ragft.errors import InputError
from ragft.rag.stores import open_store

from store_cases import make_chunks, unit_vectors

pytest.importorskip("qdrant_client", reason="qdrant tests need the stores extra (`make install`)")

from ragft.rag.stores.qdrant_store import folder_prefixes, parse_url  # noqa: E402


def test_server_urls_name_host_port_collection_and_cluster_settings(monkeypatch):
    monkeypatch.delenv("QDRANT_API_KEY", raising=False)
    client, collection, params = parse_url("qdrant://qdrant.internal:6333/faq?shards=6&replication=2")
    assert client == {"host": "qdrant.internal", "https": False, "prefer_grpc": False, "api_key": None,
                      "port": 6333}
    assert collection == "faq" and params == {"shards": "6", "replication": "2"}
    monkeypatch.setenv("QDRANT_API_KEY", "k3y")
    client, collection, _ = parse_url("qdrant+https://xyz.cloud.qdrant.io:6334/docs?grpc=1")
    assert client == {"host": "xyz.cloud.qdrant.io", "https": True, "prefer_grpc": True, "api_key": "k3y",
                      "grpc_port": 6334}
    assert parse_url("qdrant://localhost")[1] == "ragft"


def test_local_urls_name_a_folder_and_optionally_a_collection(tmp_path):
    client, collection, _ = parse_url(f"qdrant+local://{tmp_path}/q?collection=faq")
    assert client == {"path": f"{tmp_path}/q"} and collection == "faq"
    with pytest.raises(InputError, match="expected qdrant\\+local:///PATH"):
        parse_url("qdrant+local://")
    with pytest.raises(InputError, match="expected qdrant://HOST"):
        parse_url("qdrant:///a/b")


def test_cluster_settings_must_be_integers():
    with pytest.raises(InputError, match="shards='two' must be an integer"):
        open_store("qdrant://localhost:6333/faq?shards=two")


def test_an_unreachable_server_is_a_one_line_error_naming_the_url():
    with pytest.raises(InputError, match=r"cannot reach qdrant://127.0.0.1:9/faq") as error:
        open_store("qdrant://127.0.0.1:9/faq")
    assert "\n" not in str(error.value)


def test_a_local_folder_held_by_another_client_is_refused_with_the_reason(tmp_path):
    location = f"qdrant+local://{tmp_path}"
    first = open_store(location)
    first.upsert(make_chunks(2), unit_vectors(2))
    with pytest.raises(InputError, match="cannot open qdrant\\+local"):
        open_store(location)
    first.close()


def test_folder_prefixes_are_what_a_prefix_filter_ending_in_a_slash_matches():
    assert folder_prefixes("faq/library/general.rst") == ["faq/", "faq/library/"]
    assert folder_prefixes("README.md") == []
