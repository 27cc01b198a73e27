"""The watchdog: probes a location's health on an interval from elsewhere and, after N consecutive
failures, alerts (one HTTP POST with what failed and when) and activates another location.

Its actions are API calls anyone could make: GET /health/ready of the watched location, POST
/api/continuity/activate of the one to activate. Once it activated a location, its probes carry the
new epoch (header `x-pairflow-epoch`), so a watched location that was only paused and wakes up
learns it was replaced and steps down.

With `record` (a location's `Continuity.record`), each failed probe of a streak up to the threshold
("watchdog-probe-failed", n/N) and the recovery ("watchdog-probe-recovered") become events of that
location's continuity history. A flapping probe does not flood it: once `FLAP_STREAKS` streaks
began within `FLAP_PROBES` intervals, a new streak is recorded only when it reaches the threshold,
and the next recorded event says how many streaks were left out (`ProbeLog`).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx

from pairflow.continuity.lease import headers
from pairflow.continuity.state import iso
from pairflow.engine.clock import Clock, SystemClock
from pairflow.jsontypes import JSON, JSONObject

_log = logging.getLogger(__name__)

Record = Callable[[str, JSONObject], None]
FLAP_STREAKS = 3  # streaks of failures recorded in full within FLAP_PROBES intervals
FLAP_PROBES = 60


@dataclass(frozen=True, slots=True)
class WatchdogSettings:
    watch: str  # the location probed
    activate: str  # the location activated after `failures` failed probes
    interval: float = 1.0
    failures: int = 3
    alert_url: str | None = None
    api_key: str | None = None


@dataclass(slots=True)
class WatchdogState:
    failures: int = 0
    first_failure: datetime | None = None
    last_error: str = ""
    alerted: bool = False
    activated_epoch: int | None = None
    alerts: list[JSONObject] = field(default_factory=list)


@dataclass(slots=True)
class ProbeLog:
    """Which probe results become history events; pure (the times come from the caller)."""

    threshold: int
    interval: float
    starts: deque[datetime] = field(default_factory=deque)  # when recent streaks began
    recording: bool = False  # the current streak is being recorded
    left_out: int = 0  # streaks not recorded since the last recorded event

    def failed(self, n: int, now: datetime) -> bool:
        """Whether failure `n` of the current streak is recorded."""
        if n == 1:
            window = timedelta(seconds=self.interval * FLAP_PROBES)
            while self.starts and now - self.starts[0] > window:
                self.starts.popleft()
            self.recording = len(self.starts) < FLAP_STREAKS
            self.starts.append(now)
            if not self.recording:
                self.left_out += 1
        if n > self.threshold:
            return False
        if n == self.threshold:
            self.recording = True  # reaching the threshold is always worth a line
        return self.recording

    def recovered(self) -> bool:
        """Whether the end of the streak is recorded (when its failures were)."""
        recorded, self.recording = self.recording, False
        return recorded

    def take_left_out(self) -> int:
        count, self.left_out = self.left_out, 0
        return count


class Watchdog:
    def __init__(
        self,
        settings: WatchdogSettings,
        http: httpx.AsyncClient,
        clock: Clock | None = None,
        *,
        record: Record | None = None,
    ):
        self.settings = settings
        self.http = http
        self.clock: Clock = clock or SystemClock()
        self.state = WatchdogState()
        self.record = record
        self.log = ProbeLog(settings.failures, settings.interval)

    async def probe(self) -> str | None:
        """None when the watched location is ready; else what failed."""
        url = self.settings.watch.rstrip("/") + "/health/ready"
        try:
            answer = await self.http.get(
                url,
                headers=headers(self.settings.api_key, self.state.activated_epoch),
                timeout=self.settings.interval,
            )
        except httpx.HTTPError as error:
            return f"{type(error).__name__}: {error}".rstrip(": ")
        if answer.status_code != 200:
            return f"HTTP {answer.status_code}: {answer.text[:200]}"
        return None

    async def step(self) -> None:
        """One probe and what follows from it."""
        error = await self.probe()
        state, now = self.state, self.clock.now()
        if error is None:
            if state.failures:
                _log.warning("watchdog: %s answers again", self.settings.watch)
                if self.log.recovered():
                    self._note("watchdog-probe-recovered", {"failures": state.failures})
            state.failures, state.first_failure, state.alerted = 0, None, False
            return
        state.failures += 1
        state.first_failure = state.first_failure or now
        state.last_error = error
        if self.log.failed(state.failures, now):
            self._note(
                "watchdog-probe-failed",
                {
                    "failures": state.failures,
                    "threshold": self.settings.failures,
                    "probe": f"{state.failures}/{self.settings.failures}",
                    "error": error[:200],
                },
            )
        if state.failures < self.settings.failures:
            return
        if not state.alerted:
            state.alerted = True
            await self._alert(self._payload("watchdog-alert", now))
        if state.activated_epoch is None:
            await self._activate(now)

    def _note(self, kind: str, detail: JSONObject) -> None:
        """Record a probe event in the location's history (when there is one to record in)."""
        if self.record is None:
            return
        detail = {"watched": self.settings.watch, **detail}
        if left_out := self.log.take_left_out():
            detail["streaksLeftOut"] = left_out
        self.record(kind, detail)

    def _payload(self, kind: str, now: datetime) -> JSONObject:
        first = self.state.first_failure
        return {
            "kind": kind,
            "watched": self.settings.watch,
            "activating": self.settings.activate,
            "failures": self.state.failures,
            "threshold": self.settings.failures,
            "firstFailureAt": iso(first) if first is not None else None,
            "lastFailureAt": iso(now),
            "lastError": self.state.last_error,
            "at": iso(now),
        }

    async def _alert(self, payload: JSONObject) -> None:
        self.state.alerts.append(payload)
        _log.warning("watchdog alert: %s", payload)
        if not self.settings.alert_url:
            return
        try:
            await self.http.post(self.settings.alert_url, json=payload, timeout=5.0)
        except httpx.HTTPError as error:
            _log.error("watchdog: alert to %s failed: %s", self.settings.alert_url, error)

    async def _activate(self, now: datetime) -> None:
        url = self.settings.activate.rstrip("/") + "/api/continuity/activate"
        body: JSONObject = {
            "reason": "watchdog",
            "detail": {"watchdog": self._payload("watchdog-alert", now)},
        }
        try:
            answer = await self.http.post(
                url, json=body, headers=headers(self.settings.api_key), timeout=30.0
            )
            data: JSON = answer.json()
        except (httpx.HTTPError, ValueError) as error:
            _log.error("watchdog: activating %s failed: %s", self.settings.activate, error)
            return
        if answer.status_code != 200 or not isinstance(data, dict):
            _log.warning("watchdog: %s refused to activate (will retry): %s", self.settings.activate, data)
            return
        epoch = data.get("epoch")
        self.state.activated_epoch = epoch if isinstance(epoch, int) else 0
        result = self._payload("watchdog-activated", self.clock.now())
        result["epoch"] = self.state.activated_epoch
        await self._alert(result)

    async def run(self) -> None:
        """Probe forever, one probe per interval."""
        while True:
            started = self.clock.now()
            await self.step()
            spent = (self.clock.now() - started).total_seconds()
            await self.clock.sleep(max(0.0, self.settings.interval - spent))
