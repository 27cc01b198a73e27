"""Store backends for every test suite that runs against each of them: the `store_url` fixture.

`store_url` is parametrised over `BACKENDS`: "sqlite" is a file in tmp_path; "postgresql" is an empty,
migrated schema (the first of the URL's search_path) in a database this test session creates on the
server named by $PAIRFLOW_TEST_POSTGRES_URL and drops at its end. Emptying a schema costs a millisecond
or two, where a database per test would cost a checkpoint and a schema per test its migration.
`scripts/test.sh` provisions a throwaway server and sets the variable. Without it the postgresql params
are skipped — except in CI (`$CI` set), where a missing PostgreSQL fails them.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from pairflow.store.postgres_migrate import migrate

BACKENDS = ["sqlite", "postgresql"]
POSTGRES_URL_VARIABLE = "PAIRFLOW_TEST_POSTGRES_URL"


class PostgresTestDatabase:
    """A database of this test session on the test server: schemas in it stand for fresh databases.

    Most tests get `empty_store_url`: one schema, migrated once, whose rows are deleted before each test
    (a millisecond or two, where creating and migrating a schema costs tens). Tests of opening and
    migrating a store take a `fresh_schema_url` with no tables at all.
    """

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.name = f"pf_test_{secrets.token_hex(4)}"
        self._admin = psycopg.connect(server_url, autocommit=True, connect_timeout=10)
        self._admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))
        self.url = with_database(server_url, self.name)
        self._connection = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
        # a test that leaves a transaction open on the shared schema fails the next one's setup quickly
        self._connection.execute("SET lock_timeout = '5s'")
        self._shared: str | None = None
        self._empty: bytes = b""

    def fresh_schema_url(self) -> str:
        """The URL of a new schema with no tables: a store opened on it starts by migrating."""
        return with_search_path(self.url, self._new_schema())

    def empty_store_url(self) -> str:
        """The URL of the shared schema, migrated and with every row deleted."""
        if self._shared is None:
            schema = self._new_schema()
            with psycopg.connect(with_search_path(self.url, schema), autocommit=True) as connection:
                migrate(connection, schema)
            self._shared, self._empty = schema, self._emptying(schema)
        else:
            self._connection.execute(self._empty)
        return with_search_path(self.url, self._shared)

    def close(self) -> None:
        self._connection.close()
        self._admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name))
        )
        self._admin.close()

    def _new_schema(self) -> str:
        schema = f"pf_{secrets.token_hex(6)}"
        self._connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        return schema

    def _emptying(self, schema: str) -> bytes:
        """One script deleting every row of the schema's tables but the migrations, referencing
        tables first (DELETE, not TRUNCATE: on tables this small it is ten times faster)."""
        rows = self._connection.execute(
            """
            SELECT c.relname,
                   EXISTS (SELECT 1 FROM pg_constraint f WHERE f.conrelid = c.oid AND f.contype = 'f')
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = %s AND c.relkind = 'r' AND c.relname <> 'schema_migrations'
            """,
            (schema,),
        ).fetchall()
        ordered = sorted(rows, key=lambda row: not row[1])
        statements = [
            sql.SQL("DELETE FROM {}").format(sql.Identifier(schema, name)).as_string(self._connection)
            for name, _ in ordered
        ]
        return "; ".join(statements).encode()


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def with_search_path(url: str, schema: str) -> str:
    """The URL with `options=-c search_path=SCHEMA` (replacing any `options` it had)."""
    parts = urlsplit(url)
    query = [(name, value) for name, value in parse_qsl(parts.query) if name != "options"]
    query.append(("options", f"-c search_path={schema}"))
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


def postgres_server_url() -> str:
    """The test server's URL; without one, a skip locally and a failure in CI."""
    url = os.environ.get(POSTGRES_URL_VARIABLE, "").strip()
    if url:
        return url
    if os.environ.get("CI"):
        pytest.fail(
            f"CI needs PostgreSQL: ${POSTGRES_URL_VARIABLE} is not set (scripts/test.sh provisions a server)",
            pytrace=False,
        )
    pytest.skip(f"PostgreSQL: set ${POSTGRES_URL_VARIABLE} or run scripts/test.sh")


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[PostgresTestDatabase]:
    url = postgres_server_url()
    try:
        database = PostgresTestDatabase(url)
    except psycopg.Error as exc:
        pytest.fail(f"the test PostgreSQL at ${POSTGRES_URL_VARIABLE} cannot be used: {exc}", pytrace=False)
    yield database
    database.close()


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store URL naming a fresh, empty store of each backend in turn."""
    if request.param == "sqlite":
        return str(tmp_path / "store.db")
    database: PostgresTestDatabase = request.getfixturevalue("postgres_database")
    return database.empty_store_url()
