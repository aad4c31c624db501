"""pgvector on a real PostgreSQL server: the URL, the HNSW index (and halfvec for wide vectors), filtered
HNSW search, a server restart, and one-line errors."""
from __future__ import annotations

import numpy as np
import pytest

from ragft.errors import InputError, NotFoundError
from ragft.rag.stores import open_store

from store_cases import make_chunks, unit_vectors

pytest.importorskip("psycopg", reason="pgvector tests need the stores extra (`make install`)")

from ragft.rag.stores.pgvector_store import parse_url, redact  # noqa: E402


def plan(store, vector: np.ndarray, where=None) -> str:
    from ragft.rag.stores.pgvector_store import _where_sql

    condition, params = _where_sql(where)
    from psycopg import sql

    statement = sql.SQL("EXPLAIN SELECT id FROM {t} WHERE {c} ORDER BY {d} LIMIT 10").format(
        t=sql.Identifier(store.table), c=condition, d=store._distance_sql())
    return "\n".join(row[0] for row in store._conn.execute(statement, [*params, vector]))


def test_url_names_table_and_hnsw_settings_and_passes_the_rest_to_libpq():
    conninfo, options = parse_url("postgres://me:secret@db.example:5433/rag?table=faq_chunks&ef_search=64"
                                  "&sslmode=require&m=32")
    assert conninfo == "postgresql://me:secret@db.example:5433/rag?sslmode=require"
    assert options == {"table": "faq_chunks", "m": 32, "ef_construction": 64, "ef_search": 64}
    assert parse_url("postgresql://localhost/rag")[1]["table"] == "ragft_chunks"


def test_bad_table_names_and_settings_are_refused_without_showing_the_password():
    with pytest.raises(InputError, match=r"table='Chunks; drop' must be lowercase") as error:
        parse_url("postgresql://me:secret@host/db?table=Chunks;%20drop")
    assert "secret" not in str(error.value) and "me:***@host" in str(error.value)
    with pytest.raises(InputError, match="ef_search='many' must be an integer"):
        parse_url("postgresql://host/db?ef_search=many")
    assert redact("postgresql://me:secret@host/db") == "postgresql://me:***@host/db"


def test_an_unreachable_server_is_a_one_line_error_naming_the_url():
    with pytest.raises(InputError, match=r"cannot connect to postgresql://me:\*\*\*@127.0.0.1:9/db") as error:
        open_store("postgresql://me:secret@127.0.0.1:9/db?connect_timeout=2")
    assert "secret" not in str(error.value) and "\n" not in str(error.value)


def test_compact_builds_the_hnsw_index_that_then_serves_search(postgres):
    store = open_store(postgres.table_url())
    vectors = unit_vectors(3000, dim=32)
    store.upsert(make_chunks(3000), vectors)
    assert "hnsw" not in plan(store, vectors[0])
    assert store.compact() is True and store.compact() is False
    assert "hnsw" in plan(store, vectors[0])
    assert store.dense_search(vectors[42], 1)[0][0] == "c42"
    store.close()


def test_filtered_hnsw_search_still_returns_k_matching_chunks(postgres):
    store = open_store(postgres.table_url())
    vectors = unit_vectors(3000, dim=32)
    chunks = make_chunks(3000, docs=50)            # a filter on one document keeps 2% of the table
    store.upsert(chunks, vectors)
    store.compact()
    where = {"doc_id": "dir1/doc7.md"}
    found = store.dense_search(vectors[0], 10, where=where)
    wanted = [i for i, c in enumerate(chunks) if c.doc_id == "dir1/doc7.md"]
    exact = sorted(wanted, key=lambda i: -float(vectors[i] @ vectors[0]))[:10]
    assert len(found) == 10 and {cid for cid, _ in found} <= {f"c{i}" for i in wanted}
    assert len({cid for cid, _ in found} & {f"c{i}" for i in exact}) >= 9
    store.close()


def test_vectors_wider_than_2000_dimensions_are_indexed_as_halfvec(postgres):
    store = open_store(postgres.table_url())
    vectors = unit_vectors(50, dim=3072)            # text-embedding-3-large
    store.upsert(make_chunks(50), vectors)
    assert store.build_index() is True
    assert "halfvec" in plan(store, vectors[0])
    found = store.dense_search(vectors[9], 3)
    assert found[0][0] == "c9" and found[0][1] == pytest.approx(1.0, abs=1e-3)
    store.close()


def test_chunks_survive_a_server_restart(postgres):
    url = postgres.table_url()
    store = open_store(url)
    vectors = unit_vectors(40)
    store.upsert(make_chunks(40), vectors)
    store.write_meta({"generation": 7})
    store.close()
    postgres.restart()
    reopened = open_store(url, create=False)
    assert reopened.count() == 40 and reopened.read_meta() == {"generation": 7}
    assert reopened.dense_search(vectors[5], 1)[0][0] == "c5"
    reopened.close()


def test_drop_removes_the_index_tables(postgres):
    url = postgres.table_url()
    store = open_store(url)
    store.upsert(make_chunks(3), unit_vectors(3))
    store.drop()
    store.close()
    with pytest.raises(NotFoundError):
        open_store(url, create=False)
