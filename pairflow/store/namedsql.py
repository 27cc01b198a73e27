"""SQL kept in files: named queries (`-- name: x` blocks) and numbered migrations, per backend.

Each backend has `sql/<backend>.sql` with its queries and `migrations/<backend>/NNNN_title.sql`, so
that the SQL can be read, diffed and reviewed as SQL (as procrastinate does).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

_PACKAGE = "pairflow.store"
_NAME_LINE = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)
_MIGRATION_FILE = re.compile(r"^(\d{4})_(\w+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    title: str
    sql: str


@cache
def load_queries(backend: str) -> dict[str, str]:
    """The named queries of a backend, by name."""
    text = files(_PACKAGE).joinpath("sql", f"{backend}.sql").read_text(encoding="utf-8")
    parts = _NAME_LINE.split(text)
    # parts: [preamble, name1, body1, name2, body2, ...]
    queries: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in queries:
            raise ValueError(f"sql/{backend}.sql: query {name!r} is defined twice")
        queries[name] = body.strip().rstrip(";").strip()
    return queries


@cache
def load_migrations(backend: str) -> tuple[Migration, ...]:
    """The migrations of a backend in version order; versions must run 1, 2, 3… without gaps."""
    folder = files(_PACKAGE).joinpath("migrations", backend)
    migrations: list[Migration] = []
    for entry in folder.iterdir():
        match = _MIGRATION_FILE.match(entry.name)
        if match is None:
            continue
        migrations.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    migrations.sort(key=lambda migration: migration.version)
    expected = list(range(1, len(migrations) + 1))
    if [migration.version for migration in migrations] != expected:
        raise ValueError(f"migrations/{backend}: versions must be numbered 0001, 0002, … without gaps")
    return tuple(migrations)
