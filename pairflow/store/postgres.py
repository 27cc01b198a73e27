"""The PostgreSQL store: one database shared by every process of a location, through a connection pool.

Same semantics as the SQLite store (one conformance suite): every write is one transaction; firing a
trigger claims its occurrence with `INSERT … ON CONFLICT DO NOTHING`, so of two processes racing for one
occurrence the second waits for the first and then writes nothing; taking a run is one conditional
UPDATE. A workflow's next version number is derived under a transaction-level advisory lock on its name.
JSON is kept in `json` columns (the text as written: key order survives), times in `timestamptz`.

Durability (`pairflow.store.settings.Durability`) maps to `synchronous_commit`:

- NORMAL → `local`: a commit returns once its WAL is flushed on the server's own disk. It
  survives the crash of any pairflow process (the server holds the data) and a crash or power cut of
  the database server; it does not wait for synchronous standbys, so a replica outage cannot stall runs.
- FULL (the default) → `on`: also waits for the standbys named by the server's
  `synchronous_standby_names`, if any (with none, the same as NORMAL).

`off` is never used: it acknowledges commits that a crash of the database server loses (up to three
times `wal_writer_delay`), which breaks the promise that a reported commit survives a process crash.
Both levels assume the server runs with `fsync=on`.

The calls are synchronous, like SQLite's, and the engine makes them from its event loop: each is one
short transaction over a pooled connection (a few round trips on a local network), and a pool that
cannot hand out a connection gives up after `pool_timeout` seconds — shortened while the server is
known to be down, so that the loop stalls at most briefly per call until it returns.
"""

from __future__ import annotations

import asyncio
import getpass
import hashlib
import logging
import os
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from typing import Any, TypeVar, cast
from urllib.parse import unquote, urlsplit, urlunsplit

import psycopg
import psycopg.conninfo
import psycopg.errors
from psycopg_pool import ConnectionPool, PoolTimeout

from pairflow.errors import (
    DuplicateRunError,
    InputError,
    MetaConflictError,
    StoreError,
    StoreUnavailableError,
)
from pairflow.jsontypes import JSON, JSONObject
from pairflow.store.codec import canonical_json, dump_json, load_json
from pairflow.store.namedsql import load_queries
from pairflow.store.postgres_migrate import migrate
from pairflow.store.records import (
    LocationEvent,
    RunRecord,
    RunUpdate,
    TriggerFire,
    WorkflowVersion,
)
from pairflow.store.rows import RowCodec
from pairflow.store.settings import BUSY_TIMEOUT_SECONDS, DEFAULT_DURABILITY, Durability
from pairflow.store.sql import SqlStore

_log = logging.getLogger(__name__)

Connection = psycopg.Connection[tuple[Any, ...]]
_Row = tuple[Any, ...]
_T = TypeVar("_T")

# A query is prepared on the server the second time one connection runs it: the store's queries are a
# small fixed set (plus at most 32 filtered-run variants), each run again and again.
PREPARE_THRESHOLD = 2
CONNECT_TIMEOUT_SECONDS = 10.0
POOL_TIMEOUT_SECONDS = 5.0
# While the server is known to be down, a call waits this long for a connection before giving up.
DOWN_POOL_TIMEOUT_SECONDS = 0.25
# The listening connection of `watch_runs` is opened again after this long when it fails, doubling.
LISTEN_RETRY_SECONDS = 0.5
LISTEN_RETRY_MOST_SECONDS = 10.0
# A transaction that lost a deadlock or a serialisation conflict is rolled back: it is run again.
_ATTEMPTS = 3

_SYNCHRONOUS_COMMIT = {Durability.NORMAL: "local", Durability.FULL: "on"}

# The options of a store URL that pairflow reads itself; every other one is libpq's (sslmode, …).
_OWN_OPTIONS = ("durability", "pool_min_size", "pool_max_size", "pool_timeout")

# libpq's connection failures read `connection failed: connection to server at "h", port 5 failed: X`.
_CONNECT_PREFIX = re.compile(
    r'^(connection failed:\s*)?(connection to server (at "[^"]*"(, port \d+)?|on socket "[^"]*") failed:\s*)?'
)


class PostgresStore(SqlStore):
    """The store in one PostgreSQL database (or schema: the first of the URL's `search_path`).

    A pool of `min_size`..`max_size` connections (1..4 unless the URL's `pool_min_size`/`pool_max_size`
    say otherwise): the engine calls from one thread, so one connection is busy at a time in practice.
    Opening connects once first, so that an unusable server is reported with its cause, then migrates.
    """

    _run_filters = (
        ("workflow", "workflow = %(workflow)s"),
        ("status", "status = %(status)s"),
        ("trigger", "trigger_name = %(trigger)s"),
        ("since", "created_at >= %(since)s"),
        ("until", "created_at < %(until)s"),
    )

    offload_writes = True  # every commit is a network round trip and a server-side fsync

    def __init__(
        self,
        url: str,
        durability: Durability | None = None,
        *,
        min_size: int | None = None,
        max_size: int | None = None,
        pool_timeout: float | None = None,
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
        prepare_threshold: int | None = PREPARE_THRESHOLD,
    ) -> None:
        target = parse_url(url)
        self.target = target.where
        self.durability = Durability(durability or target.durability)
        self.min_size = min_size if min_size is not None else target.min_size
        self.max_size = max(max_size if max_size is not None else target.max_size, self.min_size)
        self.pool_timeout = pool_timeout if pool_timeout is not None else target.pool_timeout
        self._queries = _queries()
        self._rows = _ROWS
        self._down = False
        defaults: dict[str, str | int] = {
            "connect_timeout": max(1, int(connect_timeout)),
            "application_name": "pairflow",
        }
        conninfo = psycopg.conninfo.make_conninfo(
            target.conninfo, **{name: value for name, value in defaults.items() if name not in target.params}
        )
        self._conninfo = conninfo
        self._settings = (
            f"SET synchronous_commit = {_SYNCHRONOUS_COMMIT[self.durability]}; "
            f"SET lock_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}"
        ).encode()
        self._prepare(conninfo)
        pool: ConnectionPool[Connection] = ConnectionPool(
            conninfo,
            kwargs={"autocommit": True, "prepare_threshold": prepare_threshold},
            min_size=self.min_size,
            max_size=self.max_size,
            open=False,
            configure=self._configure,
            name=f"pairflow-store {self.target}",
            timeout=self.pool_timeout,
            num_workers=1,
        )
        try:
            pool.open(wait=True, timeout=connect_timeout)
        except PoolTimeout as exc:
            pool.close()
            raise StoreUnavailableError(
                f"cannot connect to the PostgreSQL store at {self.target}: no connection within "
                f"{connect_timeout:g} s"
            ) from exc
        self._pool: ConnectionPool[Connection] | None = pool

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __repr__(self) -> str:
        return f"PostgresStore({self.target!r}, {self.durability!s})"

    # -- workflows -----------------------------------------------------------------------------------
    def put_workflow(
        self, name: str, definition: JSONObject, parameters: JSONObject, now: datetime
    ) -> WorkflowVersion:
        place = f"workflow {name}"
        definition_text = dump_json(definition, place, "definition")
        parameters_text = dump_json(parameters, place, "parameters")
        fingerprint = _fingerprint(definition, parameters)
        created_at = _utc(now, place, "created_at")
        queries = self._queries

        def work(connection: Connection) -> WorkflowVersion:
            connection.execute(queries["lock_workflow"], {"name": name})
            latest = connection.execute(queries["latest_workflow"], {"name": name}).fetchone()
            live = latest is not None and not latest[7]
            if latest is not None and live and latest[4] == fingerprint:
                return _ROWS.workflow(latest)
            params: dict[str, Any] = {
                "name": name,
                # after a delete the numbering continues, so a version number never means two things
                "version": 1 if latest is None else latest[1] + 1,
                "definition": definition_text,
                "parameters": parameters_text,
                "fingerprint": fingerprint,
                "created_at": created_at,
                "enabled": bool(latest[6]) if latest is not None and live else True,
            }
            connection.execute(queries["insert_workflow"], params)
            return WorkflowVersion(
                name=name,
                version=params["version"],
                definition=_object(load_json(definition_text)),
                parameters=_object(load_json(parameters_text)),
                created_at=created_at,
                enabled=params["enabled"],
            )

        return self._write(place, work)

    def set_workflow_enabled(self, name: str, enabled: bool) -> bool:
        queries = self._queries

        def work(connection: Connection) -> bool:
            connection.execute(queries["lock_workflow"], {"name": name})
            params = {"name": name, "enabled": enabled}
            return connection.execute(queries["set_workflow_enabled"], params).rowcount == 1

        return self._write(f"workflow {name}", work)

    def delete_workflow(self, name: str) -> bool:
        """Also forgets the access key, so that callback URLs signed before the delete stay dead
        after a redeploy. Trigger state, occurrence claims and history stay, like run history."""
        queries = self._queries

        def work(connection: Connection) -> bool:
            connection.execute(queries["lock_workflow"], {"name": name})
            if connection.execute(queries["delete_workflow"], {"name": name}).rowcount != 1:
                return False
            connection.execute(queries["delete_access_key"], {"workflow": name})
            return True

        return self._write(f"workflow {name}", work)

    def set_access_key(self, name: str, key: str) -> None:
        query = self._queries["set_access_key"]
        self._write(
            f"access key of {name}",
            lambda connection: connection.execute(query, {"workflow": name, "key": key}),
        )

    # -- runs ----------------------------------------------------------------------------------------
    def create_run(self, run: RunRecord) -> None:
        params = _ROWS.run_params(run)
        self._write(f"run {run.id}", lambda connection: self._insert_runs(connection, [params]))

    def commit(self, updates: Sequence[RunUpdate]) -> None:
        if not updates:
            return
        # Encode everything before the transaction: a bad value fails the batch before any write.
        run_steps, unchanged, action_rows = _ROWS.updates(updates)
        # Rows are locked in id order (stable: one run's updates keep theirs), so that two batches
        # touching the same runs cannot deadlock each other.
        run_steps.sort(key=lambda step: str(step[1]["id"]))
        queries = self._queries

        def work(connection: Connection) -> None:
            if unchanged:
                row = connection.execute(queries["first_missing_run"], {"ids": unchanged}).fetchone()
                if row is not None:
                    raise _missing_run(row[0])
            for name, params in run_steps:
                if connection.execute(queries[name], params).rowcount != 1:
                    raise _missing_run(params["id"])
            if len(action_rows) == 1:  # the common case: no pipeline to enter and leave
                connection.execute(queries["upsert_action"], action_rows[0])
            elif action_rows:
                with connection.cursor() as cursor:
                    cursor.executemany(queries["upsert_action"], action_rows)

        self._write(f"commit of {len(updates)} update(s)", work)

    # -- leases --------------------------------------------------------------------------------------
    def acquire_run(
        self,
        run_id: str,
        owner: str,
        now: datetime,
        lease_until: datetime,
        dead_owners: Sequence[str] = (),
    ) -> bool:
        place = f"run {run_id}"
        params = {
            "id": run_id,
            "owner": owner,
            "now": _utc(now, place, "now"),
            "lease_until": _utc(lease_until, place, "lease_until"),
            "dead_owners": list(dead_owners),
        }
        query = self._queries["acquire_run"]
        return self._write(place, lambda connection: connection.execute(query, params).rowcount == 1)

    def claim_runs(
        self,
        owner: str,
        now: datetime,
        lease_until: datetime,
        limit: int,
        dead_owners: Sequence[str] = (),
    ) -> list[RunRecord]:
        """One statement: `FOR UPDATE SKIP LOCKED` lets processes claiming at once pass over each
        other's rows instead of waiting, so each run goes to one of them."""
        if limit <= 0:
            return []
        place = f"runs claimed by {owner}"
        params = {
            "owner": owner,
            "now": _utc(now, place, "now"),
            "lease_until": _utc(lease_until, place, "lease_until"),
            "limit": limit,
            "dead_owners": list(dead_owners),
        }
        query = self._queries["claim_unowned_runs"]
        rows = self._write(place, lambda connection: connection.execute(query, params).fetchall())
        return [_ROWS.run(row) for row in rows]

    def renew_leases(self, owner: str, lease_until: datetime) -> int:
        place = f"leases of {owner}"
        params = {"owner": owner, "lease_until": _utc(lease_until, place, "lease_until")}
        query = self._queries["renew_leases"]
        return self._write(place, lambda connection: max(connection.execute(query, params).rowcount, 0))

    def renew_run_leases(self, owner: str, run_ids: Sequence[str], lease_until: datetime) -> set[str]:
        place = f"leases of {owner}"
        params = {"owner": owner, "lease_until": _utc(lease_until, place, "lease_until")}
        query = self._queries["renew_leases_returning"]
        rows = self._write(place, lambda connection: connection.execute(query, params).fetchall())
        return {str(row[0]) for row in rows} & set(run_ids)

    def release_run(self, run_id: str, owner: str) -> None:
        query = self._queries["release_run"]
        self._write(
            f"run {run_id}", lambda connection: connection.execute(query, {"id": run_id, "owner": owner})
        )

    # -- announcing replies: LISTEN/NOTIFY --------------------------------------------------------------
    announces = True

    def announce_runs(self, run_ids: Sequence[str]) -> None:
        """NOTIFY on the `pairflow_runs` channel, one notification per run, sent at commit."""
        if not run_ids:
            return
        query, params = self._queries["announce_runs"], {"ids": list(run_ids)}
        self._write(f"announcing {len(run_ids)} run(s)", lambda connection: connection.execute(query, params))

    async def watch_runs(self, on_run: Callable[[str], None]) -> None:
        """LISTEN on a connection of its own (not the pool's: it stays busy), opened again with backoff
        when it fails; notifications sent while it was down are lost, so callers also poll, rarely."""
        delay = LISTEN_RETRY_SECONDS
        while True:
            try:
                connection = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
                async with connection:
                    await connection.execute(self._queries["listen_runs"])
                    delay = LISTEN_RETRY_SECONDS
                    async for notification in connection.notifies():
                        on_run(notification.payload)
            except psycopg.Error as exc:
                _log.warning("listening for runs at %s: %s", self.target, _cause(exc))
            await asyncio.sleep(delay)
            delay = min(delay * 2, LISTEN_RETRY_MOST_SECONDS)

    # -- triggers ------------------------------------------------------------------------------------
    def put_trigger_state(self, workflow: str, trigger: str, state: JSONObject) -> None:
        place = f"trigger {workflow}/{trigger}"
        params = {"workflow": workflow, "trigger": trigger, "state": dump_json(state, place, "state")}
        query = self._queries["put_trigger_state"]
        self._write(place, lambda connection: connection.execute(query, params))

    batches_fires = True

    def fire_triggers(self, fires: Sequence[TriggerFire]) -> list[bool]:
        """All the fires in one transaction. A fire whose key was claimed before (by another process,
        or earlier in this batch) writes nothing: the claim is its first statement, and a concurrent
        claim of the same key waits for the other transaction and then inserts nothing. Anything else
        refused raises and rolls the whole batch back."""
        if not fires:
            return []
        # Encode everything before the transaction: a bad value fails the batch before any write.
        prepared = [_ROWS.prepared_fire(fire) for fire in fires]
        queries = self._queries

        def work(connection: Connection) -> list[bool]:
            fired: list[bool] = []
            for fire in prepared:
                if (
                    fire.claim is not None
                    and connection.execute(queries["claim_occurrence"], fire.claim).rowcount != 1
                ):
                    fired.append(False)  # fired for this occurrence before: this fire writes nothing
                    continue
                self._insert_runs(connection, fire.runs)
                if fire.actions:
                    with connection.cursor() as cursor:
                        cursor.executemany(queries["upsert_action"], fire.actions)
                if fire.state is not None:
                    connection.execute(queries["put_trigger_state"], fire.state)
                try:
                    connection.execute(queries["insert_trigger_event"], fire.event)
                except psycopg.errors.UniqueViolation as exc:
                    if exc.diag.constraint_name == "trigger_history_id_unique":
                        raise StoreError(
                            f"{fire.place}: trigger event {fire.event['id']}: an event with that id "
                            "exists already"
                        ) from exc
                    raise
                fired.append(True)
            return fired

        return self._write(prepared[0].place if len(prepared) == 1 else f"{len(fires)} trigger fires", work)

    # -- continuity ----------------------------------------------------------------------------------
    def put_meta(
        self,
        key: str,
        value: JSONObject,
        *,
        expected_version: int | None = None,
        event: LocationEvent | None = None,
    ) -> int:
        place = f"meta {key}"
        params: dict[str, Any] = {"key": key, "value": dump_json(value, place, "value")}
        event_row = _ROWS.location_event_params(event) if event is not None else None
        queries = self._queries

        def work(connection: Connection) -> int:
            if expected_version is None:
                row = connection.execute(queries["upsert_meta"], params).fetchone()
            elif expected_version == 0:
                row = connection.execute(queries["insert_meta"], params).fetchone()
                if row is None:
                    raise MetaConflictError(f"{place}: exists already (expected it absent)")
            else:
                row = connection.execute(
                    queries["update_meta"], {**params, "expected": expected_version}
                ).fetchone()
                if row is None:
                    raise MetaConflictError(f"{place}: changed since version {expected_version}")
            if event_row is not None:
                connection.execute(queries["insert_location_event"], event_row)
            assert row is not None  # every branch returns the new version or raised
            return int(row[0])

        return self._write(place, work)

    # -- transactions --------------------------------------------------------------------------------
    def _insert_runs(self, connection: Connection, rows: list[dict[str, Any]]) -> None:
        """Insert runs inside the caller's transaction; an existing id is DuplicateRunError."""
        if not rows:
            return
        try:
            if len(rows) == 1:
                connection.execute(self._queries["insert_run"], rows[0])
            else:
                with connection.cursor() as cursor:
                    cursor.executemany(self._queries["insert_run"], rows)
        except psycopg.errors.UniqueViolation as exc:
            if exc.diag.constraint_name == "runs_id_unique":
                taken = _duplicate_key(exc) or ", ".join(str(row["id"]) for row in rows)
                raise DuplicateRunError(f"run {taken}: a run with that id exists already") from exc
            raise

    @contextmanager
    def _read(self, place: str) -> Iterator[Connection]:
        """A pooled connection in autocommit: each read is one statement, a snapshot of its own."""
        try:
            with self._connection(place) as connection:
                yield connection
        except psycopg.Error as exc:
            raise self._failure(place, exc) from exc

    def _write(self, place: str, work: Callable[[Connection], _T]) -> _T:
        """Run `work` in one transaction; anything raised inside rolls all of it back. A transaction the
        server rolled back for a deadlock or a serialisation conflict is run again."""
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                with self._connection(place) as connection, connection.transaction():
                    return work(connection)
            except psycopg.errors.TransactionRollback as exc:
                if attempt == _ATTEMPTS:
                    raise self._failure(place, exc) from exc
            except psycopg.Error as exc:
                raise self._failure(place, exc) from exc
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    @contextmanager
    def _connection(self, place: str) -> Iterator[Connection]:
        pool = self._pool
        if pool is None:
            raise StoreError(f"{place}: the store at {self.target} is closed")
        wait = DOWN_POOL_TIMEOUT_SECONDS if self._down else self.pool_timeout
        try:
            with pool.connection(timeout=wait) as connection:
                yield connection
        except PoolTimeout as exc:
            self._down = True
            raise StoreUnavailableError(
                f"{place}: the PostgreSQL store at {self.target} is unavailable: no connection within "
                f"{wait:g} s"
            ) from exc
        self._down = False

    def _failure(self, place: str, exc: psycopg.Error) -> StoreError:
        cause = _cause(exc)
        if isinstance(exc, psycopg.errors.LockNotAvailable):
            return StoreError(f"{place}: the store at {self.target} is busy: {cause}")
        if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError) and not isinstance(
            exc, psycopg.errors.TransactionRollback
        ):
            self._down = True  # the next calls wait only briefly for a connection, until one works
            return StoreUnavailableError(
                f"{place}: the PostgreSQL store at {self.target} is unavailable: {cause}"
            )
        return StoreError(f"{place}: {self.target}: {cause}")

    def _configure(self, connection: Connection) -> None:
        """Every pooled connection commits with the chosen durability and waits at most the busy
        timeout for a lock another process holds."""
        connection.execute(self._settings, prepare=False)

    def _prepare(self, conninfo: str) -> None:
        """Connect once (to name the host and the cause when that fails) and migrate the schema."""
        try:
            connection = psycopg.connect(conninfo, autocommit=True)
        except psycopg.Error as exc:
            raise StoreUnavailableError(
                f"cannot connect to the PostgreSQL store at {self.target}: {_cause(exc)}"
            ) from exc
        try:
            migrate(connection, f"the PostgreSQL store at {self.target}")
        except psycopg.Error as exc:
            raise StoreUnavailableError(
                f"cannot open the PostgreSQL store at {self.target}: {_cause(exc)}"
            ) from exc
        finally:
            connection.close()


class StoreURL:
    """A `postgresql://` store URL split into what libpq reads and what pairflow reads."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        # libpq's options stay as written (libpq decodes them itself: `+` is not a space to it)
        own: dict[str, str] = {}
        rest: list[str] = []
        for item in parts.query.split("&") if parts.query else []:
            name, _, value = item.partition("=")
            if unquote(name) in _OWN_OPTIONS:
                own[unquote(name)] = unquote(value)
            else:
                rest.append(item)
        self.conninfo = urlunsplit(parts._replace(query="&".join(rest)))
        shown = _redacted(url)
        try:
            self.params: dict[str, Any] = psycopg.conninfo.conninfo_to_dict(self.conninfo)
        except psycopg.Error as exc:
            raise InputError(f"store URL {shown!r}: {_cause(exc)}") from None
        self.durability = _option(own, "durability", shown, _durability, DEFAULT_DURABILITY)
        self.min_size = _option(own, "pool_min_size", shown, _count, 1)
        self.max_size = _option(own, "pool_max_size", shown, _count, 4)
        self.pool_timeout = _option(own, "pool_timeout", shown, _seconds, POOL_TIMEOUT_SECONDS)
        params = self.params
        host = str(params.get("host") or os.environ.get("PGHOST") or "localhost")
        port = str(params.get("port") or os.environ.get("PGPORT") or "5432")
        user = params.get("user") or os.environ.get("PGUSER") or getpass.getuser()
        database = str(params.get("dbname") or os.environ.get("PGDATABASE") or user)
        self.where = f"{host}:{port}/{database}"


def parse_url(url: str) -> StoreURL:
    """Read a store URL; a malformed one or a bad pairflow option is an InputError naming it."""
    return StoreURL(url)


def _option(
    options: dict[str, str], name: str, shown: str, parse: Callable[[str], _T | None], default: _T
) -> _T:
    if name not in options:
        return default
    value = parse(options[name])
    if value is None:
        raise InputError(f"store URL {shown!r}: {name} {options[name]!r} is not valid")
    return value


def _durability(text: str) -> Durability | None:
    try:
        return Durability(text.lower())
    except ValueError:
        return None


def _count(text: str) -> int | None:
    return int(text) if text.isdigit() and int(text) >= 1 else None


def _seconds(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value > 0 else None


def _redacted(url: str) -> str:
    """The URL without its password, fit for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _cause(exc: BaseException) -> str:
    """The first line of a driver error, without libpq's connection prefix and severity."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = _CONNECT_PREFIX.sub("", text).strip()
    for severity in ("FATAL:", "ERROR:"):
        if text.startswith(severity):
            text = text[len(severity) :].strip()
    return text or type(exc).__name__


def _duplicate_key(exc: psycopg.errors.UniqueViolation) -> str | None:
    """The id named by `Key (id)=(x) already exists.`, when the server gives it."""
    detail = exc.diag.message_detail or ""
    match = re.match(r"Key \(id\)=\((.*)\) already exists", detail)
    return match[1] if match else None


@cache
def _queries() -> dict[str, bytes]:
    """The named queries as bytes (what psycopg takes for a query not written in the code), without
    comment lines: psycopg would read a `%` in a comment as a placeholder."""
    return {
        name: "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--")).encode()
        for name, sql in load_queries("postgres").items()
    }


def _missing_run(run_id: str) -> StoreError:
    return StoreError(f"run {run_id}: no such run; nothing of the batch was committed")


def _utc(value: datetime, place: str, field: str) -> datetime:
    """A timezone-aware datetime in UTC; a naive one is refused, not guessed."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise StoreError(f"{place}: {field}: datetime {value.isoformat()} has no timezone")
    return value.astimezone(UTC)


def _optional_utc(value: datetime | None, place: str, field: str) -> datetime | None:
    return None if value is None else _utc(value, place, field)


def _fingerprint(definition: JSONObject, parameters: JSONObject) -> str:
    """Equal for equal content whatever the key order: decides whether a new version is stored."""
    text = canonical_json({"definition": definition, "parameters": parameters})
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _object(value: JSON) -> JSONObject:
    return cast(JSONObject, value)


# Rows of this backend: times are timestamptz (aware datetimes), JSON comes back decoded.
_ROWS = RowCodec(time_out=_utc, time_in=lambda value: value.astimezone(UTC), json_in=lambda value: value)
