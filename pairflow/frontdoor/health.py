"""What the front door believes about each location: up or down, active or passive, the highest epoch
seen, and which workflows answered LocationPassive. Pure: every change is a function from the old
`LocationHealth` and an observation to the new one, so the rules can be pinned without a network.

Up/down follows HAProxy's fall/rise: `failures` consecutive failed probes mark a location down,
`rises` consecutive good ones mark it up again; the first probe decides at once. A refused connection
on a forwarded call marks the location down immediately (nothing is listening: no reason to wait for
the probe). Epochs only grow: a location restarted from an old backup that reports a lower epoch does
not lower what the front door forwards.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime

from pairflow.jsontypes import JSON, JSONObject


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """One probe's outcome: `ok` when /health/ready answered 200; the continuity state when reported."""

    ok: bool
    at: datetime
    active: bool | None = None
    epoch: int | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class LocationHealth:
    name: str
    up: bool | None = None  # None until the first probe
    active: bool | None = None  # None: the location does not report continuity state
    epoch: int | None = None  # highest epoch seen from this location
    good_streak: int = 0
    bad_streak: int = 0
    last_probe: ProbeResult | None = None
    passive_for: frozenset[str] = field(default_factory=frozenset)  # answered LocationPassive

    def view(self) -> JSONObject:
        probe = self.last_probe
        last: JSON = None
        if probe is not None:
            last = {"at": probe.at.isoformat(), "ok": probe.ok, "detail": probe.detail}
        return {
            "name": self.name,
            "healthy": bool(self.up),
            "active": self.active,
            "epoch": self.epoch,
            "lastProbe": last,
            "passiveFor": sorted(self.passive_for),
        }


def after_probe(health: LocationHealth, result: ProbeResult, failures: int, rises: int) -> LocationHealth:
    """The health after one probe, with fall (`failures`) and rise (`rises`) hysteresis."""
    good = health.good_streak + 1 if result.ok else 0
    bad = 0 if result.ok else health.bad_streak + 1
    up = health.up
    if up is None:
        up = result.ok
    elif up and bad >= failures:
        up = False
    elif not up and good >= rises:
        up = True
    active = result.active if result.ok and result.active is not None else health.active
    epoch = health.epoch
    if result.epoch is not None and (epoch is None or result.epoch > epoch):
        epoch = result.epoch
    passive_for = health.passive_for
    # A change of role or epoch means the location's per-workflow answers may have changed too.
    if active != health.active or epoch != health.epoch or up != health.up:
        passive_for = frozenset()
    return dataclasses.replace(
        health,
        up=up,
        active=active,
        epoch=epoch,
        good_streak=good,
        bad_streak=bad,
        last_probe=result,
        passive_for=passive_for,
    )


def after_refused(health: LocationHealth) -> LocationHealth:
    """Nothing listens at the location: down now, and the next `rises` good probes bring it back."""
    return dataclasses.replace(health, up=False, good_streak=0, bad_streak=max(health.bad_streak, 1))


def after_passive_answer(health: LocationHealth, workflow: str, epoch: int | None) -> LocationHealth:
    """The location answered LocationPassive for `workflow`: prefer another location for it."""
    known = health.epoch
    if epoch is not None and (known is None or epoch > known):
        known = epoch
    return dataclasses.replace(health, passive_for=health.passive_for | {workflow}, epoch=known)


def highest_epoch(locations: list[LocationHealth]) -> int | None:
    """The highest epoch any location reported: what the front door tells every location it calls."""
    epochs = [health.epoch for health in locations if health.epoch is not None]
    return max(epochs) if epochs else None


def parse_continuity(document: JSON) -> tuple[bool | None, int | None]:
    """(active, epoch) from a /health/ready or /api/continuity/status body.

    Accepted shapes: `{"continuity": {"active": true, "epoch": 3, ...}}` or the same keys at the top.
    Anything else reads as "not reported".
    """
    if not isinstance(document, dict):
        return None, None
    source = document.get("continuity")
    state = source if isinstance(source, dict) else document
    active = state.get("active")
    epoch = state.get("epoch")
    return (
        active if isinstance(active, bool) else None,
        epoch if isinstance(epoch, int) and not isinstance(epoch, bool) else None,
    )
