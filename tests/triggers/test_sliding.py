"""The SlidingWindow trigger at run time: contiguous windows, each run once, across restarts."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from pairflow.engine.clock import VirtualClock
from tests.triggers.conftest import T0, Location, deploy, history, runs

WINDOWS = {
    "type": "SlidingWindow",
    "recurrence": {"frequency": "Minute", "interval": 1, "startTime": "2024-01-01T00:00:00Z"},
    "inputs": {"delay": "PT10S"},
}


def stamp(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def test_windows_stay_contiguous_and_run_once_across_a_restart(db: Path, clock: VirtualClock) -> None:
    async def scenario() -> None:
        first = await Location(db, clock).start()
        deploy(
            first.store,
            WINDOWS,
            actions={
                "Echo": {"type": "Compose", "inputs": "@triggerOutputs()?['windowStartTime']", "runAfter": {}}
            },
        )
        await first.service.workflow_changed("wf")
        await clock.sleep(185)  # windows ending 1, 2, 3 min are due by 3:10; now 3:05
        await first.stop()
        clock.advance(300)  # stopped until 8:05: windows 3..7 are owed
        second = await Location(db, clock).start()
        await clock.sleep(70)  # 9:15: window [8, 9) too
        third = await Location(db, clock).start()  # armed alongside: window [9, 10) still runs once
        await clock.sleep(60)
        await second.dispatcher.stop(grace=60)
        events = history(second.store)
        done = runs(second.store)
        await third.stop()
        await second.stop()
        starts = [event.occurrence for event in events]
        assert starts == [stamp(m) for m in range(10)]
        assert {event.status for event in events} == {"Succeeded"}
        windows = sorted(
            (run.trigger["outputs"]["windowStartTime"], run.trigger["outputs"]["windowEndTime"])
            for run in done
        )
        assert windows == [(stamp(m), stamp(m + 1)) for m in range(10)]
        assert {run.status for run in done} == {"Succeeded"}

    asyncio.run(scenario())
