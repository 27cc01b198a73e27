"""A split recurrence across two locations (the seed's Recurrence section): while paired, each fires
every 2N offset by N — the passive one included — so together they fire every N once; after a
failover the surviving location fires the full schedule from the bound its share decision gives
(`roles.Pairing`), and a loop checks its share again right before each firing."""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime, timedelta
from pathlib import Path

from pairflow.continuity import roles
from pairflow.engine.clock import VirtualClock
from tests.triggers.conftest import T0, Location, deploy, history

EVERY_10_MINUTES = {
    "type": "Recurrence",
    "recurrence": {"frequency": "Minute", "interval": 10, "startTime": "2024-01-01T00:00:00Z"},
}


def at(*minutes: int) -> list[str]:
    return [(T0 + timedelta(minutes=n)).isoformat().replace("+00:00", "Z") for n in minutes]


def fired(location: Location) -> list[str]:
    return [str(e.occurrence) for e in history(location.store) if e.status == "Succeeded"]


class Pair:
    """What the continuity controller would tell each location: which part it fires, from when."""

    def __init__(self) -> None:
        self.active = {"west": True, "east": False}
        self.firing: dict[str, roles.Firing] = {"west": "share", "east": "share"}
        self.since: dict[str, datetime | None] = {"west": None, "east": None}


async def start(path: Path, clock: VirtualClock, name: str, index: int, pair: Pair) -> Location:
    location = await Location(path, clock).start()
    deploy(location.store, EVERY_10_MINUTES)
    ids = itertools.count()
    record = roles.Deployment("active-passive", split=roles.Split(2, index))
    roles.record_deployment(
        location.store, "wf", record, location=name, now=T0, new_id=lambda: f"{next(ids)}"
    )
    store = location.store
    location.service.is_active = lambda wf: roles.fires_here(
        store, wf, location_active=pair.active[name], firing=pair.firing[name]
    )
    location.service.firer.is_active = location.service.is_active
    location.service.recurrence_share = lambda wf: roles.recurrence_share(
        store, wf, firing=pair.firing[name], since=pair.since[name], grace=timedelta(minutes=15)
    )
    await location.service.workflow_changed("wf")
    return location


async def run_for(clock: VirtualClock, seconds: float) -> None:
    await clock.sleep(seconds)
    await asyncio.sleep(0)


def test_split_halves_interleave_then_the_survivor_fires_the_full_schedule(
    tmp_path: Path, clock: VirtualClock
) -> None:
    async def scenario() -> None:
        pair = Pair()
        west = await start(tmp_path / "west.db", clock, "west", 0, pair)
        east = await start(tmp_path / "east.db", clock, "east", 1, pair)
        await run_for(clock, 55 * 60)  # 00:00 … 00:50 (now 00:55)
        assert fired(west) == at(0, 20, 40)
        assert fired(east) == at(10, 30, 50)

        await west.stop()  # west is lost; east's watchdog notices, then east is activated alone
        pair.active = {"west": False, "east": True}
        pair.firing = {"west": "none", "east": "full"}
        await east.service.workflow_changed("wf")
        await run_for(clock, 40 * 60)  # now 01:35
        assert fired(east) == at(10, 30, 50, 60, 70, 80, 90)
        await east.stop()

    asyncio.run(scenario())


def test_without_a_split_the_passive_location_fires_nothing(tmp_path: Path, clock: VirtualClock) -> None:
    async def scenario() -> None:
        east = await Location(tmp_path / "east.db", clock).start()
        deploy(east.store, EVERY_10_MINUTES)
        store = east.store
        east.service.is_active = lambda wf: roles.fires_here(store, wf, location_active=False)
        east.service.firer.is_active = east.service.is_active
        await east.service.workflow_changed("wf")
        await run_for(clock, 30 * 60)
        assert fired(east) == []
        assert east.service.status()["armed"] == 0
        await east.stop()

    asyncio.run(scenario())


def test_a_loop_whose_share_changed_fires_nothing_until_re_armed(tmp_path: Path, clock: VirtualClock) -> None:
    async def scenario() -> None:
        pair = Pair()
        west = await start(tmp_path / "west.db", clock, "west", 0, pair)
        await run_for(clock, 25 * 60)  # 00:00, 00:20 (now 00:25)
        pair.firing["west"] = "full"  # its share changed; the service has not re-armed it yet
        await run_for(clock, 20 * 60)  # 00:40 is due under the armed share
        assert fired(west) == at(0, 20)
        await west.stop()

    asyncio.run(scenario())


def test_the_survivor_fires_no_occurrence_before_its_takeover_bound(
    tmp_path: Path, clock: VirtualClock
) -> None:
    async def scenario() -> None:
        pair = Pair()
        west = await start(tmp_path / "west.db", clock, "west", 0, pair)
        east = await start(tmp_path / "east.db", clock, "east", 1, pair)
        await run_for(clock, 35 * 60)  # west 00:00, 00:20; east 00:10, 00:30 (now 00:35)
        await west.stop()
        # West may have fired up to 00:40 (its last rounds' bound); east takes over at 00:52.
        pair.active = {"west": False, "east": True}
        pair.firing = {"west": "none", "east": "none"}
        await east.service.workflow_changed("wf")
        await run_for(clock, 17 * 60)  # now 00:52
        pair.firing["east"], pair.since["east"] = "full", T0 + timedelta(minutes=40, seconds=1)
        await east.service.workflow_changed("wf")
        await run_for(clock, 20 * 60)  # now 01:12
        assert fired(east) == at(10, 30, 50, 60, 70)  # 00:50 fired late: nobody had fired it
        await east.stop()

    asyncio.run(scenario())
