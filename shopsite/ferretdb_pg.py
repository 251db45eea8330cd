"""FerretDB on PostgreSQL, seen from its PostgreSQL: GIN indexes for equality reads, exact counts.

FerretDB v1.24 keeps each collection in a table `<db>.<table>` with one jsonb column `_jsonb`, and
pushes an equality on a top-level field down to PostgreSQL as `_jsonb->'field' @> value`. Its own
indexes (btree on `_jsonb->'field'`) cannot serve `@>`; a GIN `jsonb_path_ops` index on the same
expression can, which turns those reads from a sequential scan into an index lookup. FerretDB does
not know these indexes: dropping a collection drops them, so `init_mongo` and the restore recreate
them. Everything here is a no-op on real MongoDB, on FerretDB/SQLite and without
`FERRETDB_POSTGRESQL_URL`.
"""

import contextlib
import logging
import re

import psycopg
from django.conf import settings
from psycopg import sql

from .mongo import get_client

logger = logging.getLogger(__name__)

METADATA_TABLE = "_ferretdb_database_metadata"
# FerretDB pushes down top-level fields only; a dotted path or an operator is never served.
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _is_ferretdb() -> bool:
    return "ferretdbVersion" in get_client().admin.command("buildInfo")


@contextlib.contextmanager
def _connect():
    """A connection to FerretDB's PostgreSQL database, or None when the MongoDB server is not
    FerretDB on a PostgreSQL this process can reach."""
    dsn = settings.FERRETDB_POSTGRESQL_URL
    if not dsn or not _is_ferretdb():
        yield None
        return
    try:
        conn = psycopg.connect(
            dsn, autocommit=True, connect_timeout=max(1, int(settings.BACKEND_TIMEOUT_SECONDS))
        )
    except psycopg.OperationalError as exc:
        # FerretDB/SQLite with the default URL: nothing listens there. The message may carry
        # the URL's password, so only its type is logged.
        logger.info("FerretDB's PostgreSQL not reachable (%s): no GIN indexes", type(exc).__name__)
        yield None
        return
    with conn:
        yield conn


def _has_metadata(conn, db_name: str) -> bool:
    name = sql.Identifier(db_name, METADATA_TABLE).as_string(conn)
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", [name]).fetchone()[0]


def _table(conn, db_name: str, collection: str) -> str | None:
    """FerretDB's table for a collection, from its own metadata (the name carries a hash suffix
    that changes on a clash: never compute it). None if the database or collection is not in
    this PostgreSQL (e.g. the URL points at another server than FerretDB's)."""
    if not _has_metadata(conn, db_name):
        return None
    row = conn.execute(
        sql.SQL("SELECT _jsonb->>'table' FROM {} WHERE _jsonb->>'_id' = %s").format(
            sql.Identifier(db_name, METADATA_TABLE)
        ),
        [collection],
    ).fetchone()
    return row[0] if row else None


def gin_index_name(table: str, field: str) -> str:
    return f"{table}_{field}_gin"[:63]  # PostgreSQL's identifier limit


def ensure_gin_indexes(db_name: str, collection: str, fields) -> list[str]:
    """Create (if missing) one GIN index per top-level equality field on the collection's table,
    then ANALYZE it. Returns the index names; [] when not on FerretDB/PostgreSQL."""
    fields = list(fields)
    for field in fields:
        if not _FIELD.match(field):
            raise ValueError(f"not a top-level field name: {field!r}")
    with _connect() as conn:
        if conn is None:
            return []
        table = _table(conn, db_name, collection)
        if table is None:
            logger.warning("no FerretDB table for %s.%s in its PostgreSQL", db_name, collection)
            return []
        if conn.execute("SHOW plan_cache_mode").fetchone()[0] != "force_custom_plan":
            # FerretDB sends one SQL text for equality on any field: a cached generic plan
            # would seq-scan for every field (scripts/services.sh sets it on the database).
            logger.warning("plan_cache_mode is not force_custom_plan: GIN indexes may go unused")
        names = []
        for field in fields:
            name = gin_index_name(table, field)
            create = sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} USING gin ((_jsonb->{}) {})")
            # UniqueViolation: another process created it at the same moment.
            with contextlib.suppress(psycopg.errors.UniqueViolation):
                conn.execute(
                    create.format(
                        sql.Identifier(name),
                        sql.Identifier(db_name, table),
                        sql.Literal(field),
                        sql.SQL("jsonb_path_ops"),
                    )
                )
            names.append(name)
        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(db_name, table)))
        return names


def exact_count(db_name: str, collection: str) -> int | None:
    """The collection's exact document count from its table, in milliseconds at 100k documents;
    None when not on FerretDB/PostgreSQL (FerretDB's $collStats there is the planner's estimate,
    reltuples, and a count through FerretDB decodes every document)."""
    with _connect() as conn:
        if conn is None:
            return None
        table = _table(conn, db_name, collection)
        if table is None:
            return None
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(db_name, table))
        return conn.execute(query).fetchone()[0]


def table_name(db_name: str, collection: str) -> str | None:
    """FerretDB's table for the collection; None when not on FerretDB/PostgreSQL."""
    with _connect() as conn:
        return None if conn is None else _table(conn, db_name, collection)


def index_scans(db_name: str, collection: str) -> dict[str, int]:
    """idx_scan per index of the collection's table, from pg_stat_user_indexes ({} when not on
    FerretDB/PostgreSQL). What the server really ran: FerretDB's explain plans with the values."""
    with _connect() as conn:
        if conn is None:
            return {}
        table = _table(conn, db_name, collection)
        if table is None:
            return {}
        conn.execute("SELECT pg_stat_clear_snapshot()")
        rows = conn.execute(
            "SELECT indexrelname, idx_scan FROM pg_stat_user_indexes"
            " WHERE schemaname = %s AND relname = %s",
            [db_name, table],
        ).fetchall()
        return dict(rows)


def on_postgresql(db_name: str) -> bool:
    """True when the MongoDB server is FerretDB and this database of it is stored in the
    PostgreSQL of FERRETDB_POSTGRESQL_URL (it has FerretDB's metadata table there)."""
    with _connect() as conn:
        return conn is not None and _has_metadata(conn, db_name)
