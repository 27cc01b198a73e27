"""The watchdog's probe results in the location's history: each failure n/N of a streak and its
recovery, against a real HTTP server on 127.0.0.1; a flapping probe records only streaks that reach
the threshold once several began recently."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from pairflow.continuity.controller import Continuity
from pairflow.continuity.watchdog import FLAP_STREAKS, ProbeLog, Watchdog, WatchdogSettings
from pairflow.engine.clock import VirtualClock
from pairflow.jsontypes import JSONObject
from pairflow.store.sqlite import SqliteStore

T0 = datetime(2024, 1, 1, tzinfo=UTC)


class Health:
    """A watched location whose /health/ready answers 200 or 503 as the test says."""

    def __init__(self) -> None:
        self.ready = True
        health = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200 if health.ready else 503)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def health() -> Iterator[Health]:
    server = Health()
    yield server
    server.close()


def test_each_failed_probe_up_to_the_threshold_and_the_recovery_become_history_events(
    tmp_path: Path, health: Health
) -> None:
    async def scenario() -> list[tuple[str, JSONObject]]:
        store = SqliteStore(str(tmp_path / "east.db"))
        clock = VirtualClock(T0)
        async with httpx.AsyncClient() as http:
            continuity = Continuity(store, name="east", url="http://east", clock=clock, http=http)
            settings = WatchdogSettings(watch=health.url, activate="http://127.0.0.1:9", failures=3)
            watchdog = Watchdog(settings, http, clock, record=continuity.record)
            health.ready = False
            for _ in range(2):
                await watchdog.step()
            health.ready = True
            await watchdog.step()
        events = [(e.kind, e.detail) for e in reversed(store.list_location_events())]
        store.close()
        return events

    events = asyncio.run(scenario())
    assert [(kind, detail.get("probe")) for kind, detail in events] == [
        ("watchdog-probe-failed", "1/3"),
        ("watchdog-probe-failed", "2/3"),
        ("watchdog-probe-recovered", None),
    ]
    assert events[0][1]["watched"] == events[2][1]["watched"]
    assert "503" in str(events[0][1]["error"])
    assert events[2][1]["failures"] == 2


def test_a_flapping_probe_records_a_few_streaks_then_only_those_reaching_the_threshold() -> None:
    log = ProbeLog(threshold=3, interval=1.0)
    recorded: list[str] = []
    now = T0
    for streak in range(FLAP_STREAKS + 2):
        now += timedelta(seconds=2)
        if log.failed(1, now):
            recorded.append(f"{streak}: 1/3")
        if log.recovered():
            recorded.append(f"{streak}: recovered")
    assert recorded == [f"{n}: {what}" for n in range(FLAP_STREAKS) for what in ("1/3", "recovered")]
    assert [log.failed(n, now + timedelta(seconds=n)) for n in (1, 2, 3, 4)] == [False, False, True, False]
    assert log.recovered()
    assert log.take_left_out() == 3


def test_streaks_far_apart_are_each_recorded_in_full() -> None:
    log = ProbeLog(threshold=2, interval=1.0)
    for streak in range(FLAP_STREAKS * 2):
        now = T0 + timedelta(minutes=2 * streak)
        assert [log.failed(1, now), log.failed(2, now), log.recovered()] == [True, True, True]
