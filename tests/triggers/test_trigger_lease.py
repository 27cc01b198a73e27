"""Polling and webhook triggers among processes sharing a store: one holder of each trigger's lease
polls or subscribes; a poll made from a state someone else moved on commits nothing. Over SQLite and
PostgreSQL (`store_url` through the `db` fixture)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from pairflow.engine.clock import SystemClock, VirtualClock
from pairflow.store import open_store
from pairflow.triggers.firing import Target
from pairflow.triggers.lease import TriggerLease
from pairflow.triggers.polling import PollingLoop
from tests.triggers.conftest import Location, Reply, ScriptedServer, Seen, deploy, history, runs, until

LEASE = 0.6  # seconds: renewed every 0.2 s
Factory = Callable[[Callable[[Seen], Reply]], ScriptedServer]


def polling(uri: str) -> dict[str, Any]:
    return {
        "type": "Http",
        "inputs": {"method": "GET", "uri": uri},
        "recurrence": {"frequency": "Second", "interval": 30, "startTime": "2024-01-01T00:00:00Z"},
    }


def test_one_owner_holds_a_trigger_lease_until_it_expires_or_is_released(
    db: str, clock: VirtualClock
) -> None:
    store = open_store(db)
    try:
        first = TriggerLease(store, "wf", "tick", owner="a", seconds=15, clock=clock)
        second = TriggerLease(store, "wf", "tick", owner="b", seconds=15, clock=clock)
        assert first.hold()
        assert not second.hold()
        assert second.holder == "a"
        assert first.hold()  # renewing
        clock.advance(16)
        assert second.hold()  # a's lease lapsed
        assert not first.hold()
        second.release()
        assert first.hold()  # released: taken at once
    finally:
        store.close()


async def shared(db: str) -> Location:
    """A location on the real clock with a short run lease, as a process of a shared store. (On a
    virtual clock leases lapse whenever the loop waits for the network: time jumps then.)"""
    location = await Location(db, SystemClock()).start()
    location.engine.lease_seconds = LEASE
    return location


def test_two_processes_poll_a_trigger_one_at_a_time_and_fire_each_page_once(
    db: str, server_factory: Factory
) -> None:
    active: list[int] = []
    overlaps: list[int] = []

    def answer(request: Seen) -> Reply:
        active.append(1)
        if len(active) > 1:
            overlaps.append(len(active))
        time.sleep(0.01)
        active.pop()
        page = 0 if request.path.startswith("/start") else int(request.path.split("/")[-1])
        return 200, {"Location": f"/page/{page + 1}", "Retry-After": "0"}, {"page": page}

    server = server_factory(answer)

    async def scenario() -> list[int]:
        one, two = await shared(db), await shared(db)
        deploy(one.store, polling(f"{server.url}/start"))
        await asyncio.gather(one.service.workflow_changed("wf"), two.service.workflow_changed("wf"))
        await until(lambda: len(runs(one.store)) >= 10)
        await one.stop()  # the other takes over from its cursor
        before = len(runs(two.store))
        await until(lambda: len(runs(two.store)) >= before + 10)
        await two.stop()
        reading = open_store(db)
        try:
            return [run.trigger["outputs"]["body"]["page"] for run in runs(reading)]
        finally:
            reading.close()

    pages = asyncio.run(scenario())
    assert pages == list(range(len(pages)))  # in order, none twice, none skipped
    assert overlaps == []  # never two polls at once
    assert [seen.path for seen in server.seen][: len(pages)] == ["/start"] + [
        f"/page/{page}" for page in range(1, len(pages))
    ]


def test_a_poll_from_a_state_another_poll_moved_on_commits_nothing(
    db: str, clock: VirtualClock, server_factory: Factory
) -> None:
    def answer(request: Seen) -> Reply:
        time.sleep(0.2)  # both polls read the state before either commits
        return 200, {"Location": "/next"}, {"n": 1}

    server = server_factory(answer)

    async def scenario() -> None:
        location = await Location(db, clock).start()
        deploy(location.store, polling(f"{server.url}/start"))
        version = location.store.get_workflow("wf")
        assert version is not None
        target = Target.of(version)
        assert target is not None
        loops = [
            PollingLoop(location.service.firer, target, http=location.http, location="x", tick=lambda: None)
            for _ in range(2)
        ]
        await asyncio.gather(*(loop.poll() for loop in loops))
        fired = [event for event in history(location.store) if event.status == "Succeeded"]
        state = location.store.get_trigger_state("wf", "tick") or {}
        await location.stop()
        assert len(server.seen) == 2
        assert len(fired) == 1
        assert state["nextUrl"] == f"{server.url}/next"

    asyncio.run(scenario())


def test_two_processes_subscribe_a_webhook_once(
    db: str, clock: VirtualClock, server_factory: Factory
) -> None:
    def answer(request: Seen) -> Reply:
        time.sleep(0.1)
        return 200, {}, {"id": "sub"}

    server = server_factory(answer)
    webhook = {
        "type": "HttpWebhook",
        "inputs": {
            "subscribe": {
                "method": "POST",
                "uri": f"{server.url}/subscribe",
                "body": {"to": "@listCallbackUrl()"},
            },
            "unsubscribe": {"method": "POST", "uri": f"{server.url}/unsubscribe"},
        },
    }

    async def scenario() -> None:
        one, two = await shared(db), await shared(db)
        deploy(one.store, webhook)
        await asyncio.gather(one.service.workflow_changed("wf"), two.service.workflow_changed("wf"))
        await until(lambda: "subscription" in one.service.export_state("wf", "tick"))
        await asyncio.sleep(0.3)
        await one.stop()
        await two.stop()
        assert [seen.path for seen in server.seen] == ["/subscribe"]

    asyncio.run(scenario())
