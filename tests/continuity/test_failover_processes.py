"""Failover with real `pairflow serve` processes, separate stores, on loopback.

Every peer link goes through a TCP proxy the test can cut. A Recurrence fires every second; each
location's trigger history says which occurrences it fired, so "never both active" is checked on
what really happened.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.continuity.processes import (
    API_KEY,
    Alerts,
    Cluster,
    Proxy,
    Served,
    alert_receiver,
    cluster_in,
    wait_for,
)

LEASE = 1.5
PROBE = 0.3
FAILURES = 3


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    yield from cluster_in(tmp_path)


@pytest.fixture
def alerts() -> Iterator[Alerts]:
    yield from alert_receiver()


def _at(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _pair(cluster: Cluster, **east_settings: Any) -> tuple[Served, Served, Proxy, Proxy]:
    """west (primary) and east (secondary), each reaching the other through a proxy; west fires."""
    to_east, to_west = cluster.proxy(), cluster.proxy()
    west = cluster.location("west", role="primary", peers={"east": to_east.url}, lease_seconds=LEASE)
    east = cluster.location(
        "east", role="secondary", peers={"west": to_west.url}, lease_seconds=LEASE, **east_settings
    )
    to_east.target = int(east.url.rsplit(":", 1)[1])
    to_west.target = int(west.url.rsplit(":", 1)[1])
    wait_for(lambda: east.status()["epoch"] == west.status()["epoch"] >= 1, 10, "east to learn west's epoch")
    west.deploy()
    east.deploy()
    wait_for(lambda: len(west.fires()) >= 2, 10, "west to fire")
    return west, east, to_east, to_west


def _watched(alerts: Alerts, west_url: str) -> dict[str, Any]:
    return {"watch": west_url, "probe_interval": PROBE, "failures": FAILURES, "alert_url": alerts.url}


def _kinds(served: Served) -> list[str]:
    return [event["kind"] for event in served.events()]


def test_kill_9_of_the_primary_activates_the_secondary_and_alerts(cluster: Cluster, alerts: Alerts) -> None:
    to_east, to_west = cluster.proxy(), cluster.proxy()
    west = cluster.location("west", role="primary", peers={"east": to_east.url}, lease_seconds=LEASE)
    east = cluster.location(
        "east",
        role="secondary",
        peers={"west": to_west.url},
        lease_seconds=LEASE,
        **_watched(alerts, west.url),
    )
    to_east.target = int(east.url.rsplit(":", 1)[1])
    to_west.target = int(west.url.rsplit(":", 1)[1])
    west.deploy()
    east.deploy()
    wait_for(
        lambda: len(west.fires()) >= 2 and east.status()["granted"], 10, "west to fire, confirmed by east"
    )
    assert not east.fires()

    west.process.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    status = wait_for(lambda: (s := east.status())["acting"] and s, 15, "east to become active")
    assert time.monotonic() - killed < PROBE * FAILURES + LEASE + 5
    assert status["epoch"] == 2 and status["leader"]["location"] == "east"
    alert = wait_for(lambda: [a for a in alerts.received if a["kind"] == "watchdog-alert"], 5, "the alert")[0]
    assert alert["watched"] == west.url and alert["failures"] >= FAILURES
    assert alert["firstFailureAt"] <= alert["lastFailureAt"] and alert["lastError"]
    wait_for(lambda: len(east.fires()) >= 2, 10, "east to fire")
    activated = [e for e in east.events() if e["kind"] == "activated" and e["epoch"] == 2]
    assert activated and activated[0]["detail"]["reason"] == "watchdog"


def test_a_paused_primary_that_wakes_up_steps_down_and_never_fires_again(
    cluster: Cluster, alerts: Alerts
) -> None:
    to_east, to_west = cluster.proxy(), cluster.proxy()
    west = cluster.location("west", role="primary", peers={"east": to_east.url}, lease_seconds=LEASE)
    east = cluster.location(
        "east",
        role="secondary",
        peers={"west": to_west.url},
        lease_seconds=LEASE,
        **_watched(alerts, west.url),
    )
    to_east.target = int(east.url.rsplit(":", 1)[1])
    to_west.target = int(west.url.rsplit(":", 1)[1])
    west.deploy()
    east.deploy()
    wait_for(
        lambda: len(west.fires()) >= 2 and east.status()["granted"], 10, "west to fire, confirmed by east"
    )

    west.process.send_signal(signal.SIGSTOP)
    stopped = time.time()
    try:
        wait_for(lambda: east.status()["acting"], 15, "east to become active")
        wait_for(lambda: len(east.fires()) >= 2, 10, "east to fire")
    finally:
        west.process.send_signal(signal.SIGCONT)
    woke = time.time()
    wait_for(lambda: (s := west.status())["epoch"] >= 2 and not s["active"], 10, "west to step down")
    time.sleep(2.5)  # west had every chance to fire again

    west_fires, east_fires = west.fires(), east.fires()
    assert not {e["occurrence"] for e in west_fires} & {e["occurrence"] for e in east_fires}
    first_east = min(_at(e["firedAt"]) for e in east_fires)
    assert all(_at(e["firedAt"]) <= stopped + 0.5 for e in west_fires), "west fired after it was paused"
    assert first_east > stopped
    assert not [e for e in west_fires if _at(e["firedAt"]) >= woke - 0.5]
    assert "stepped-down" in _kinds(west)
    stepped = [e for e in west.events() if e["kind"] == "stepped-down"]
    assert stepped[0]["epoch"] == east.status()["epoch"]
    assert west.status()["acting"] is False and east.status()["acting"] is True


def test_a_primary_cut_off_from_its_peer_steps_down_within_the_lease_while_running(cluster: Cluster) -> None:
    west, east, to_east, to_west = _pair(cluster)
    wait_for(lambda: east.status()["granted"], 5, "east to confirm west's lease")

    to_east.cut()
    to_west.cut()
    cut = time.time()
    wait_for(lambda: not west.status()["acting"], LEASE + 3, "west to stop acting")
    assert time.time() - cut < LEASE + 3
    assert west.process.poll() is None  # still running, only isolated
    time.sleep(1.5)
    late = [e for e in west.fires() if _at(e["firedAt"]) > cut + LEASE + 0.2]
    assert late == [], "west fired beyond its lease while cut off"
    assert "lease-lapsed" in _kinds(west)
    assert not east.fires()

    to_east.heal()
    to_west.heal()
    wait_for(lambda: west.status()["acting"], 10, "west to regain its lease")
    wait_for(
        lambda: any(_at(e["firedAt"]) > time.time() - 1.5 for e in west.fires()), 10, "west to fire again"
    )
    assert "lease-regained" in _kinds(west)


def test_failback_hands_over_trigger_state_before_the_other_activates(cluster: Cluster) -> None:
    west, east, _, _ = _pair(cluster)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pairflow.cli.continuity_commands",
            "failback",
            "--from",
            west.url,
            "--to",
            "east",
            "--api-key",
            API_KEY,
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    status = east.status()
    assert status["active"] and status["epoch"] == 2
    last_west = max(e["occurrence"] for e in west.fires())
    wait_for(lambda: len(east.fires()) >= 2, 10, "east to fire")
    time.sleep(1)
    west_fires, east_fires = west.fires(), east.fires()
    assert max(e["occurrence"] for e in west_fires) == last_west  # west took no new work
    assert (
        min(e["occurrence"] for e in east_fires) > last_west
    )  # east continued after the handed-over lastFire
    assert "deactivated" in _kinds(west)
    activated = next(e for e in east.events() if e["kind"] == "activated")
    assert activated["detail"]["reason"] == "failback from west"
    assert activated["detail"]["detail"]["handover"]["imported"] >= 1
    assert west.status()["epoch"] == 2  # both histories speak of the same epoch


def test_with_a_witness_losing_the_secondary_does_not_stop_the_primary(cluster: Cluster) -> None:
    witness = cluster.witness()
    to_east, to_west = cluster.proxy(), cluster.proxy()
    common: dict[str, Any] = {"lease_seconds": LEASE, "witnesses": [witness]}
    west = cluster.location("west", role="primary", peers={"east": to_east.url}, **common)
    east = cluster.location("east", role="secondary", peers={"west": to_west.url}, **common)
    to_east.target = int(east.url.rsplit(":", 1)[1])
    to_west.target = int(west.url.rsplit(":", 1)[1])
    west.deploy()
    east.deploy()
    wait_for(lambda: east.status()["granted"], 10, "east to confirm west's lease")

    east.process.send_signal(signal.SIGKILL)
    killed = time.time()
    time.sleep(3 * LEASE)
    assert west.status()["acting"] is True
    assert any(_at(e["firedAt"]) > killed + 2 * LEASE for e in west.fires())
    assert "lease-lapsed" not in _kinds(west)
