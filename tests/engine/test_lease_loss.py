"""A run whose lease lapsed while its process stalled, and which another process took over: the stalled
engine starts no further action of it and commits nothing over the new owner's records. Each test runs
over SQLite and PostgreSQL (`store_url`); a stall is virtual time jumping past the lease."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta

import pytest

from pairflow.engine.clock import VirtualClock
from pairflow.engine.runner import Engine, RunLeaseLostError
from pairflow.store import open_store
from pairflow.store.base import Store
from pairflow.store.records import ActionRecord, RunRecord
from tests.engine.conftest import DEPLOYED_AT, compose, deploy, wait

LEASE = 15.0
STALL = 100.0  # seconds: far longer than the lease


@pytest.fixture
def other(store_url: str) -> Iterator[Store]:
    """A second connection to the same store: another process's."""
    opened = open_store(store_url)
    yield opened
    opened.close()


def actions_of(store: Store, run_id: str) -> dict[str, ActionRecord]:
    return {record.name: record for record in store.load_actions(run_id)}


async def until_running(store: Store, name: str) -> RunRecord:
    """The run once `name` is committed Running (virtual time stands still while this polls)."""
    for _ in range(10_000):
        runs = store.unfinished_runs()
        if runs and name in actions_of(store, runs[0].id):
            return runs[0]
        await asyncio.sleep(0)
    raise AssertionError(f"{name} never started")


def deploy_wait_then_compose(store: Store, seconds: int) -> None:
    deploy(store, {"Wait": wait(seconds), "After": compose("after", {"Wait": ["Succeeded"]})})


def take_over(other: Store, clock: VirtualClock) -> None:
    """Another process's sweeper, after the stall: the lapsed lease makes the run claimable."""
    now = clock.now()
    claimed = other.claim_runs("B", now, now + timedelta(seconds=LEASE), 10)
    assert len(claimed) == 1


async def finish_as_b(other: Store, run_id: str, clock: VirtualClock) -> RunRecord:
    engine_b = Engine(other, clock=clock, owner="B", lease_seconds=LEASE)  # one loop, one virtual clock
    try:
        return await engine_b.execute(run_id)
    finally:
        await engine_b.aclose()


def test_the_renewer_stops_a_driver_whose_run_was_taken_over(store: Store, other: Store) -> None:
    deploy_wait_then_compose(store, 60)
    clock = VirtualClock()

    async def scenario() -> tuple[BaseException | None, dict[str, ActionRecord], RunRecord]:
        engine_a = Engine(store, clock=clock, owner="A", lease_seconds=LEASE)
        task = asyncio.create_task(engine_a.run("wf"))
        run = await until_running(store, "Wait")
        clock.advance(STALL)  # A stalls: its renewer and its Wait wake together, after the lease
        take_over(other, clock)
        try:
            await task
            error: BaseException | None = None
        except RunLeaseLostError as lost:
            error = lost
        await engine_a.aclose()
        left = actions_of(store, run.id)
        ended = await finish_as_b(other, run.id, clock)
        return error, left, ended

    error, left, ended = asyncio.run(scenario())
    assert isinstance(error, RunLeaseLostError)
    assert "After" not in left
    assert (left["Wait"].status, left["Wait"].attempts) == ("Running", 1)
    assert ended.status == "Succeeded"
    finished = actions_of(store, ended.id)
    assert (finished["Wait"].attempts, finished["After"].attempts) == (2, 1)


def test_a_stalled_engine_starts_no_action_of_a_run_taken_over(store: Store, other: Store) -> None:
    deploy_wait_then_compose(store, 60)
    clock = VirtualClock()

    async def scenario() -> tuple[BaseException | None, dict[str, ActionRecord], RunRecord]:
        engine_a = Engine(store, clock=clock, owner="A", lease_seconds=LEASE)
        task = asyncio.create_task(engine_a.run("wf"))
        run = await until_running(store, "Wait")
        # The stall: A's renewer does not get to run before its Wait ends, long after the lease.
        renewer = engine_a._renewer
        assert renewer is not None
        renewer.cancel()
        clock.advance(STALL)
        take_over(other, clock)
        try:
            await task
            error: BaseException | None = None
        except RunLeaseLostError as lost:
            error = lost
        await engine_a.aclose()
        left = actions_of(store, run.id)
        ended = await finish_as_b(other, run.id, clock)
        return error, left, ended

    error, left, ended = asyncio.run(scenario())
    assert isinstance(error, RunLeaseLostError)
    assert "After" not in left  # not started, and Wait's success not committed over B's claim
    assert (left["Wait"].status, left["Wait"].attempts) == ("Running", 1)
    owner = ended.owner
    assert ended.status == "Succeeded" and owner is None
    finished = actions_of(store, ended.id)
    assert (finished["Wait"].attempts, finished["After"].attempts) == (2, 1)


def test_a_stalled_engine_whose_run_nobody_took_carries_on(store: Store) -> None:
    deploy_wait_then_compose(store, 60)
    clock = VirtualClock()

    async def scenario() -> RunRecord:
        engine_a = Engine(store, clock=clock, owner="A", lease_seconds=LEASE)
        task = asyncio.create_task(engine_a.run("wf"))
        await until_running(store, "Wait")
        renewer = engine_a._renewer
        assert renewer is not None
        renewer.cancel()
        clock.advance(STALL)  # the lease lapsed, but no other process claimed the run
        try:
            return await task
        finally:
            await engine_a.aclose()

    ended = asyncio.run(scenario())
    assert ended.status == "Succeeded"
    assert actions_of(store, ended.id)["After"].status == "Succeeded"


def test_renew_run_leases_answers_which_runs_the_owner_still_holds(store: Store, other: Store) -> None:
    deploy(store, {"A": compose(1)})
    engine = Engine(store, clock=VirtualClock(), owner="A", lease_seconds=LEASE)
    now = DEPLOYED_AT
    ours, taken, queued = (engine.prepare_run("wf", lease=True) for _ in range(3))
    for run in (ours, taken, queued):
        store.create_run(run)
    later = now + timedelta(seconds=STALL)
    assert other.acquire_run(taken.id, "B", later, later + timedelta(seconds=LEASE))
    until = later + timedelta(seconds=LEASE)

    held = store.renew_run_leases("A", [ours.id, taken.id, "no-such-run"], until)

    assert held == {ours.id}
    queued_now = store.get_run(queued.id)
    assert queued_now is not None and queued_now.lease_until == until  # every lease of A is renewed
    taken_now = store.get_run(taken.id)
    assert taken_now is not None and taken_now.owner == "B"
    # the interface's default, built on renew_leases and get_run, answers the same
    assert Store.renew_run_leases(store, "A", [ours.id, taken.id], until) == {ours.id}
