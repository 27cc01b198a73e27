"""Brings a SQLite store file to the schema this code knows, applying each numbered migration once.

Checking and applying happen under one write lock (BEGIN IMMEDIATE), so two processes opening a fresh
file at once apply every migration exactly once: the second waits, then finds nothing left to do.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime

from pairflow.errors import StoreError
from pairflow.store.codec import dump_time
from pairflow.store.namedsql import load_migrations

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    title      TEXT NOT NULL,
    applied_at TEXT NOT NULL
)"""


def migrate(connection: sqlite3.Connection, label: str) -> int:
    """Apply the missing migrations; returns the schema version. `connection` must be in autocommit."""
    migrations = load_migrations("sqlite")
    known = len(migrations)
    current = _applied_version(connection)
    if current == known:
        return current  # the common case: no write lock taken
    _refuse_newer(current, known, label)
    connection.execute("BEGIN IMMEDIATE")
    try:
        connection.execute(_CREATE_TABLE)
        current = _applied_version(connection) or 0
        _refuse_newer(current, known, label)
        for migration in migrations[current:]:
            for statement in split_statements(migration.sql):
                connection.execute(statement)
            connection.execute(
                "INSERT INTO schema_migrations (version, title, applied_at) VALUES (?, ?, ?)",
                (
                    migration.version,
                    migration.title,
                    dump_time(datetime.now(UTC), "schema_migrations", "applied_at"),
                ),
            )
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    return known


def _applied_version(connection: sqlite3.Connection) -> int | None:
    """The highest applied migration, or None when the file has no migrations table yet."""
    exists = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    ).fetchone()
    if exists is None:
        return None
    row = connection.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
    return int(row[0])


def _refuse_newer(current: int | None, known: int, label: str) -> None:
    if current is not None and current > known:
        raise StoreError(
            f"{label}: the store's schema is version {current}, newer than this pairflow knows "
            f"({known}); upgrade pairflow to open it"
        )


def split_statements(script: str) -> Iterator[str]:
    """The statements of a script, one by one: `executescript` would commit our transaction first."""
    pending: list[str] = []
    for line in script.splitlines(keepends=True):
        pending.append(line)
        text = "".join(pending)
        if sqlite3.complete_statement(text):
            yield text.strip()
            pending.clear()
    rest = "".join(line for line in pending if not line.lstrip().startswith("--")).strip()
    if rest:
        yield rest
