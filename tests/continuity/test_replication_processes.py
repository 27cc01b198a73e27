"""Replication between real `pairflow serve` processes with separate SQLite stores, on loopback:
runs in progress on the primary finish in the secondary after a kill -9, without repeating the
actions that had succeeded; the secondary lists the primary's history; old epochs are refused."""

from __future__ import annotations

import json
import signal
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.continuity.processes import AUTH, Cluster, Served, cluster_in, wait_for

LEASE = 1.5
PROBE = 0.3
FAILURES = 3
IN_PROGRESS = 4


class Counting:
    """A local HTTP server counting the calls per path (the side effects of Http actions)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.url = ""


@pytest.fixture
def counting() -> Iterator[Counting]:
    found = Counting()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            self.rfile.read(length)
            found.calls[self.path] += 1
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    found.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield found
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    yield from cluster_in(tmp_path)


def _slow(counter: str) -> dict[str, Any]:
    """Before (an Http call) → Wait 3 s → After (an Http call): active-passive."""

    def call(step: str) -> dict[str, Any]:
        return {
            "type": "Http",
            "inputs": {"method": "POST", "uri": f"{counter}/{step}/@{{triggerBody()?['n']}}", "body": {}},
        }

    return {
        "mode": "active-passive",
        "definition": {
            "triggers": {"manual": {"type": "Request", "kind": "Http", "inputs": {"method": "POST"}}},
            "actions": {
                "Before": {**call("before"), "runAfter": {}},
                "Wait": {
                    "type": "Wait",
                    "inputs": {"interval": {"count": 3, "unit": "Second"}},
                    "runAfter": {"Before": ["Succeeded"]},
                },
                "After": {**call("after"), "runAfter": {"Wait": ["Succeeded"]}},
            },
        },
    }


QUICK = {
    "mode": "active-passive",
    "definition": {
        "triggers": {"manual": {"type": "Request", "kind": "Http", "inputs": {"method": "POST"}}},
        "actions": {"Echo": {"type": "Compose", "inputs": "@triggerBody()", "runAfter": {}}},
    },
}


def _invoke(served: Served, workflow: str, n: int) -> str:
    url = httpx.post(
        f"{served.url}/api/workflows/{workflow}/triggers/manual/listCallbackUrl", headers=AUTH, timeout=5
    ).json()["value"]
    answer = httpx.post(url, json={"n": n}, timeout=10)
    assert answer.status_code == 202, answer.text
    run_id: str = answer.json()["runId"]
    return run_id


def _runs(served: Served, status: str = "") -> list[dict[str, Any]]:
    query = f"?status={status}&limit=1000" if status else "?limit=1000"
    found: list[dict[str, Any]] = served.get("/api/runs" + query)["value"]
    return found


def _pair(cluster: Cluster, counter: str) -> tuple[Served, Served]:
    to_east, to_west = cluster.proxy(), cluster.proxy()
    west = cluster.location("west", role="primary", peers={"east": to_east.url}, lease_seconds=LEASE)
    east = cluster.location(
        "east",
        role="secondary",
        peers={"west": to_west.url},
        lease_seconds=LEASE,
        watch=to_west.url,
        probe_interval=PROBE,
        failures=FAILURES,
    )
    to_east.target = int(east.url.rsplit(":", 1)[1])
    to_west.target = int(west.url.rsplit(":", 1)[1])
    wait_for(lambda: east.status()["epoch"] == west.status()["epoch"] >= 1, 10, "east to learn west's epoch")
    for served in (west, east):
        served.deploy("slow", _slow(counter))
        served.deploy("quick", QUICK)
    wait_for(lambda: west.status()["acting"] and east.status()["granted"], 10, "west's lease confirmed")
    return west, east


def test_runs_in_progress_on_a_killed_primary_finish_in_the_secondary_without_repeating_actions(
    cluster: Cluster, counting: Counting
) -> None:
    west, east = _pair(cluster, counting.url)
    finished = [_invoke(west, "quick", n) for n in range(3)]
    slow = [_invoke(west, "slow", n) for n in range(IN_PROGRESS)]

    def replicated_in_wait() -> bool:
        replicas = {r["id"]: r for r in _runs(east) if r.get("location") == "west"}
        if not set(finished) | set(slow) <= set(replicas):
            return False
        return all(east.get(f"/api/runs/{run_id}")["actions"].get("Wait") for run_id in slow)

    wait_for(replicated_in_wait, 10, "west's runs replicated to east, the slow ones waiting")
    assert {r["status"] for r in _runs(east) if r["id"] in finished} == {"Succeeded"}
    assert all(counting.calls[f"/before/{n}"] == 1 for n in range(IN_PROGRESS))

    west.process.send_signal(signal.SIGKILL)
    wait_for(lambda: east.status()["acting"], 15, "east's watchdog to activate it")
    ended = wait_for(
        lambda: (
            (runs := {r["id"]: r["status"] for r in _runs(east) if r["id"] in slow})
            and all(status != "Running" for status in runs.values())
            and runs
        ),
        20,
        "west's runs in progress to finish in east",
    )
    assert set(ended.values()) == {"Succeeded"}
    for n in range(IN_PROGRESS):  # no double side effect: Before ran once (in west), After once (in east)
        assert counting.calls[f"/before/{n}"] == 1
        assert counting.calls[f"/after/{n}"] == 1
    view = east.get(f"/api/runs/{slow[0]}")
    assert view["actions"]["Before"]["attempts"] == 1
    assert view["actions"]["Wait"]["attempts"] == 2  # it was Running when west died: run again
    adopted = [e for e in east.events() if e["kind"] == "adopted-runs"]
    assert adopted and adopted[0]["detail"]["count"] == IN_PROGRESS
    assert adopted[0]["detail"]["from"] == {"west": IN_PROGRESS}
    listed = {r["id"]: r for r in _runs(east)}
    assert all(listed[run_id]["location"] == "west" for run_id in finished)


def test_a_passive_receiver_refuses_a_batch_from_an_older_epoch(cluster: Cluster, counting: Counting) -> None:
    west, east = _pair(cluster, counting.url)
    epoch = east.status()["epoch"]
    stale = {"location": "west", "epoch": epoch - 1, "versions": {}, "runs": [], "triggers": []}
    answer = httpx.post(f"{east.url}/api/continuity/replicate", json=stale, headers=AUTH, timeout=5)
    assert answer.status_code == 409
    assert answer.json()["accepted"] is False and answer.json()["epoch"] == epoch
    assert east.status()["active"] is False
    unauthenticated = httpx.post(f"{east.url}/api/continuity/replicate", content=json.dumps(stale), timeout=5)
    assert unauthenticated.status_code == 401
    shipping = west.get("/api/continuity/replication")["shipping"]
    assert shipping["mode"] == "async" and "east" in shipping["peers"]
