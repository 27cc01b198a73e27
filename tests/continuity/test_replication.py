"""Replication in one process: batching and watermarks (pure), the JSON form of runs, the catch-up
query, and the receiver's import into a real SQLite store — replicas, version mapping by content,
epochs refused, adoption."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from pairflow.continuity.controller import Continuity
from pairflow.continuity.replica import NEVER, TRIGGERS_KEY, Receiver, _newer
from pairflow.continuity.replica_codec import (
    action_json,
    action_of,
    origin_of,
    replica_owner,
    run_json,
    run_of,
    version_json,
)
from pairflow.continuity.replication import Pending, changed_since, watermark
from pairflow.engine.clock import SystemClock
from pairflow.engine.view import run_summary
from pairflow.jsontypes import JSON, JSONObject
from pairflow.server.problems import ApiError
from pairflow.store.records import ActionRecord, RunRecord, WorkflowVersion
from pairflow.store.sqlite import SqliteStore

T0 = datetime(2025, 1, 1, tzinfo=UTC)
DEFINITION: JSONObject = {
    "triggers": {"manual": {"type": "Request", "kind": "Http"}},
    "actions": {"A": {"type": "Compose", "inputs": 1, "runAfter": {}}},
}


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# -- batching and watermarks --------------------------------------------------------------------------
def test_pending_ships_a_run_committed_many_times_once_in_its_first_place() -> None:
    pending = Pending()
    pending.add(["a", "b"], _at(1))
    pending.add(["a", "c"], _at(2))
    assert pending.take(2) == [("a", _at(1)), ("b", _at(1))]
    assert pending.take(10) == [("c", _at(2))]
    assert len(pending) == 0 and pending.oldest() is None


def test_a_failed_batch_goes_back_in_front_keeping_the_earlier_time() -> None:
    pending = Pending()
    pending.add(["a", "b", "c"], _at(1))
    batch = pending.take(2)
    pending.add(["b", "d"], _at(5))  # b committed again while its batch was in flight
    pending.restore(batch)
    assert pending.take(10) == [("a", _at(1)), ("b", _at(1)), ("c", _at(1)), ("d", _at(5))]


def test_watermark_is_the_oldest_waiting_change_less_the_margin() -> None:
    margin = timedelta(seconds=1)
    assert watermark(_at(3), _at(10), margin) == _at(2)
    assert watermark(None, _at(10), margin) == _at(9)
    assert watermark(_at(20), _at(10), margin) == _at(9)  # never after now


# -- the JSON form -------------------------------------------------------------------------------------
def _run(run_id: str = "r1", status: str = "Running", **changes: object) -> RunRecord:
    run = RunRecord(
        id=run_id,
        workflow="wf",
        version=1,
        status=status,
        trigger={"name": "manual", "outputs": {"body": {"n": 1}}},
        created_at=_at(0),
        variables={"v": {"type": "Integer", "value": 3}},
        ended_at=_at(5) if status != "Running" else None,
        epoch=1,
    )
    return replace(run, **changes)  # type: ignore[arg-type]


def _action(run_id: str, name: str, status: str, attempts: int = 1) -> ActionRecord:
    return ActionRecord(run_id, name, "", status, attempts=attempts, outputs={"x": 1}, start_time=_at(1))


def test_runs_and_actions_survive_their_json_form() -> None:
    run = _run(outputs={"o": 1}, parent_run="p")
    assert run_of(run_json(run), "/runs/0/run") == run
    record = _action("r1", "A", "Succeeded")
    assert action_of("r1", action_json(record), "/runs/0/actions/0") == record


def test_a_malformed_run_names_its_place_in_the_batch() -> None:
    bad = {**run_json(_run()), "createdAt": "yesterday"}
    with pytest.raises(Exception, match=r"^/runs/3/run/createdAt: expected an ISO 8601 time"):
        run_of(bad, "/runs/3/run")


def test_a_replica_owner_names_its_origin() -> None:
    assert origin_of(replica_owner("west")) == "west"
    assert origin_of("123@host") is None and origin_of(None) is None


# -- a real store --------------------------------------------------------------------------------------
@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    opened = SqliteStore(tmp_path / "east.db")
    try:
        yield opened
    finally:
        opened.close()


def test_catch_up_ships_unfinished_runs_and_runs_created_or_ended_since_the_watermark(
    store: SqliteStore,
) -> None:
    store.put_workflow("wf", DEFINITION, {}, T0)
    store.create_run(_run("old-ended", "Succeeded", created_at=_at(0), ended_at=_at(1)))
    store.create_run(_run("long", "Succeeded", created_at=_at(0), ended_at=_at(20)))
    store.create_run(_run("new", "Succeeded", created_at=_at(15), ended_at=_at(16)))
    store.create_run(_run("running", created_at=_at(0)))
    assert set(changed_since(store, _at(10))) == {"long", "new", "running"}
    assert set(changed_since(store, None)) == {"old-ended", "long", "new", "running"}


class _Passive:
    """A receiver's continuity: a real `Continuity` on the store, passive at `epoch`."""

    def __init__(self, store: SqliteStore, epoch: int) -> None:
        self.http = httpx.AsyncClient()
        self.continuity = Continuity(
            store, name="east", url="http://east", clock=SystemClock(), http=self.http
        )
        self.continuity.commit(replace(self.continuity.doc, epoch=epoch), "initialized", {})


def _batch(epoch: int, runs: list[tuple[RunRecord, list[ActionRecord]]], **extra: JSON) -> JSONObject:
    """A batch from west at `epoch`, carrying west's version 1 (DEFINITION)."""
    body: JSONObject = {
        "location": "west",
        "epoch": epoch,
        "versions": {"wf@1": version_json(WorkflowVersion("wf", 1, DEFINITION, {}, T0))},
        "runs": [
            {"run": run_json(run), "actions": [action_json(a) for a in actions]} for run, actions in runs
        ],
        "triggers": [],
    }
    body.update(extra)
    return body


def _receive(store: SqliteStore, epoch: int, body: JSONObject) -> tuple[int, JSONObject]:
    async def go() -> tuple[int, JSONObject]:
        passive = _Passive(store, epoch)
        try:
            receiver = Receiver(store, name="east", continuity=passive.continuity, clock=SystemClock())
            return await receiver.receive(body)
        finally:
            await passive.http.aclose()

    return asyncio.run(go())


def test_a_received_run_becomes_a_replica_the_dispatcher_never_takes(store: SqliteStore) -> None:
    store.put_workflow("wf", {"triggers": {}, "actions": {}}, {}, T0)  # east's version 1 differs
    store.put_workflow("wf", DEFINITION, {}, T0)  # east's version 2 is west's version 1
    run = _run()
    status, answer = _receive(store, 1, _batch(1, [(run, [_action("r1", "A", "Succeeded")])]))
    assert status == 200 and answer["imported"] == 1
    replica = store.get_run("r1")
    assert replica is not None and replica.version == 2 and replica.owner == "replica:west"
    assert replica.lease_until == NEVER
    assert not store.acquire_run("r1", "123@east", _at(0), _at(10))
    assert [a.status for a in store.load_actions("r1")] == ["Succeeded"]
    assert run_summary(replica)["location"] == "west"


def test_a_replica_is_brought_up_to_date_and_ends_as_its_origin_ended(store: SqliteStore) -> None:
    store.put_workflow("wf", DEFINITION, {}, T0)
    _receive(store, 1, _batch(1, [(_run(), [_action("r1", "A", "Running")])]))
    ended = _run(status="Succeeded", outputs={"o": 2})
    _receive(store, 1, _batch(1, [(ended, [_action("r1", "A", "Succeeded")])]))
    replica = store.get_run("r1")
    assert replica is not None and replica.status == "Succeeded" and replica.outputs == {"o": 2}
    assert [a.status for a in store.load_actions("r1")] == ["Succeeded"]


def test_a_version_not_deployed_here_is_kept_for_history_without_being_deployed(store: SqliteStore) -> None:
    status, _ = _receive(store, 1, _batch(1, [(_run(), [])]))
    assert status == 200
    assert store.get_workflow("wf") is None  # not deployed here
    kept = store.get_workflow("wf", 1)
    assert kept is not None and kept.definition == DEFINITION


def test_a_different_deployed_version_stays_the_deployed_one(store: SqliteStore) -> None:
    mine: JSONObject = {"triggers": {}, "actions": {"B": {"type": "Compose", "inputs": 2, "runAfter": {}}}}
    store.put_workflow("wf", mine, {}, T0)
    _receive(store, 1, _batch(1, [(_run(), [])]))
    latest = store.get_workflow("wf")
    assert latest is not None and latest.definition == mine
    replica = store.get_run("r1")
    assert replica is not None
    used = store.get_workflow("wf", replica.version)
    assert used is not None and used.definition == DEFINITION


def test_a_batch_from_an_older_epoch_is_refused_and_nothing_is_stored(store: SqliteStore) -> None:
    store.put_workflow("wf", DEFINITION, {}, T0)
    status, answer = _receive(store, 3, _batch(2, [(_run(), [])]))
    assert status == 409 and answer["accepted"] is False and answer["epoch"] == 3
    assert store.get_run("r1") is None


def test_a_batch_from_this_location_itself_is_malformed(store: SqliteStore) -> None:
    with pytest.raises(ApiError, match="/location"):
        _receive(store, 1, _batch(1, [], location="east"))


def test_an_unknown_version_without_its_content_is_asked_for(store: SqliteStore) -> None:
    status, answer = _receive(store, 1, _batch(1, [(_run(version=7), [])]))
    assert status == 200 and answer["needVersions"] == ["wf@7"] and answer["imported"] == 0


def test_a_run_that_ended_here_is_final(store: SqliteStore) -> None:
    store.put_workflow("wf", DEFINITION, {}, T0)
    store.create_run(_run(status="Succeeded"))
    status, answer = _receive(store, 1, _batch(1, [(_run(), [_action("r1", "A", "Running")])]))
    assert status == 200 and answer["skipped"] == 1
    assert store.load_actions("r1") == []


def test_adoption_releases_every_unfinished_replica_and_records_it(store: SqliteStore) -> None:
    store.put_workflow("wf", DEFINITION, {}, T0)
    _receive(store, 1, _batch(1, [(_run("r1"), []), (_run("r2", "Succeeded"), [])]))
    store.create_run(_run("mine", owner="1@east", lease_until=NEVER))

    async def go() -> list[str]:
        passive = _Passive(store, 1)
        try:
            receiver = Receiver(store, name="east", continuity=passive.continuity, clock=SystemClock())
            return [run.id for run in receiver.adopt()]
        finally:
            await passive.http.aclose()

    assert asyncio.run(go()) == ["r1"]
    adopted = store.get_run("r1")
    assert adopted is not None and adopted.owner is None
    assert store.acquire_run("r1", "1@east", _at(0), _at(10))
    ended = store.get_run("r2")
    assert ended is not None and ended.owner == "replica:west"  # history keeps its origin
    mine = store.get_run("mine")
    assert mine is not None and mine.owner == "1@east"


def test_trigger_states_are_kept_until_an_activation_imports_them(store: SqliteStore) -> None:
    state = {"workflow": "wf", "trigger": "manual", "state": {"cursor": "42"}}
    _receive(store, 1, _batch(1, [], triggers=[state]))
    kept = store.get_meta(TRIGGERS_KEY)
    assert kept is not None and kept[0]["wf/manual"]["state"] == {"cursor": "42"}
    assert kept[0]["wf/manual"]["from"] == "west"


def test_a_replicated_recurrence_state_replaces_only_an_earlier_last_fire() -> None:
    early, late = {"lastFire": "2025-01-01T00:00:01Z"}, {"lastFire": "2025-01-01T00:00:02Z"}
    assert _newer(late, early) and not _newer(early, late)
    assert _newer({"cursor": "2"}, {"cursor": "1"}) and _newer({"cursor": "1"}, None)
    assert not _newer({"cursor": "1"}, {"cursor": "1"})
