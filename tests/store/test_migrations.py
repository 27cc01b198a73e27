"""The SQL kept in files: named queries, numbered migrations, and how a migration is split."""

from __future__ import annotations

from pairflow.store.namedsql import load_migrations, load_queries
from pairflow.store.sqlite_migrate import split_statements


def test_sqlite_migrations_are_numbered_from_1_without_gaps() -> None:
    migrations = load_migrations("sqlite")
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))
    assert migrations[0].title == "initial"


def test_every_sqlite_query_is_named_and_not_empty() -> None:
    queries = load_queries("sqlite")
    assert {"insert_run", "upsert_action", "acquire_run", "end_run"} <= set(queries)
    assert all(sql and not sql.endswith(";") for sql in queries.values())


def test_a_script_splits_into_statements_keeping_trigger_bodies_whole() -> None:
    script = """
-- a comment
CREATE TABLE a (x TEXT); -- trailing
CREATE TRIGGER t AFTER INSERT ON a BEGIN
    UPDATE a SET x = 'a;b';
    DELETE FROM a WHERE x = ';';
END;
INSERT INTO a VALUES ('semi;colon');
-- the end
"""
    statements = list(split_statements(script))
    assert len(statements) == 3
    assert statements[0] == "-- a comment\nCREATE TABLE a (x TEXT); -- trailing"
    assert statements[1].startswith("CREATE TRIGGER") and statements[1].endswith("END;")
    assert statements[2] == "INSERT INTO a VALUES ('semi;colon');"
