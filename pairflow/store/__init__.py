"""The store: where workflow versions, runs and action records are kept.

`open_store` turns a store URL into a backend: `None` (./pairflow.db), `sqlite:///relative.db`,
`sqlite:////absolute.db` or a bare path; or `postgresql://user:password@host:port/database` (also
`postgres://`), whose other query options go to libpq (`sslmode`, `options`, …) and which also takes
`pool_min_size`, `pool_max_size` and `pool_timeout`. Both take `?durability=full|normal`
(`pairflow.store.settings.Durability`): `full`, the default, makes every commit survive a power cut
(SQLite `synchronous=FULL`; PostgreSQL `synchronous_commit=on`, synchronous standbys included);
`normal` survives only the crash of the pairflow process.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from pairflow.errors import InputError
from pairflow.store.base import Store
from pairflow.store.settings import DEFAULT_DURABILITY, Durability

__all__ = ["DEFAULT_PATH", "Durability", "Store", "open_store"]

DEFAULT_PATH = "pairflow.db"
_SQLITE_PREFIX = "sqlite:///"
_POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def open_store(url: str | None, durability: Durability | None = None) -> Store:
    """Open the store a URL names; an explicit `durability` wins over the URL's `?durability=`."""
    from pairflow.store.sqlite import SqliteStore

    if url is None:
        return SqliteStore(Path(DEFAULT_PATH), durability or DEFAULT_DURABILITY)
    if url.startswith(_POSTGRES_SCHEMES):
        from pairflow.store.postgres import PostgresStore  # psycopg is loaded only when used

        named = "durability" in parse_qs(urlsplit(url).query, keep_blank_values=True)
        return PostgresStore(url, durability or (None if named else DEFAULT_DURABILITY))
    if url.startswith(_SQLITE_PREFIX):
        path, _, query = url[len(_SQLITE_PREFIX) :].partition("?")
        chosen = durability or _durability_option(url, query)
    elif "://" in url or url.startswith("sqlite:"):
        raise InputError(
            f"store URL {url!r}: unknown kind; use sqlite:///PATH, a file path or postgresql://…"
        )
    else:
        path, chosen = url, durability or DEFAULT_DURABILITY
    if not path:
        raise InputError(f"store URL {url!r}: no file path")
    return SqliteStore(Path(path), chosen)


def _durability_option(url: str, query: str) -> Durability:
    options = parse_qs(query, keep_blank_values=True)
    unknown = sorted(set(options) - {"durability"})
    if unknown:
        raise InputError(f"store URL {url!r}: unknown option {unknown[0]!r}; only 'durability' is known")
    values = options.get("durability", [DEFAULT_DURABILITY.value])
    try:
        return Durability(values[-1].lower())
    except ValueError:
        known = ", ".join(level.value for level in Durability)
        raise InputError(f"store URL {url!r}: durability {values[-1]!r} is not one of {known}") from None
