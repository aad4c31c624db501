"""The pgvector store: chunks in a PostgreSQL table searched by an HNSW index (cosine), index meta beside it.

URL: `postgresql://USER:PASSWORD@HOST:PORT/DATABASE?table=ragft_chunks` (`postgres://` is the same). ragft's
own query parameters: `table` (default ragft_chunks; the meta goes to `<table>_meta`), `m` and
`ef_construction` (HNSW build, default 16/64), `ef_search` (default 100). Every other parameter (sslmode,
host=/socket/dir, connect_timeout...) is passed to libpq as is; the password may also come from PGPASSWORD.

The HNSW index is built by `build_index()` (the engine's `compact()` after a sync calls it): a bulk first load
into an unindexed table followed by one index build is several times faster than inserting into the graph.
Until then, and for filters the planner prefers to check first, search is an exact scan. Vectors wider than
2,000 dimensions (pgvector's HNSW limit for `vector`) are indexed as `halfvec`.
"""
from __future__ import annotations

import json
import re
from typing import Any, Iterable, Sequence
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np

from ragft.errors import IndexMismatchError, InputError, MissingDependencyError, NoIndexError
from ragft.rag.document import Chunk
from ragft.rag.stores.base import Store, upsert_vectors

DEFAULT_TABLE = "ragft_chunks"
HNSW_MAX_DIM = 2000
_OWN_PARAMS = ("table", "m", "ef_construction", "ef_search")
_COLUMNS = ("id", "doc_id", "text", "title", "heading_path", "start_char", "end_char", "metadata", "embedding")
_COPY_TYPES = ["text", "text", "text", "text", "jsonb", "int8", "int8", "jsonb", "vector"]
_FETCH = 2000


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def parse_url(location: str) -> tuple[str, dict[str, Any]]:
    """(libpq conninfo URL, ragft options) from a store location."""
    parts = urlsplit(location)
    params = parse_qsl(parts.query, keep_blank_values=True)
    own = {k: v for k, v in params if k in _OWN_PARAMS}
    rest = [(k, v) for k, v in params if k not in _OWN_PARAMS]
    table = own.get("table", DEFAULT_TABLE)
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,50}", table):
        raise InputError(f"{redact(location)}: table={table!r} must be lowercase letters, digits and _ (max 51)")
    options: dict[str, Any] = {"table": table}
    for key, default in (("m", 16), ("ef_construction", 64), ("ef_search", 100)):
        try:
            options[key] = int(own.get(key, default))
        except ValueError:
            raise InputError(f"{redact(location)}: {key}={own[key]!r} must be an integer") from None
    conninfo = urlunsplit(parts._replace(scheme="postgresql", query=urlencode(rest)))
    return conninfo, options


def _where_sql(where: dict[str, Any] | None):
    """(SQL condition, params) with the semantics of ragft.rag.filters.compile_where."""
    from psycopg import sql

    if not where:
        return sql.SQL("TRUE"), []
    if not isinstance(where, dict):
        raise InputError(f"where: expected a mapping of field to value, got {type(where).__name__}")
    parts, params = [], []
    for key, expected in where.items():
        if key == "prefix":
            prefixes = list(expected) if isinstance(expected, (list, tuple)) else [str(expected)]
            ors = []
            for prefix in prefixes:
                ors.append(sql.SQL("(doc_id LIKE %s OR metadata->>'source' LIKE %s)"))
                params += [_like(prefix), _like(prefix)]
            parts.append(sql.SQL("(") + sql.SQL(" OR ").join(ors) + sql.SQL(")"))
            continue
        column = (sql.Identifier(key) if key in ("doc_id", "title", "id")
                  else sql.SQL("metadata->>{}").format(sql.Literal(key)))
        condition, values = _value_sql(column, key, expected)
        parts.append(condition)
        params += values
    return sql.SQL(" AND ").join(parts), params


def _value_sql(column, key: str, expected: Any):
    from psycopg import sql

    if isinstance(expected, (list, tuple, set, frozenset)):
        built = [_value_sql(column, key, value) for value in expected]
        if not built:
            return sql.SQL("FALSE"), []
        return (sql.SQL("(") + sql.SQL(" OR ").join(c for c, _ in built) + sql.SQL(")"),
                [p for _, values in built for p in values])
    if isinstance(expected, str) and expected.endswith("*"):
        return sql.SQL("{} LIKE %s").format(column), [_like(expected[:-1])]
    if expected is None:
        if key in ("doc_id", "title", "id"):
            return sql.SQL("FALSE"), []
        return sql.SQL("(metadata->{} IS NULL OR metadata->{} = 'null'::jsonb)").format(
            sql.Literal(key), sql.Literal(key)), []
    forms = {str(expected)}
    if isinstance(expected, bool) or str(expected) in ("True", "False"):
        forms.add(str(expected).lower())          # JSON spells booleans true/false
    if isinstance(expected, float) and expected.is_integer():
        forms.add(str(int(expected)))
    return sql.SQL("{} = ANY(%s)").format(column), [sorted(forms)]


def _like(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class PgVectorStore(Store):
    """A Store on a PostgreSQL server with the pgvector extension; one table per index."""

    def __init__(self, location: str, dim: int | None = None, create: bool = True):
        try:
            import psycopg
            from pgvector.psycopg import register_vector
        except ImportError:
            raise MissingDependencyError("psycopg", "stores", "the pgvector store") from None
        self.location = location
        self.conninfo, options = parse_url(location)
        self.table: str = options["table"]
        self.m, self.ef_construction, self.ef_search = options["m"], options["ef_construction"], options["ef_search"]
        try:
            self._conn = psycopg.connect(self.conninfo, autocommit=True)
        except psycopg.Error as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise InputError(f"cannot connect to {redact(location)} ({reason}); check the URL and that "
                             "the server is running") from None
        self._ensure_extension()
        register_vector(self._conn)
        self._dim = self._table_dim()
        if self._dim is None and not create:
            raise NoIndexError(redact(location), remote=True)
        self._ensure_meta_table()
        self._session_settings()
        if dim is not None:
            self._ensure_dim(dim)

    # ---- setup ---------------------------------------------------------------------------------

    def _sql(self, template: str, **names):
        from psycopg import sql

        names = {"t": sql.Identifier(self.table), "meta": sql.Identifier(self.table + "_meta"), **names}
        return sql.SQL(template).format(**names)

    def _ensure_extension(self) -> None:
        import psycopg

        try:
            self._conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except psycopg.Error as error:
            raise InputError(f"{redact(self.location)}: the pgvector extension is not available ({error}); "
                             "install pgvector on the server (or ask its admin to `CREATE EXTENSION vector`)") from None
        version = self._conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()[0]
        self.pgvector_version = tuple(int(p) for p in re.findall(r"\d+", version)[:3])

    def _session_settings(self) -> None:
        self._conn.execute(self._sql("SET hnsw.ef_search = {n}", n=_literal(self.ef_search)))
        if self.pgvector_version >= (0, 8):
            # With a filter, keep walking the graph until `k` rows pass it (pgvector 0.8+).
            self._conn.execute("SET hnsw.iterative_scan = strict_order")

    def _table_dim(self) -> int | None:
        row = self._conn.execute(
            "SELECT atttypmod FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = 'embedding'",
            [self.table],
        ).fetchone()
        return None if row is None else int(row[0])

    def _ensure_meta_table(self) -> None:
        self._conn.execute(self._sql("CREATE TABLE IF NOT EXISTS {meta} (key text PRIMARY KEY, value jsonb NOT NULL)"))

    def _ensure_dim(self, dim: int) -> None:
        if self._dim is None:
            with self._conn.transaction():
                self._conn.execute(self._sql(
                    "CREATE TABLE IF NOT EXISTS {t} (id text PRIMARY KEY, doc_id text NOT NULL, text text NOT NULL, "
                    "title text NOT NULL DEFAULT '', heading_path jsonb NOT NULL DEFAULT '[]', start_char bigint, "
                    "end_char bigint, metadata jsonb NOT NULL DEFAULT '{{}}', embedding vector({d}) NOT NULL)",
                    d=_literal(dim)))
                self._conn.execute(self._sql("CREATE INDEX IF NOT EXISTS {i} ON {t} (doc_id)",
                                             i=_ident(self.table + "_doc_id")))
            self._dim = dim
        elif self._dim != dim:
            raise IndexMismatchError(
                f"index at {redact(self.location)} holds {self._dim}-dimensional vectors, got {dim}; "
                "open it with rebuild=True or the embedder it was built with"
            )

    # ---- the HNSW index ------------------------------------------------------------------------

    def _distance_sql(self):
        """The ordering expression (matches the index expression; halfvec above pgvector's vector limit)."""
        if self._dim is not None and self._dim > HNSW_MAX_DIM:
            return self._sql("(embedding::halfvec({d}) <=> %s::halfvec({d}))", d=_literal(self._dim))
        return self._sql("(embedding <=> %s)")

    @property
    def index_name(self) -> str:
        return self.table + "_hnsw"

    def has_index(self) -> bool:
        return self._conn.execute("SELECT to_regclass(%s) IS NOT NULL", [self.index_name]).fetchone()[0]

    @property
    def index_description(self) -> str:
        return (f"HNSW m={self.m} ef_construction={self.ef_construction}" if self.has_index()
                else "exact (no index built yet)")

    def build_index(self, maintenance_work_mem: str = "1GB") -> bool:
        """Build the HNSW index if the table has rows and none yet; True if it was built now."""
        if self._dim is None or self.has_index():
            return False
        opclass = (self._sql("(embedding::halfvec({d})) halfvec_cosine_ops", d=_literal(self._dim))
                   if self._dim > HNSW_MAX_DIM else self._sql("embedding vector_cosine_ops"))
        with self._conn.transaction():
            self._conn.execute(self._sql("SET LOCAL maintenance_work_mem = {v}", v=_literal(maintenance_work_mem)))
            self._conn.execute(self._sql(
                "CREATE INDEX IF NOT EXISTS {i} ON {t} USING hnsw ({opclass}) WITH (m = {m}, ef_construction = {e})",
                i=_ident(self.index_name), opclass=opclass, m=_literal(self.m), e=_literal(self.ef_construction)))
        self._conn.execute(self._sql("ANALYZE {t}"))
        return True

    def compact(self) -> bool:
        return self.build_index()

    def tune(self, ef_search: int) -> None:
        """Set the HNSW search depth for this connection (recall vs latency)."""
        self.ef_search = int(ef_search)
        self._session_settings()

    # ---- the Store protocol --------------------------------------------------------------------

    @property
    def dim(self) -> int | None:
        return self._dim

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        if not chunks:
            return
        vectors = upsert_vectors(chunks, vectors)
        self._ensure_dim(vectors.shape[1])
        last = {chunk.id: i for i, chunk in enumerate(chunks)}     # one row per id: the last one wins
        columns = ", ".join(_COLUMNS)
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _COLUMNS[1:])
        with self._conn.transaction():
            self._conn.execute(self._sql("CREATE TEMP TABLE ragft_stage (LIKE {t}) ON COMMIT DROP"))
            with self._conn.cursor() as cursor:
                with cursor.copy(f"COPY ragft_stage ({columns}) FROM STDIN WITH (FORMAT BINARY)") as copy:
                    copy.set_types(_COPY_TYPES)
                    for i in last.values():
                        copy.write_row(_row(chunks[i], vectors[i]))
            self._conn.execute(self._sql(
                f"INSERT INTO {{t}} ({columns}) SELECT {columns} FROM ragft_stage "
                f"ON CONFLICT (id) DO UPDATE SET {updates}"))

    def delete_documents(self, doc_ids: Iterable[str]) -> int:
        ids = sorted(set(doc_ids))
        if not ids or self._dim is None:
            return 0
        return self._conn.execute(self._sql("DELETE FROM {t} WHERE doc_id = ANY(%s)"), [ids]).rowcount

    def chunk_ids(self, doc_ids: Iterable[str]) -> list[str]:
        """Ids of the chunks of these documents (in no particular order)."""
        ids = sorted(set(doc_ids))
        if not ids or self._dim is None:
            return []
        return [row[0] for row in self._conn.execute(self._sql("SELECT id FROM {t} WHERE doc_id = ANY(%s)"), [ids])]

    def dense_search(
        self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        if self._dim is None or k < 1:
            return []
        from psycopg import sql

        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        condition, params = _where_sql(where)
        distance = self._distance_sql()
        statement = sql.SQL("SELECT id, 1 - {d} FROM {t} WHERE {c} ORDER BY {d} LIMIT %s").format(
            d=distance, t=sql.Identifier(self.table), c=condition)
        rows = self._conn.execute(statement, [query, *params, query, k]).fetchall()
        return [(chunk_id, float(score)) for chunk_id, score in rows]

    def filter_ids(self, where: dict[str, Any] | None) -> set[str] | None:
        """Ids of the chunks `where` keeps (None = no filter): one query, used by BM25 with filters."""
        if not where:
            return None
        if self._dim is None:
            return set()
        from psycopg import sql

        condition, params = _where_sql(where)
        statement = sql.SQL("SELECT id FROM {t} WHERE {c}").format(t=sql.Identifier(self.table), c=condition)
        return {row[0] for row in self._conn.execute(statement, params)}

    def get(self, chunk_ids: Sequence[str]) -> list[Chunk]:
        if self._dim is None or not chunk_ids:
            return []
        rows = self._conn.execute(self._sql(f"SELECT {', '.join(_COLUMNS[:-1])} FROM {{t}} WHERE id = ANY(%s)"),
                                  [list(chunk_ids)]).fetchall()
        found = {row[0]: _chunk(row) for row in rows}
        return [found[i] for i in chunk_ids if i in found]

    def chunks(self) -> Iterable[Chunk]:
        if self._dim is None:
            return []
        with self._conn.transaction():     # a server-side cursor streams the table instead of loading it whole
            with self._conn.cursor(name="ragft_chunks_scan") as cursor:
                cursor.itersize = _FETCH
                cursor.execute(self._sql(f"SELECT {', '.join(_COLUMNS[:-1])} FROM {{t}} ORDER BY id"))
                return [_chunk(row) for row in cursor]

    def count(self) -> int:
        if self._dim is None:
            return 0
        return self._conn.execute(self._sql("SELECT count(*) FROM {t}")).fetchone()[0]

    def read_meta(self) -> dict[str, Any]:
        row = self._conn.execute(self._sql("SELECT value FROM {meta} WHERE key = 'meta'")).fetchone()
        return {} if row is None else row[0]

    def write_meta(self, meta: dict[str, Any]) -> None:
        self._conn.execute(
            self._sql("INSERT INTO {meta} (key, value) VALUES ('meta', %s::jsonb) "
                      "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"),
            [json.dumps(meta, ensure_ascii=False, default=str)],
        )

    def drop(self) -> None:
        """Remove the chunk and meta tables (what rebuild=True wipes)."""
        self._conn.execute(self._sql("DROP TABLE IF EXISTS {t}, {meta}"))
        self._dim = None
        self._ensure_meta_table()

    def close(self) -> None:
        self._conn.close()


def _literal(value):
    from psycopg import sql

    return sql.Literal(value)


def _ident(name: str):
    from psycopg import sql

    return sql.Identifier(name)


def _row(chunk: Chunk, vector: np.ndarray) -> tuple:
    from psycopg.types.json import Jsonb

    return (chunk.id, chunk.doc_id, chunk.text, chunk.title, Jsonb(list(chunk.heading_path)), chunk.start,
            chunk.end, Jsonb(json.loads(json.dumps(chunk.metadata, ensure_ascii=False, default=str))), vector)


def _chunk(row) -> Chunk:
    chunk_id, doc_id, text, title, heading_path, start, end, metadata = row
    return Chunk(id=chunk_id, doc_id=doc_id, text=text, title=title or "", heading_path=tuple(heading_path or ()),
                 start=start or 0, end=end or 0, metadata=metadata or {})


def open_pgvector_store(location: str, **options) -> PgVectorStore:
    return PgVectorStore(location, **options)
