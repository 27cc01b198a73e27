"""The split-recurrence share decision over time (`roles.Pairing`): two locations exchanging lease
rounds, a fault (kill or isolation), the watchdog's activation and a heal — sampled every 10 ms —
never let both locations fire one occurrence, and miss at most one (1 s probes x 3, 3 s lease,
every 1 s split in two)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from pairflow.continuity import roles
from pairflow.continuity.controller import Continuity
from pairflow.continuity.state import iso
from pairflow.engine.clock import VirtualClock
from pairflow.store.sqlite import SqliteStore

T0 = datetime(2024, 1, 1, tzinfo=UTC)
LEASE = timedelta(seconds=3)
WINDOW = LEASE * 2 / 3
GRACE = LEASE * 2
STEP = 0.01


def t(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@dataclass
class Side:
    """One location as the controller would hold it."""

    index: int
    active: bool
    lease_until: datetime | None = None
    sole: bool = False
    grant_until: datetime | None = None
    confirmed: bool = False
    pairing: roles.Pairing = field(default_factory=roles.Pairing)
    dead_at: float | None = None

    def acting(self, now: datetime) -> bool:
        return self.active and (self.sole or (self.lease_until is not None and now < self.lease_until))

    def allowed(self, occurrence: int, now: datetime) -> bool:
        if self.dead_at is not None and now >= t(self.dead_at):
            return False
        firing = roles.split_firing(self.pairing, active=self.active, acting=self.acting(now), now=now)
        if firing == "none":
            return False
        since = roles.firing_since(self.pairing, firing, active=self.active)
        if since is not None and t(occurrence) < since:
            return False
        return firing == "full" or occurrence % 2 == self.index


def send(active: Side, passive: Side, sent: float, delivered: bool) -> None:
    """One lease round from `active` to `passive` (answered 5 ms later when delivered)."""
    split = active.confirmed
    active.pairing = roles.round_sent(active.pairing, t(sent), split=split, lease=LEASE)
    if not delivered:
        active.confirmed = False
        return
    if passive.active:  # a higher epoch arrives: the old active location steps down
        passive.active, passive.pairing = False, roles.stood_down(passive.pairing)
    received = t(sent + 0.005)
    passive.pairing = roles.lease_received(
        passive.pairing, received, sent=t(sent), lease=LEASE, split_until=t(sent) + WINDOW if split else None
    )
    passive.grant_until = received + LEASE
    active.lease_until, active.sole, active.confirmed = t(sent) + LEASE, False, True
    active.pairing = roles.round_confirmed(active.pairing, t(sent), split=split, window=WINDOW)


def simulate(fault: str, fault_at: float, phase: float, activation: float) -> tuple[set[int], set[int]]:
    """Run 30 s; (doubled, missed) occurrences in [2, 26)."""
    west, east = Side(0, active=True), Side(1, active=False)
    west.pairing = roles.taken_over(west.pairing, t(0), bound=None, fill=GRACE)
    west.lease_until = t(LEASE.total_seconds())
    if fault == "kill":
        west.dead_at = fault_at
    heal_at: float | None = None
    activate_at: float | None = None
    rounds = [phase + 1.01 * k for k in range(40)]
    probes = [fault_at + 0.3 + k for k in range(30)]  # east's watchdog, 1 s apart
    failures = 0
    fired: dict[int, set[str]] = {}
    now_s = 0.0
    while now_s < 30:
        now = t(now_s)
        if activate_at is not None and now_s >= activate_at and not east.active:
            east.active, east.sole = True, True
            east.pairing = roles.taken_over(east.pairing, now, bound=east.pairing.peer_bound, fill=GRACE)
            rounds = [r + 0.37 for r in rounds if r > now_s]
            heal_at = now_s + 1.0 if fault == "isolate" else None
        for s in [r for r in rounds if r <= now_s]:
            rounds.remove(s)
            sender, receiver = (east, west) if east.active else (west, east)
            if not sender.active or (sender.dead_at is not None and s >= sender.dead_at):
                continue
            cut = fault_at <= s and (heal_at is None or s < heal_at)
            send(sender, receiver, s, delivered=not cut and receiver.dead_at is None)
        for p in [p for p in probes if p <= now_s]:
            probes.remove(p)
            failures += 1
            grant_open = east.grant_until is not None and now < east.grant_until
            if failures >= 3 and activate_at is None and not grant_open:
                activate_at = now_s + activation
        for k in range(max(0, int(now_s - GRACE.total_seconds()) - 1), int(now_s) + 1):
            if t(k) > now:
                continue
            for side, name in ((west, "west"), (east, "east")):
                if side.allowed(k, now):
                    fired.setdefault(k, set()).add(name)
        now_s = round(now_s + STEP, 4)
    window = range(2, 26)
    doubled = {k for k in window if len(fired.get(k, set())) > 1}
    missed = {k for k in window if k not in fired}
    return doubled, missed


@pytest.mark.parametrize("phase", [0.05, 0.55, 0.98])
@pytest.mark.parametrize("fault_at", [6.02, 6.97, 7.4])
@pytest.mark.parametrize("activation", [0.01, 2.5])
def test_an_isolated_primary_and_the_survivor_never_fire_one_occurrence_twice(
    phase: float, fault_at: float, activation: float
) -> None:
    doubled, missed = simulate("isolate", fault_at, phase, activation)
    assert doubled == set()
    assert len(missed) <= 1, sorted(missed)


@pytest.mark.parametrize("phase", [0.05, 0.55, 0.98])
@pytest.mark.parametrize("fault_at", [6.02, 6.97, 7.4])
@pytest.mark.parametrize("activation", [0.01, 2.5])
def test_a_killed_primary_costs_at_most_one_occurrence_and_doubles_none(
    phase: float, fault_at: float, activation: float
) -> None:
    doubled, missed = simulate("kill", fault_at, phase, activation)
    assert doubled == set()
    assert len(missed) <= 1, sorted(missed)


def test_the_passive_location_fires_its_share_only_under_a_licence_from_a_split_round() -> None:
    pairing = roles.lease_received(roles.Pairing(), t(1.01), sent=t(1), lease=LEASE, split_until=None)
    assert roles.split_firing(pairing, active=False, acting=False, now=t(1.5)) == "none"
    pairing = roles.lease_received(pairing, t(2.01), sent=t(2), lease=LEASE, split_until=t(2) + WINDOW)
    assert roles.split_firing(pairing, active=False, acting=False, now=t(3.9)) == "share"
    assert roles.firing_since(pairing, "share", active=False) == t(2)
    assert roles.split_firing(pairing, active=False, acting=False, now=t(4)) == "none"
    assert pairing.peer_bound == t(4)


def test_an_active_location_cut_off_keeps_its_share_then_fires_nothing_until_the_licence_bound() -> None:
    pairing = roles.round_sent(roles.Pairing(), t(1), split=True, lease=LEASE)
    pairing = roles.round_confirmed(pairing, t(1), split=True, window=WINDOW)
    pairing = roles.round_sent(pairing, t(2), split=True, lease=LEASE)  # unanswered
    firing = [roles.split_firing(pairing, active=True, acting=True, now=t(x)) for x in (2.5, 3.5, 5.5)]
    assert firing == ["share", "none", "full"]
    assert roles.firing_since(pairing, "full", active=True) == t(5)


def test_a_survivor_fires_nothing_before_the_bound_the_old_active_rounds_set() -> None:
    pairing = roles.lease_received(roles.Pairing(), t(10), sent=t(10), lease=LEASE, split_until=t(12))
    taken = roles.taken_over(pairing, t(13.5), bound=pairing.peer_bound, fill=GRACE)
    assert roles.split_firing(taken, active=True, acting=True, now=t(13.5)) == "full"
    assert roles.firing_since(taken, "full", active=True) == t(12)
    assert roles.taken_over(pairing, t(30), bound=pairing.peer_bound, fill=GRACE).since == t(24)
    assert roles.taken_over(pairing, t(13.5), bound=None, fill=GRACE).since == t(13.5)


def test_a_passive_location_fires_its_share_while_the_split_round_it_confirmed_runs(tmp_path: Path) -> None:
    async def scenario() -> list[str]:
        store = SqliteStore(str(tmp_path / "east.db"))
        clock = VirtualClock(T0)
        seen: list[str] = []
        async with httpx.AsyncClient() as http:
            east = Continuity(
                store, name="east", url="http://east", clock=clock, http=http, peers={"west": "http://w"}
            )
            body = {"location": "west", "url": "http://w", "epoch": 1, "seconds": 3, "until": iso(t(3))}
            await east.answer_lease(body)
            seen.append(east.split_firing())  # a plain round: west may be firing everything
            await east.answer_lease({**body, "until": iso(t(4)), "splitUntil": iso(t(3))})
            seen.append(east.split_firing())
            await clock.sleep(3)
            seen.append(east.split_firing())
            seen.append(iso(east.pairing.peer_bound or T0))
        store.close()
        return seen

    assert asyncio.run(scenario()) == ["none", "share", "none", iso(t(3))]
