"""The Recurrence trigger at run time: exactly-once firing across restarts, missed policy, conditions."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from pairflow.engine.clock import VirtualClock
from tests.triggers.conftest import T0, Location, deploy, history, runs

EVERY_MINUTE = {
    "type": "Recurrence",
    "recurrence": {"frequency": "Minute", "interval": 1, "startTime": "2024-01-01T00:00:00Z"},
}


def minutes(*numbers: int) -> list[str]:
    return [(T0 + timedelta(minutes=n)).isoformat().replace("+00:00", "Z") for n in numbers]


async def run_for(location: Location, clock: VirtualClock, seconds: float) -> None:
    await clock.sleep(seconds)
    await asyncio.sleep(0)


def occurrences(location: Location) -> list[str]:
    return [str(event.occurrence) for event in history(location.store) if event.status == "Succeeded"]


@pytest.mark.parametrize(
    ("missed", "expected_after_restart"),
    [
        ("skip", [8, 9]),
        ("fire-latest", [7, 8, 9]),
        ("fire-all", [3, 4, 5, 6, 7, 8, 9]),
    ],
)
def test_recurrence_fires_each_occurrence_once_across_restart_honouring_missed_policy(
    db: Path, clock: VirtualClock, missed: str, expected_after_restart: list[int]
) -> None:
    async def scenario() -> None:
        first = await Location(db, clock, missed=missed).start()
        deploy(first.store, EVERY_MINUTE)
        await first.service.workflow_changed("wf")
        await run_for(first, clock, 150)  # fires 0, 1, 2 (now 00:02:30)
        await first.stop()
        clock.advance(300)  # stopped through 3..7 (now 00:07:30)
        second = await Location(db, clock, missed=missed).start()
        await run_for(second, clock, 120)  # 8, 9 (now 00:09:30)
        # A third process on the same file, armed alongside: occurrence 10 still fires once.
        third = await Location(db, clock, missed=missed).start()
        await run_for(third, clock, 60)
        assert third.service.status()["armed"] == 1
        fired = occurrences(second)
        await third.stop()
        await second.stop()
        assert fired == minutes(0, 1, 2, *expected_after_restart, 10)
        assert not [item for item, count in Counter(fired).items() if count > 1]

    asyncio.run(scenario())


def test_recurrence_runs_get_empty_trigger_outputs_and_succeed(db: Path, clock: VirtualClock) -> None:
    async def scenario() -> None:
        location = await Location(db, clock).start()
        deploy(location.store, EVERY_MINUTE)
        await location.service.workflow_changed("wf")
        await run_for(location, clock, 90)
        await location.dispatcher.stop(grace=5)
        done = runs(location.store)
        await location.stop()
        assert len(done) == 2
        assert {run.status for run in done} == {"Succeeded"}
        assert done[0].trigger["outputs"] == {"headers": {}, "body": None}
        assert done[0].trigger["name"] == "tick"

    asyncio.run(scenario())


def test_recurrence_without_start_time_fires_at_deployment_then_every_interval(
    db: Path, clock: VirtualClock
) -> None:
    async def scenario() -> None:
        location = await Location(db, clock).start()
        deploy(location.store, {"type": "Recurrence", "recurrence": {"frequency": "Second", "interval": 10}})
        await location.service.workflow_changed("wf")
        await run_for(location, clock, 25)
        fired = occurrences(location)
        await location.stop()
        assert fired == [(T0 + timedelta(seconds=s)).isoformat().replace("+00:00", "Z") for s in (0, 10, 20)]

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("expression", "status"), [("@equals(1, 2)", "Skipped"), ("@equals(1, 1)", "Succeeded")]
)
def test_trigger_conditions_decide_whether_an_occurrence_starts_a_run(
    db: Path, clock: VirtualClock, expression: str, status: str
) -> None:
    async def scenario() -> None:
        location = await Location(db, clock).start()
        deploy(location.store, {**EVERY_MINUTE, "conditions": [{"expression": expression}]})
        await location.service.workflow_changed("wf")
        await run_for(location, clock, 30)
        events = history(location.store)
        started = runs(location.store)
        await location.stop()
        assert [event.status for event in events] == [status]
        assert events[0].occurrence == minutes(0)[0]
        assert len(started) == (1 if status == "Succeeded" else 0)

    asyncio.run(scenario())


def test_a_condition_that_is_not_boolean_records_a_failed_event(db: Path, clock: VirtualClock) -> None:
    async def scenario() -> None:
        location = await Location(db, clock).start()
        deploy(location.store, {**EVERY_MINUTE, "conditions": [{"expression": "@add(1, 2)"}]})
        await location.service.workflow_changed("wf")
        await run_for(location, clock, 30)
        events = history(location.store)
        await location.stop()
        assert [event.status for event in events] == ["Failed"]
        assert events[0].error is not None
        assert "conditions/0/expression" in str(events[0].error["message"])

    asyncio.run(scenario())


def test_disabling_and_passive_mode_stop_firing(db: Path, clock: VirtualClock) -> None:
    active = {"wf": True}

    async def scenario() -> None:
        location = await Location(db, clock, is_active=lambda name: active[name]).start()
        deploy(location.store, EVERY_MINUTE)
        await location.service.workflow_changed("wf")
        await run_for(location, clock, 30)  # 0
        location.store.set_workflow_enabled("wf", False)
        await location.service.workflow_changed("wf")
        assert location.service.status()["armed"] == 0
        await run_for(location, clock, 60)  # 1 not fired
        location.store.set_workflow_enabled("wf", True)
        active["wf"] = False
        await location.service.workflow_changed("wf")
        await run_for(location, clock, 60)  # 2 not fired: passive
        active["wf"] = True
        await location.service.workflow_changed("wf")
        await run_for(location, clock, 60)  # 3
        fired = occurrences(location)
        await location.stop()
        assert fired == minutes(0, 3)

    asyncio.run(scenario())
