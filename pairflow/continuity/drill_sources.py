"""Where the drill reads what happened: a location's SQLite file once its process has ended
(`StoreSource`), or a running location's management API (`ApiSource`); both answer the continuity
history, a trigger's fires, run statuses and the runs left Running, as `drill_report` records.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol

import httpx

from pairflow.continuity.drill_report import Event, Fire
from pairflow.jsontypes import JSON


def parse_time(text: JSON) -> float | None:
    """An ISO 8601 time with a zone as UNIX seconds; None otherwise."""
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo else None


def event_of(location: str, view: JSON) -> Event | None:
    if not isinstance(view, dict):
        return None
    at = parse_time(view.get("at"))
    epoch = view.get("epoch")
    detail = view.get("detail")
    if at is None:
        return None
    return Event(
        location,
        str(view.get("kind", "")),
        epoch if isinstance(epoch, int) else 0,
        at,
        detail if isinstance(detail, dict) else {},
    )


# -- where the results are read -------------------------------------------------------------------------
class Unreadable(Exception):
    """A location's store cannot be read (its process is gone and the drill does not own its file)."""


class Source(Protocol):
    name: str

    async def events(self) -> list[Event]: ...

    async def fires(self, workflow: str, trigger: str) -> list[Fire]: ...

    async def statuses(self, run_ids: Sequence[str]) -> dict[str, str]: ...

    async def running(self) -> list[str]: ...


class StoreSource:
    """A local location's SQLite file, read once its process has ended."""

    def __init__(self, name: str, path: Path) -> None:
        from pairflow.store import open_store

        self.name = name
        self.store = open_store(str(path))

    def close(self) -> None:
        self.store.close()

    async def events(self) -> list[Event]:
        return [
            Event(self.name, e.kind, e.epoch, e.at.timestamp(), dict(e.detail))
            for e in self.store.list_location_events(100000)
        ]

    async def fires(self, workflow: str, trigger: str) -> list[Fire]:
        found: list[Fire] = []
        for event in self.store.list_trigger_history(workflow, trigger, 1000000):
            occurrence = parse_time(event.occurrence)
            if event.status == "Succeeded" and occurrence is not None:
                found.append(Fire(self.name, occurrence, event.fired_at.timestamp()))
        return found

    async def statuses(self, run_ids: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for run_id in run_ids:
            run = self.store.get_run(run_id)
            if run is not None:
                found[run_id] = run.status
        return found

    async def running(self) -> list[str]:
        return [run.id for run in self.store.list_runs_filtered(status="Running", limit=1000000)]


class ApiSource:
    """A running location's management API."""

    def __init__(self, name: str, url: str, http: httpx.AsyncClient, api_key: str | None) -> None:
        self.name = name
        self.url = url.rstrip("/")
        self.http = http
        self.headers = {"x-api-key": api_key} if api_key else {}

    async def _get(self, path: str) -> httpx.Response:
        try:
            return await self.http.get(self.url + path, headers=self.headers, timeout=5.0)
        except httpx.HTTPError as error:
            raise Unreadable(f"{self.name}: {type(error).__name__}") from None

    async def _value(self, path: str) -> list[JSON]:
        answer = await self._get(path)
        try:
            data = answer.json()
        except ValueError:
            raise Unreadable(f"{self.name}: {path}: not JSON") from None
        value = data.get("value") if isinstance(data, dict) else None
        if answer.status_code != 200 or not isinstance(value, list):
            raise Unreadable(f"{self.name}: {path}: HTTP {answer.status_code}")
        return value

    async def events(self) -> list[Event]:
        views = await self._value("/api/continuity/events?limit=1000")
        return [e for e in (event_of(self.name, v) for v in views) if e is not None]

    async def fires(self, workflow: str, trigger: str) -> list[Fire]:
        views = await self._value(f"/api/workflows/{workflow}/triggers/{trigger}/history?limit=1000")
        found: list[Fire] = []
        for view in views:
            if not isinstance(view, dict) or view.get("status") != "Succeeded":
                continue
            occurrence, fired = parse_time(view.get("occurrence")), parse_time(view.get("firedAt"))
            if occurrence is not None and fired is not None:
                found.append(Fire(self.name, occurrence, fired))
        return found

    async def statuses(self, run_ids: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        gate = asyncio.Semaphore(16)

        async def one(run_id: str) -> None:
            async with gate:
                answer = await self._get(f"/api/runs/{run_id}")
            if answer.status_code == 200:
                data = answer.json()
                status = data.get("status") if isinstance(data, dict) else None
                found[run_id] = status if isinstance(status, str) else "Unknown"
            elif answer.status_code != 404:
                raise Unreadable(f"{self.name}: /api/runs: HTTP {answer.status_code}")

        await asyncio.gather(*(one(r) for r in run_ids))
        return found

    async def running(self) -> list[str]:
        views = await self._value("/api/runs?status=Running&limit=1000")
        return [str(v["id"]) for v in views if isinstance(v, dict) and "id" in v]
