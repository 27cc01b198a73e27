"""Health probes: `GET /health/ready` on every location every `probe_interval` seconds, and the
`Monitor` that holds what the probes (and forwarded calls) taught the front door.

A 200 from /health/ready is healthy. The location's continuity state (active, epoch) is read from the
ready body when it carries one; otherwise `GET /api/continuity/status` is asked once per probe, and
not again after it answers 404 (an older location without continuity). The state changes themselves
are the pure functions of `pairflow.frontdoor.health`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime

import httpx

from pairflow.frontdoor import health as rules
from pairflow.frontdoor.config import FrontDoorConfig, Target
from pairflow.frontdoor.health import LocationHealth, ProbeResult
from pairflow.jsontypes import JSON

READY_PATH = "/health/ready"
CONTINUITY_PATH = "/api/continuity/status"
MAX_PROBE_BODY = 64 * 1024  # bytes of a health answer worth reading


def _now() -> datetime:
    return datetime.now(UTC)


def _json(response: httpx.Response) -> JSON:
    if len(response.content) > MAX_PROBE_BODY:
        return None
    try:
        document: JSON = json.loads(response.content)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None
    return document


class Prober:
    """Asks one location how it is."""

    def __init__(
        self, config: FrontDoorConfig, client: httpx.AsyncClient, now: Callable[[], datetime] = _now
    ) -> None:
        self.config = config
        self.client = client
        self.now = now
        self._no_status_endpoint: set[str] = set()

    async def probe(self, target: Target) -> ProbeResult:
        try:
            ready = await self.client.get(target.url + READY_PATH, timeout=self.config.probe_timeout)
        except httpx.HTTPError as error:
            return ProbeResult(ok=False, at=self.now(), detail=f"{type(error).__name__}: {error}".strip())
        if ready.status_code != 200:
            return ProbeResult(ok=False, at=self.now(), detail=f"{READY_PATH} answered {ready.status_code}")
        active, epoch = rules.parse_continuity(_json(ready))
        if active is None and epoch is None and target.name not in self._no_status_endpoint:
            active, epoch = await self._continuity_status(target)
        return ProbeResult(ok=True, at=self.now(), active=active, epoch=epoch, detail="ready")

    async def _continuity_status(self, target: Target) -> tuple[bool | None, int | None]:
        headers = {"x-api-key": self.config.api_key} if self.config.api_key else {}
        try:
            answer = await self.client.get(
                target.url + CONTINUITY_PATH, headers=headers, timeout=self.config.probe_timeout
            )
        except httpx.HTTPError:
            return None, None
        if answer.status_code == 404:
            self._no_status_endpoint.add(target.name)
        if answer.status_code != 200:
            return None, None
        return rules.parse_continuity(_json(answer))


class Monitor:
    """The front door's belief about every location, updated by probes and by forwarded calls."""

    def __init__(self, config: FrontDoorConfig, prober: Prober) -> None:
        self.config = config
        self.prober = prober
        self.targets = {target.name: target for target in config.locations}
        self.health = {target.name: LocationHealth(target.name) for target in config.locations}

    def ordered(self) -> list[LocationHealth]:
        """Every location's health in priority order."""
        return [self.health[target.name] for target in self.config.locations]

    def epoch(self) -> int | None:
        return rules.highest_epoch(self.ordered())

    def any_up(self) -> bool:
        return any(health.up for health in self.health.values())

    async def probe_all(self) -> None:
        results = await asyncio.gather(*(self.prober.probe(t) for t in self.config.locations))
        for target, result in zip(self.config.locations, results, strict=True):
            self.health[target.name] = rules.after_probe(
                self.health[target.name], result, self.config.probe_failures, self.config.probe_rises
            )

    async def run(self) -> None:
        """Probe forever, every `probe_interval` seconds (cancel the task to stop)."""
        while True:
            await asyncio.sleep(self.config.probe_interval)
            await self.probe_all()

    def refused(self, name: str) -> None:
        self.health[name] = rules.after_refused(self.health[name])

    def passive(self, name: str, workflow: str, epoch: int | None) -> None:
        self.health[name] = rules.after_passive_answer(self.health[name], workflow, epoch)
