"""Fire-time lateness of a Recurrence trigger on the real clock, and missed or doubled occurrences.

A workflow with a Recurrence every second is deployed into a temporary SQLite store and served by a
TriggerService on the SystemClock for `--seconds` (60 by default). From the store's trigger history:
lateness = when the trigger fired (its history event's fired_at) minus the scheduled
occurrence, p50/p99/max in ms; missed = scheduled occurrences in the served span with no event;
doubled = occurrences with more than one event. Target: p99 < 20 ms, none missed or doubled.

    .venv/bin/python bench/bench_recurrence.py [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from pairflow.engine.clock import SystemClock
from pairflow.engine.dispatcher import Dispatcher
from pairflow.engine.runner import Engine
from pairflow.store.sqlite import SqliteStore
from pairflow.triggers.firing import parse_iso
from pairflow.triggers.service import TriggerService

DEFINITION = {
    "triggers": {
        "Every_second": {"type": "Recurrence", "recurrence": {"frequency": "Second", "interval": 1}}
    },
    "actions": {"Stamp": {"type": "Compose", "inputs": "@utcNow()", "runAfter": {}}},
    "outputs": {},
}


async def serve(path: Path, seconds: float) -> tuple[datetime, datetime]:
    clock = SystemClock()
    store = SqliteStore(path)
    async with httpx.AsyncClient() as http:
        engine = Engine(store, clock=clock, http_client=http)
        dispatcher = Dispatcher(engine)
        service = TriggerService(
            store,
            engine,
            dispatcher,
            clock=clock,
            http=http,
            callback_url=lambda w, t: f"http://localhost/{w}/{t}",
        )
        await dispatcher.start()
        await service.start()
        started = clock.now()
        store.put_workflow("tick", DEFINITION, {}, started)
        await service.workflow_changed("tick")
        await clock.sleep(seconds)
        ended = clock.now()
        await service.stop()
        await dispatcher.stop(grace=5)
        await engine.aclose()
    store.close()
    return started, ended


def report(path: Path, started: datetime, ended: datetime) -> None:
    store = SqliteStore(path)
    events = store.list_trigger_history("tick", limit=1_000_000)
    runs = store.list_runs("tick", limit=1_000_000)
    store.close()
    fired = [event for event in events if event.status == "Succeeded"]
    lateness = sorted(
        (event.fired_at - when).total_seconds() * 1000
        for event in fired
        if (when := parse_iso(event.occurrence)) is not None
    )
    counts = Counter(event.occurrence for event in fired)
    doubled = sum(count - 1 for count in counts.values() if count > 1)
    expected = {
        (started + timedelta(seconds=k)).astimezone(UTC)
        for k in range(int((ended - started).total_seconds()) + 1)
        if started + timedelta(seconds=k) < ended - timedelta(seconds=0.5)
    }
    seen = {parse_iso(occurrence) for occurrence in counts}
    missed = len(expected - seen)
    if not lateness:
        print("no occurrence fired")
        return
    p99 = lateness[min(len(lateness) - 1, round(0.99 * (len(lateness) - 1)))]
    print(
        f"occurrences fired: {len(fired)}  runs: {len(runs)}  over {(ended - started).total_seconds():.1f} s"
    )
    print(
        f"lateness ms: p50 {statistics.median(lateness):.2f}  p99 {p99:.2f}  max {lateness[-1]:.2f}  "
        f"(target p99 < 20)"
    )
    print(f"missed: {missed}  doubled: {doubled}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "bench.db"
        started, ended = asyncio.run(serve(path, options.seconds))
        report(path, started, ended)


if __name__ == "__main__":
    main()
