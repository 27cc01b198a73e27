"""The SQLite store: one file, WAL mode, shared safely by several processes on one machine.

Every write is one `BEGIN IMMEDIATE … COMMIT` transaction, so a writer takes the file's write lock
before reading what it decides on; readers never block. Firing a trigger is one such transaction: the
occurrence claim, the runs, the trigger state and the history event commit together or not at all.
A process that finds the lock held waits up to the busy timeout. `Durability` chooses
`synchronous=NORMAL` (survives a process crash) or `FULL` (survives a power cut).
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from pairflow.errors import DuplicateRunError, MetaConflictError, StoreError, StoreUnavailableError
from pairflow.jsontypes import JSONObject
from pairflow.store.codec import (
    canonical_json,
    dump_json,
    dump_time,
    load_json,
    load_time,
)
from pairflow.store.namedsql import load_queries
from pairflow.store.records import (
    LocationEvent,
    RunRecord,
    RunUpdate,
    TriggerFire,
    WorkflowVersion,
)
from pairflow.store.rows import PreparedFire, RowCodec
from pairflow.store.settings import BUSY_TIMEOUT_SECONDS, DEFAULT_DURABILITY, Durability
from pairflow.store.sql import SqlStore
from pairflow.store.sqlite_migrate import migrate

_Row = tuple[Any, ...]
_ROWS = RowCodec(time_out=dump_time, time_in=load_time, json_in=load_json)


class SqliteStore(SqlStore):
    """The store in one SQLite file: one connection for writes and one for reads, each used by one
    thread at a time, so a read from the event loop never waits behind a commit's fsync."""

    _run_filters = (
        ("workflow", "workflow = :workflow"),
        ("status", "status = :status"),
        ("trigger", "trigger_name = :trigger"),
        ("since", "created_at >= :since"),
        ("until", "created_at < :until"),
    )

    def __init__(
        self,
        path: str | Path,
        durability: Durability = DEFAULT_DURABILITY,
        *,
        busy_timeout: float = BUSY_TIMEOUT_SECONDS,
    ) -> None:
        self.path = Path(path)
        self.durability = Durability(durability)
        self._queries = load_queries("sqlite")
        self._rows = _ROWS
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = _open(self.path, self.durability, busy_timeout)
        self._read_lock = threading.Lock()
        self._reader: sqlite3.Connection | None = _open(self.path, self.durability, busy_timeout)
        # At FULL every commit waits for the disk: worth running off the event loop.
        self.offload_writes = self.durability is Durability.FULL
        self._checkpointer: _Checkpointer | None = None

    def begin_serving(self) -> None:
        """Copy the write-ahead log into the database on a thread of its own, a little at a time.
        SQLite otherwise does all of it in whichever commit makes the log reach its size limit, a
        stall of tens of milliseconds for every caller waiting on that commit; that commit still
        checkpoints (only the writer can restart the log), but finds nearly everything copied."""
        if self._checkpointer is None:
            self._checkpointer = _Checkpointer(self.path, self.durability)

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
        with self._read_lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None

    def __enter__(self) -> SqliteStore:
        return self

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r}, {self.durability!s})"

    # -- workflows -----------------------------------------------------------------------------------
    def put_workflow(
        self, name: str, definition: JSONObject, parameters: JSONObject, now: datetime
    ) -> WorkflowVersion:
        place = f"workflow {name}"
        definition_text = dump_json(definition, place, "definition")
        parameters_text = dump_json(parameters, place, "parameters")
        fingerprint = _fingerprint(definition, parameters)
        created_at = dump_time(now, place, "created_at")
        with self._write(place) as connection:
            latest = connection.execute(self._queries["latest_workflow"], {"name": name}).fetchone()
            live = latest is not None and not latest[7]
            if live and latest[4] == fingerprint:
                return _ROWS.workflow(latest)
            params: dict[str, Any] = {
                "name": name,
                # after a delete the numbering continues, so a version number never means two things
                "version": 1 if latest is None else latest[1] + 1,
                "definition": definition_text,
                "parameters": parameters_text,
                "fingerprint": fingerprint,
                "created_at": created_at,
                "enabled": latest[6] if live else 1,  # a new version keeps the enabled flag
            }
            connection.execute(self._queries["insert_workflow"], params)
        return WorkflowVersion(
            name=name,
            version=params["version"],
            definition=load_json(definition_text),
            parameters=load_json(parameters_text),
            created_at=load_time(created_at),
            enabled=bool(params["enabled"]),
        )

    def set_workflow_enabled(self, name: str, enabled: bool) -> bool:
        params = {"name": name, "enabled": 1 if enabled else 0}
        with self._write(f"workflow {name}") as connection:
            return connection.execute(self._queries["set_workflow_enabled"], params).rowcount == 1

    def delete_workflow(self, name: str) -> bool:
        """Also forgets the access key, so that callback URLs signed before the delete stay dead
        after a redeploy. Trigger state, occurrence claims and history stay, like run history."""
        with self._write(f"workflow {name}") as connection:
            if connection.execute(self._queries["delete_workflow"], {"name": name}).rowcount != 1:
                return False
            connection.execute(self._queries["delete_access_key"], {"workflow": name})
        return True

    def set_access_key(self, name: str, key: str) -> None:
        with self._write(f"access key of {name}") as connection:
            connection.execute(self._queries["set_access_key"], {"workflow": name, "key": key})

    # -- runs ----------------------------------------------------------------------------------------
    def create_run(self, run: RunRecord) -> None:
        params = _ROWS.run_params(run)
        with self._write(f"run {run.id}") as connection:
            self._insert_run(connection, params)

    def commit(self, updates: Sequence[RunUpdate]) -> None:
        if not updates:
            return
        # Encode everything before the transaction: a bad value fails the batch before any write.
        run_steps, unchanged, action_rows = _ROWS.updates(updates)
        queries = self._queries
        with self._write(f"commit of {len(updates)} update(s)") as connection:
            if unchanged:
                ids = dump_json(unchanged, "commit", "run ids")
                row = connection.execute(queries["first_missing_run"], {"ids": ids}).fetchone()
                if row is not None:
                    raise _missing_run(row[0])
            for name, params in run_steps:
                if connection.execute(queries[name], params).rowcount != 1:
                    raise _missing_run(params["id"])
            if action_rows:
                connection.executemany(queries["upsert_action"], action_rows)

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
            "now": dump_time(now, place, "now"),
            "lease_until": dump_time(lease_until, place, "lease_until"),
            "dead_owners": dump_json(list(dead_owners), place, "dead_owners"),
        }
        with self._write(place) as connection:
            return connection.execute(self._queries["acquire_run"], params).rowcount == 1

    def renew_leases(self, owner: str, lease_until: datetime) -> int:
        place = f"leases of {owner}"
        params = {"owner": owner, "lease_until": dump_time(lease_until, place, "lease_until")}
        with self._write(place) as connection:
            return connection.execute(self._queries["renew_leases"], params).rowcount

    def renew_run_leases(self, owner: str, run_ids: Sequence[str], lease_until: datetime) -> set[str]:
        place = f"leases of {owner}"
        params = {"owner": owner, "lease_until": dump_time(lease_until, place, "lease_until")}
        with self._write(place) as connection:
            rows = connection.execute(self._queries["renew_leases_returning"], params).fetchall()
        return {str(row[0]) for row in rows} & set(run_ids)

    def release_run(self, run_id: str, owner: str) -> None:
        with self._write(f"run {run_id}") as connection:
            connection.execute(self._queries["release_run"], {"id": run_id, "owner": owner})

    # -- triggers ------------------------------------------------------------------------------------
    def put_trigger_state(self, workflow: str, trigger: str, state: JSONObject) -> None:
        place = f"trigger {workflow}/{trigger}"
        params = {"workflow": workflow, "trigger": trigger, "state": dump_json(state, place, "state")}
        with self._write(place) as connection:
            connection.execute(self._queries["put_trigger_state"], params)

    batches_fires = True

    def fire_triggers(self, fires: Sequence[TriggerFire]) -> list[bool]:
        """All the fires in one transaction. No savepoint is needed for a fire to write nothing when
        its key was claimed before: the claim is its first statement. The runs, action records and
        events of the fires that claimed are then inserted by one statement each (a batch of Request
        calls is three statements, not three per call). Anything refused raises and rolls the whole
        batch back."""
        if not fires:
            return []
        # Encode everything before the transaction: a bad value fails the batch before any write.
        prepared = [_ROWS.prepared_fire(fire) for fire in fires]
        queries = self._queries
        fired: list[bool] = []
        runs: list[dict[str, Any]] = []
        actions: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        place = prepared[0].place if len(prepared) == 1 else f"{len(fires)} trigger fires"
        try:
            with self._write(place) as connection:
                for fire in prepared:
                    if (
                        fire.claim is not None
                        and connection.execute(queries["claim_occurrence"], fire.claim).rowcount != 1
                    ):
                        fired.append(False)  # fired for this occurrence before: this fire writes nothing
                        continue
                    if fire.state is not None:
                        connection.execute(queries["put_trigger_state"], fire.state)
                    runs += fire.runs
                    actions += fire.actions
                    events.append(fire.event)
                    fired.append(True)
                try:
                    connection.executemany(queries["insert_run"], runs)
                    connection.executemany(queries["upsert_action"], actions)
                    connection.executemany(queries["insert_trigger_event"], events)
                except sqlite3.IntegrityError as exc:
                    if "runs.id" in str(exc) or "trigger_history.id" in str(exc):
                        raise _TakenId(str(exc)) from exc  # named once the batch is rolled back
                    raise
        except _TakenId as taken:
            raise self._taken_id_error(str(taken), runs, events, prepared) from taken.__cause__
        return fired

    def _taken_id_error(
        self,
        message: str,
        runs: list[dict[str, Any]],
        events: list[dict[str, Any]],
        prepared: list[PreparedFire],
    ) -> StoreError:
        """Which run or event id of a refused batch was taken: by a row stored before, or twice in
        the batch."""
        is_run = "runs.id" in message
        ids = [row["id"] for row in (runs if is_run else events)]
        query = self._queries["get_run" if is_run else "trigger_event_exists"]
        with self._read("taken ids") as connection:
            stored = [i for i in ids if connection.execute(query, {"id": i}).fetchone() is not None]
        twice = [i for i in ids if ids.count(i) > 1]
        taken = (stored or twice or ["?"])[0]
        if is_run:
            return DuplicateRunError(f"run {taken}: a run with that id exists already")
        where = next((fire.place for fire in prepared if fire.event["id"] == taken), prepared[0].place)
        return StoreError(f"{where}: trigger event {taken}: an event with that id exists already")

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
        with self._write(place) as connection:
            if expected_version is None:
                connection.execute(self._queries["upsert_meta"], params)
            elif expected_version == 0:
                if connection.execute(self._queries["insert_meta"], params).rowcount != 1:
                    raise MetaConflictError(f"{place}: exists already (expected it absent)")
            else:
                params["expected"] = expected_version
                if connection.execute(self._queries["update_meta"], params).rowcount != 1:
                    raise MetaConflictError(f"{place}: changed since version {expected_version}")
            if event_row is not None:
                connection.execute(self._queries["insert_location_event"], event_row)
            row = connection.execute(self._queries["get_meta"], {"key": key}).fetchone()
        return int(row[1])

    # -- transactions --------------------------------------------------------------------------------
    def _insert_run(self, connection: sqlite3.Connection, params: dict[str, Any]) -> None:
        """Insert one run inside the caller's transaction; an existing id is DuplicateRunError."""
        try:
            connection.execute(self._queries["insert_run"], params)
        except sqlite3.IntegrityError as exc:
            if "runs.id" in str(exc):
                raise DuplicateRunError(f"run {params['id']}: a run with that id exists already") from exc
            raise

    @contextmanager
    def _read(self, place: str) -> Iterator[sqlite3.Connection]:
        with self._read_lock:
            connection = self._reader
            if connection is None:
                raise StoreError(f"{place}: the store at {self.path} is closed")
            try:
                yield connection
            except sqlite3.Error as exc:
                raise StoreError(f"{place}: {self.path}: {exc}") from exc

    @contextmanager
    def _write(self, place: str) -> Iterator[sqlite3.Connection]:
        """One write transaction; anything raised inside rolls all of it back."""
        with self._lock:
            connection = self._open_connection(place)
            try:
                connection.execute("BEGIN IMMEDIATE")
                yield connection
                connection.execute("COMMIT")
            except BaseException as exc:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(f"{place}: {self.path}: {exc}") from exc
                raise

    def _open_connection(self, place: str) -> sqlite3.Connection:
        if self._connection is None:
            raise StoreError(f"{place}: the store at {self.path} is closed")
        return self._connection


class _Checkpointer:
    """A thread that checkpoints the log (PASSIVE: never blocking readers or writers) every
    `EVERY_SECONDS` once the log file is past `LOG_PAGES` pages, a fraction of the writer's own limit
    (SQLite's default, 1000). The file keeps its size when the log restarts, so from then on every
    round checkpoints; a round with no new frames costs SQLite nothing but a look at the log index."""

    LOG_PAGES = 200
    EVERY_SECONDS = 0.1

    def __init__(self, path: Path, durability: Durability) -> None:
        self._path = path
        self._log = Path(f"{path}-wal")
        self._stopped = threading.Event()
        self._connection = _open(path, durability, BUSY_TIMEOUT_SECONDS)
        self._limit = self.LOG_PAGES * int(self._connection.execute("PRAGMA page_size").fetchone()[0])
        self._thread = threading.Thread(target=self._run, name=f"checkpoints of {path.name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stopped.wait(self.EVERY_SECONDS):
                try:
                    grown = self._log.stat().st_size > self._limit
                except OSError:
                    grown = False
                if grown:
                    self.checkpoint()
        finally:
            self._connection.close()

    def checkpoint(self) -> None:
        try:
            self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error as exc:  # busy with another process's checkpoint, say: next round
            _log.debug("checkpoint of %s skipped: %s", self._path, exc)

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=30)


class _TakenId(Exception):
    """A batch inserted a run or event id that exists: raised through the rollback, then named."""


_log = logging.getLogger(__name__)


def _open(path: Path, durability: Durability, busy_timeout: float) -> sqlite3.Connection:
    """Connect, set the pragmas and migrate; any failure is StoreUnavailableError naming path and cause."""
    try:
        connection = sqlite3.connect(
            path, timeout=busy_timeout, isolation_level=None, check_same_thread=False, cached_statements=64
        )
    except sqlite3.Error as exc:
        raise StoreUnavailableError(f"cannot open the store at {path}: {exc}") from exc
    try:
        connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        _enter_wal_mode(connection, busy_timeout)
        connection.execute(f"PRAGMA synchronous = {durability.value.upper()}")
        connection.execute("PRAGMA foreign_keys = ON")
        migrate(connection, str(path))
    except sqlite3.Error as exc:
        connection.close()
        raise StoreUnavailableError(f"cannot open the store at {path}: {exc}") from exc
    except BaseException:
        connection.close()
        raise
    return connection


def _missing_run(run_id: str) -> StoreError:
    return StoreError(f"run {run_id}: no such run; nothing of the batch was committed")


def _enter_wal_mode(connection: sqlite3.Connection, busy_timeout: float) -> None:
    """Switch the file to WAL, retrying while another process holds a lock: SQLite answers a journal
    mode change with SQLITE_BUSY at once, without waiting (two processes opening a fresh file)."""
    deadline = time.monotonic() + busy_timeout
    while True:
        try:
            connection.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY or time.monotonic() >= deadline:
                raise
            time.sleep(0.005)
        else:
            return


def _fingerprint(definition: JSONObject, parameters: JSONObject) -> str:
    """Equal for equal content whatever the key order: decides whether a new version is stored."""
    text = canonical_json({"definition": definition, "parameters": parameters})
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
