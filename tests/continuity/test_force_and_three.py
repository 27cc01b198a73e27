"""`pairflow failover --force` after the primary died, and three locations, with real `pairflow serve`
processes and separate stores on loopback (docs/continuity.md).

Every peer link goes through a TCP proxy so that a restarted location can be reached at the address
its peers know. A Recurrence fires every second; each location's trigger history says which
occurrences it fired, so "never both active" is checked on what really happened.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.continuity.processes import API_KEY, Cluster, Proxy, Served, cluster_in, wait_for

LEASE = 1.5
PROBE = 0.3
FAILURES = 3


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    yield from cluster_in(tmp_path)


def _at(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _port(served: Served) -> int:
    return int(served.url.rsplit(":", 1)[1])


def _kinds(served: Served) -> list[str]:
    return [event["kind"] for event in served.events()]


def _occurrences(fires: list[dict[str, Any]]) -> list[str]:
    return [fire["occurrence"] for fire in fires]


def _kill(served: Served) -> float:
    served.process.send_signal(signal.SIGKILL)
    served.process.wait(10)
    return time.time()


def _cli(*args: str) -> dict[str, Any]:
    """`python -m pairflow ARGS --api-key KEY`, as an operator runs it; its JSON answer."""
    result = subprocess.run(
        [sys.executable, "-m", "pairflow", *args, "--api-key", API_KEY],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def test_forced_failover_after_kill_9_waits_out_the_lease_and_the_restarted_primary_stays_passive(
    cluster: Cluster,
) -> None:
    to_east, to_west = cluster.proxy(), cluster.proxy()
    west = cluster.location("west", role="primary", peers={"east": to_east.url}, lease_seconds=LEASE)
    east = cluster.location("east", role="secondary", peers={"west": to_west.url}, lease_seconds=LEASE)
    to_east.target, to_west.target = _port(east), _port(west)
    west.deploy()
    east.deploy()
    wait_for(
        lambda: len(west.fires()) >= 2 and east.status()["granted"], 10, "west to fire, confirmed by east"
    )

    killed = _kill(west)
    time.sleep(0.3)  # a lease request east was answering when west died is recorded by now
    granted = east.status()["granted"]
    assert granted is not None and granted["location"] == "west" and granted["epoch"] == 1
    assert _at(granted["until"]) > killed  # the force has a lease to wait out

    answer = _cli("failover", "--force", "--location-url", east.url)
    assert answer["active"] is True and answer["epoch"] == 2 and answer["sole"] is True
    status = _cli("status", "--location-url", east.url)
    assert status["epoch"] == 2 and status["active"] is True and status["leader"]["location"] == "east"
    activated = [e for e in east.events() if e["kind"] == "activated"]
    assert len(activated) == 1 and activated[0]["epoch"] == 2
    assert activated[0]["detail"]["force"] is True and activated[0]["detail"]["sole"] is True
    assert activated[0]["detail"]["previousEpoch"] == 1
    assert _at(activated[0]["at"]) >= _at(granted["until"]), "activated before west's lease ended"

    wait_for(lambda: len(east.fires()) >= 2, 10, "east to fire")
    east_fires = east.fires()
    assert min(_at(e["firedAt"]) for e in east_fires) >= _at(activated[0]["at"])

    west = cluster.location(
        "west", store=west.store, role="primary", peers={"east": to_east.url}, lease_seconds=LEASE
    )
    to_west.target = _port(west)
    restarted = time.time()
    wait_for(lambda: (s := west.status())["epoch"] == 2 and not s["active"], 10, "west to learn epoch 2")
    time.sleep(2)  # west had every chance to fire again
    west_fires, east_fires = west.fires(), east.fires()
    assert not [e for e in west_fires if _at(e["firedAt"]) >= killed], "west fired after kill -9"
    assert not set(_occurrences(west_fires)) & set(_occurrences(east_fires))
    assert west.status()["acting"] is False and "stepped-down" in _kinds(west)
    assert east.status()["acting"] is True
    assert any(_at(e["firedAt"]) > restarted + 1 for e in east_fires)


def _three(cluster: Cluster) -> tuple[Served, Served, Served, dict[str, Proxy]]:
    """west (primary), north and east (secondaries, east watching west), each a peer of the others."""
    proxies = {name: cluster.proxy() for name in ("west", "east", "north")}

    def peers(me: str) -> dict[str, str]:
        return {name: proxy.url for name, proxy in proxies.items() if name != me}

    west = cluster.location("west", role="primary", peers=peers("west"), lease_seconds=LEASE)
    proxies["west"].target = _port(west)
    north = cluster.location("north", role="secondary", peers=peers("north"), lease_seconds=LEASE)
    proxies["north"].target = _port(north)
    wait_for(lambda: west.status()["acting"], 10, "west to act once north confirms")
    east = cluster.location(
        "east",
        role="secondary",
        peers=peers("east"),
        lease_seconds=LEASE,
        watch=proxies["west"].url,
        probe_interval=PROBE,
        failures=FAILURES,
    )
    proxies["east"].target = _port(east)
    for served in (west, east, north):
        served.deploy()
    return west, east, north, proxies


def test_three_locations_fail_over_to_exactly_one_and_two_lost_voters_stop_the_active_one(
    cluster: Cluster,
) -> None:
    west, east, north, proxies = _three(cluster)
    wait_for(
        lambda: len(west.fires()) >= 2 and east.status()["granted"] and north.status()["granted"],
        10,
        "west to fire, confirmed by east and north",
    )
    assert not east.fires() and not north.fires()

    west_killed = _kill(west)
    status = wait_for(lambda: (s := east.status())["acting"] and s, 15, "east to become active")
    assert status["epoch"] == 2 and status["sole"] is False
    activated = next(e for e in east.events() if e["kind"] == "activated")
    assert activated["detail"]["reason"] == "watchdog" and activated["detail"]["confirmations"] == 2
    wait_for(lambda: len(east.fires()) >= 2, 10, "east to fire")
    north_status = north.status()
    assert north_status["epoch"] == 2 and north_status["active"] is False
    assert north_status["leader"]["location"] == "east"
    assert "activated" not in _kinds(north)

    # Losing north too leaves east one vote of three: it stops acting by itself after one lease.
    north_fires = north.fires()
    lost = _kill(north)
    wait_for(lambda: not east.status()["acting"], LEASE + 3, "east to stop acting without a majority")
    assert east.process.poll() is None and east.status()["active"] is True
    assert httpx.get(east.url + "/health/ready", timeout=5).status_code == 503
    time.sleep(1.5)
    assert not [e for e in east.fires() if _at(e["firedAt"]) > lost + LEASE + 0.2]
    assert "lease-lapsed" in _kinds(east)

    # west comes back: it learns epoch 2, stays passive, and its vote gives east a majority again.
    west = cluster.location(
        "west",
        store=west.store,
        role="primary",
        peers={"east": proxies["east"].url, "north": proxies["north"].url},
        lease_seconds=LEASE,
    )
    proxies["west"].target = _port(west)
    wait_for(lambda: east.status()["acting"], 10, "east to regain its lease with west's vote")
    assert (s := west.status())["epoch"] == 2 and s["active"] is False
    resumed = time.time()
    wait_for(lambda: any(_at(e["firedAt"]) > resumed for e in east.fires()), 10, "east to fire again")
    assert "lease-regained" in _kinds(east) and "stepped-down" in _kinds(west)

    assert not [e for e in west.fires() if _at(e["firedAt"]) >= west_killed], "west fired again"
    histories = [_occurrences(west.fires()), _occurrences(east.fires()), _occurrences(north_fires)]
    every = [occurrence for history in histories for occurrence in history]
    assert len(every) == len(set(every)), "an occurrence fired twice"
    assert histories[2] == []
