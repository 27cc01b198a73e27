"""Sharing a store between processes: claiming runs nobody executes (`Store.claim_runs`), the
dispatcher's sweeper taking over a dead process's runs, and a caller answered by the process that
took its run over. Each test runs over SQLite and PostgreSQL (`store_url`)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from pairflow.engine.clock import SystemClock
from pairflow.engine.dispatcher import Dispatcher
from pairflow.engine.runner import Engine
from pairflow.store import open_store
from pairflow.store.base import Store
from pairflow.store.records import RunRecord
from tests.engine.conftest import compose, deploy

RESPONSE = {
    "Answer": {"type": "Response", "inputs": {"statusCode": 201, "body": "@triggerBody()"}, "runAfter": {}},
    "After": compose("done", {"Answer": ["Succeeded"]}),
}


def orphan(engine: Engine, owner: str | None, lease_seconds: float, body: object = None) -> RunRecord:
    """A committed run leased to `owner` (a process gone) until `lease_seconds` from now."""
    now = engine.clock.now()
    run = engine.prepare_run("wf", trigger_outputs={"body": body})
    run = replace(run, owner=owner, lease_until=now + timedelta(seconds=lease_seconds) if owner else None)
    engine.store.create_run(run)
    return run


def test_claim_runs_takes_unowned_and_expired_runs_once_and_leaves_live_leases(store: Store) -> None:
    deploy(store, {"Echo": compose(1)})
    engine = Engine(store, clock=SystemClock(), owner="creator")
    expired = orphan(engine, "gone@elsewhere", -1)
    unowned = orphan(engine, None, 0)
    live = orphan(engine, "alive@elsewhere", 60)
    dead = orphan(engine, "dead@elsewhere", 60)
    now = engine.clock.now()
    until = now + timedelta(seconds=15)

    first = store.claim_runs("a", now, until, 10, dead_owners=["dead@elsewhere"])
    second = store.claim_runs("b", now, until, 10, dead_owners=["dead@elsewhere"])

    assert [run.id for run in first] == [expired.id, unowned.id, dead.id]
    assert {run.owner for run in first} == {"a"}
    assert second == []
    stored = store.get_run(live.id)
    assert stored is not None and stored.owner == "alive@elsewhere"
    taken = store.get_run(expired.id)
    assert taken is not None and taken.owner == "a"


def test_claim_runs_stops_at_the_limit(store: Store) -> None:
    deploy(store, {"Echo": compose(1)})
    engine = Engine(store, clock=SystemClock(), owner="creator")
    runs = {orphan(engine, None, 0).id for _ in range(3)}
    now = engine.clock.now()
    claimed = {run.id for run in store.claim_runs("a", now, now + timedelta(seconds=15), 2)}
    rest = {run.id for run in store.claim_runs("b", now, now + timedelta(seconds=15), 5)}
    assert len(claimed) == 2
    assert claimed | rest == runs and not claimed & rest


def test_concurrent_claims_give_each_run_to_one_process(store_url: str) -> None:
    setup = open_store(store_url)
    deploy(setup, {"Echo": compose(1)})
    engine = Engine(setup, clock=SystemClock(), owner="creator")
    ids = {orphan(engine, None, 0).id for _ in range(40)}
    stores = [open_store(store_url) for _ in range(3)]

    async def claim(store: Store, owner: str) -> list[str]:
        taken: list[str] = []
        for _ in range(10):
            now = engine.clock.now()
            batch = await asyncio.to_thread(store.claim_runs, owner, now, now + timedelta(seconds=15), 3)
            taken.extend(run.id for run in batch)
        return taken

    async def race() -> list[list[str]]:
        return list(await asyncio.gather(*(claim(s, f"p{i}") for i, s in enumerate(stores))))

    try:
        results = asyncio.run(race())
    finally:
        for store in stores:
            store.close()
        setup.close()
    everything = [run_id for taken in results for run_id in taken]
    assert sorted(everything) == sorted(ids)  # all of them, none twice


def test_the_sweeper_executes_a_run_whose_process_died(store: Store) -> None:
    deploy(store, {"Echo": compose("@triggerBody()")})

    async def scenario() -> RunRecord | None:
        engine = Engine(store, clock=SystemClock(), owner="survivor")
        dispatcher = Dispatcher(engine, sweep_seconds=0.05)
        await dispatcher.start()
        run = orphan(engine, "killed@elsewhere", 0.3, body="orphaned")
        await asyncio.sleep(0.1)
        early = store.get_run(run.id)
        assert early is not None and early.status == "Running"  # its lease has not expired yet
        for _ in range(200):
            found = store.get_run(run.id)
            if found is not None and found.status != "Running":
                break
            await asyncio.sleep(0.02)
        await dispatcher.stop(grace=1)
        await engine.aclose()
        return store.get_run(run.id)

    ended = asyncio.run(scenario())
    assert ended is not None and ended.status == "Succeeded"
    assert ended.owner is None  # its last commit released the survivor's lease
    actions = {record.name: record for record in store.load_actions(ended.id)}
    assert actions["Echo"].outputs == "orphaned"


def test_a_caller_gets_the_response_of_a_run_another_process_took_over(store_url: str) -> None:
    here, there = open_store(store_url), open_store(store_url)
    deploy(here, RESPONSE)

    async def scenario() -> object:
        receiving = Engine(here, clock=SystemClock(), owner="receiving")
        executing = Engine(there, clock=SystemClock(), owner="executing")
        waiter = Dispatcher(receiving, sweep_seconds=3600)
        sweeper = Dispatcher(executing, sweep_seconds=0.05)
        await waiter.start()
        run = orphan(receiving, "receiving-before-its-stall", -1, body={"n": 7})
        waiting = asyncio.ensure_future(waiter.wait_reply(run.id, 10))
        await asyncio.sleep(0.05)
        await sweeper.start()
        reply = await waiting
        for dispatcher in (waiter, sweeper):
            await dispatcher.stop(grace=1)
        for engine in (receiving, executing):
            await engine.aclose()
        return reply

    try:
        reply = asyncio.run(scenario())
    finally:
        here.close()
        there.close()
    assert reply is not None
    assert getattr(reply, "response", None) == {"statusCode": 201, "headers": {}, "body": {"n": 7}}
