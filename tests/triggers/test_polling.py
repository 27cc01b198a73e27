"""The Http polling trigger: 202/200, Retry-After, Location as the persisted cursor, splitOn, failures."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pairflow.engine.clock import VirtualClock
from pairflow.triggers.firing import parse_iso
from tests.triggers.conftest import Location, Reply, ScriptedServer, Seen, deploy, history, runs, until


def polling(uri: str, queries: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "type": "Http",
        "inputs": {"method": "GET", "uri": uri, "queries": queries or {}},
        "recurrence": {"frequency": "Second", "interval": 30, "startTime": "2024-01-01T00:00:00Z"},
        **extra,
    }


def test_a_202_is_skipped_and_retry_after_sets_the_next_poll(
    db: Path, clock: VirtualClock, server_factory: Callable[[Callable[[Seen], Reply]], ScriptedServer]
) -> None:
    answers = [(202, {"Retry-After": "7"}, None), (202, {}, None), (202, {"Retry-After": "3"}, None)]
    server = server_factory(lambda request: answers[min(len(server.seen), len(answers)) - 1])

    async def scenario() -> None:
        location = await Location(db, clock).start()
        deploy(
            location.store,
            polling(f"{server.url}/items", {"since": "@{parameters('from')}"}),
            parameters={"from": {"type": "int", "defaultValue": 5}},
        )
        await location.service.workflow_changed("wf")
        await until(lambda: len(history(location.store)) >= 4)
        events = history(location.store)[:4]
        started = runs(location.store)
        await location.stop()
        assert {event.status for event in events} == {"Skipped"}
        gaps = [(b.fired_at - a.fired_at).total_seconds() for a, b in itertools.pairwise(events)]
        # Retry-After 7, then the recurrence (next 30 s boundary), then Retry-After 3.
        assert gaps[0] == 7
        assert gaps[1] == 23
        assert gaps[2] == 3
        assert server.seen[0].path == "/items?since=5"
        assert started == []

    asyncio.run(scenario())


def test_a_200_fires_and_the_location_cursor_survives_a_restart(
    db: Path, clock: VirtualClock, server_factory: Callable[[Callable[[Seen], Reply]], ScriptedServer]
) -> None:
    def answer(request: Seen) -> Reply:
        page = 0 if request.path.startswith("/start") else int(request.path.split("/")[-1])
        return 200, {"Location": f"/page/{page + 1}"}, {"page": page}

    server = server_factory(answer)

    async def scenario() -> None:
        first = await Location(db, clock).start()
        deploy(first.store, polling(f"{server.url}/start"))
        await first.service.workflow_changed("wf")
        await until(lambda: len(runs(first.store)) >= 2)
        await first.stop()
        read_before = len(server.seen)
        second = await Location(db, clock).start()
        await until(lambda: len(server.seen) > read_before)
        await until(lambda: len(runs(second.store)) >= read_before + 1)
        bodies = [run.trigger["outputs"]["body"]["page"] for run in runs(second.store)]
        statuses = {run.trigger["outputs"]["statusCode"] for run in runs(second.store)}
        await second.stop()
        assert server.seen[read_before].path == f"/page/{read_before}"
        assert bodies[: read_before + 1] == list(range(read_before + 1))
        assert statuses == {200}

    asyncio.run(scenario())


def test_split_on_starts_one_run_per_item_in_one_firing(
    db: Path, clock: VirtualClock, server_factory: Callable[[Callable[[Seen], Reply]], ScriptedServer]
) -> None:
    server = server_factory(
        lambda request: (
            (200, {}, {"rows": [{"id": 1}, {"id": 2}, {"id": 3}]})
            if len(server.seen) == 1
            else (202, {}, None)
        )
    )

    async def scenario() -> None:
        location = await Location(db, clock).start()
        deploy(location.store, polling(f"{server.url}/rows", splitOn="@triggerBody()?['rows']"))
        await location.service.workflow_changed("wf")
        await until(lambda: len(history(location.store)) >= 2)
        await location.dispatcher.stop(grace=60)
        fired = history(location.store)[0]
        started = {run.id: run for run in runs(location.store)}
        await location.stop()
        assert fired.status == "Succeeded"
        assert len(fired.run_ids) == 3
        assert sorted(started[run_id].trigger["outputs"]["body"]["id"] for run_id in fired.run_ids) == [
            1,
            2,
            3,
        ]

    asyncio.run(scenario())


def test_a_server_error_is_a_failed_event_and_polling_goes_on(
    db: Path, clock: VirtualClock, server_factory: Callable[[Callable[[Seen], Reply]], ScriptedServer]
) -> None:
    server = server_factory(
        lambda request: (500, {}, {"error": "down"}) if len(server.seen) == 1 else (202, {}, None)
    )

    async def scenario() -> None:
        location = await Location(db, clock).start()
        deploy(location.store, polling(f"{server.url}/x"))
        await location.service.workflow_changed("wf")
        await until(lambda: len(history(location.store)) >= 2)
        events = history(location.store)
        state = location.service.export_state("wf", "tick")
        await location.stop()
        assert [event.status for event in events[:2]] == ["Failed", "Skipped"]
        assert events[0].error is not None
        assert "HTTP 500" in str(events[0].error["message"])
        assert parse_iso(state["nextPoll"]) is not None

    asyncio.run(scenario())
