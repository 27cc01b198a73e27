"""Brings a PostgreSQL store to the schema this code knows, applying each numbered migration once.

Checking and applying happen in one transaction holding a transaction-level advisory lock keyed by the
schema, so several processes starting at once on a fresh database apply every migration exactly once:
the others wait for the lock, then find nothing left to do. DDL is transactional in PostgreSQL, so a
migration that fails leaves nothing half-applied.
"""

from __future__ import annotations

import psycopg

from pairflow.errors import StoreError
from pairflow.store.namedsql import load_migrations

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer     PRIMARY KEY,
    title      text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""

# One lock per schema: stores in different schemas of one database migrate independently.
_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('pairflow.migrate:' || current_schema(), 0))"

_APPLIED = "SELECT coalesce(max(version), 0) FROM schema_migrations"


def migrate(connection: psycopg.Connection[tuple[object, ...]], label: str) -> int:
    """Apply the missing migrations; returns the schema version. `connection` must be in autocommit."""
    migrations = load_migrations("postgres")
    known = len(migrations)
    current = _applied_version(connection)
    if current == known:
        return current  # the common case: no lock taken
    _refuse_newer(current, known, label)
    with connection.transaction():
        connection.execute(_LOCK)
        connection.execute(_CREATE_TABLE)
        current = _count(connection.execute(_APPLIED).fetchone())
        _refuse_newer(current, known, label)
        for migration in migrations[current:]:
            connection.execute(migration.sql.encode("utf-8"), prepare=False)
            connection.execute(
                "INSERT INTO schema_migrations (version, title) VALUES (%s, %s)",
                (migration.version, migration.title),
                prepare=False,
            )
    return known


def _applied_version(connection: psycopg.Connection[tuple[object, ...]]) -> int | None:
    """The highest applied migration, or None when the schema has no migrations table yet."""
    row = connection.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    if row is None or not row[0]:
        return None
    return _count(connection.execute(_APPLIED).fetchone())


def _count(row: tuple[object, ...] | None) -> int:
    value = row[0] if row is not None else 0
    return value if isinstance(value, int) else 0


def _refuse_newer(current: int | None, known: int, label: str) -> None:
    if current is not None and current > known:
        raise StoreError(
            f"{label}: the store's schema is version {current}, newer than this pairflow knows "
            f"({known}); upgrade pairflow to open it"
        )
