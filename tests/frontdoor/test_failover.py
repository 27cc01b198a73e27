"""Failover with real processes: two `pairflow serve` locations sharing a workflow and its access
key, behind `pairflow frontdoor` and behind HAProxy (Debian's package) running the configuration
`pairflow frontdoor --emit haproxy` wrote. Calls go to west; after kill -9 of west they go to east.

Two setups: "shared" — the workflow is active-active in the locations (the Request trigger's default)
and the front door routes it by priority; "roles" — the workflow is active-passive, west is the
primary and east a secondary whose watchdog activates it when west stops answering (until then east
refuses with LocationPassive and reports itself passive in /health/ready)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.frontdoor.locations import (
    Process,
    deploy_echo,
    free_port,
    run_location,
    start_front_door,
    start_location,
)

ROOT = Path(__file__).resolve().parents[2]
PROBE_INTERVAL = 0.2  # seconds
PROBE_FAILURES = 2


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[str]]]:
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def start_pair(
    tmp_path: Path, started: list[subprocess.Popen[str]], setup: str
) -> tuple[Process, Process, str]:
    west_settings: dict[str, str] = {}
    east_settings: dict[str, str] = {}
    mode = None
    if setup == "roles":
        mode = "active-passive"
        west_settings = {"PAIRFLOW_ROLE": "primary"}
    west = start_location(tmp_path / "west.db", "west", west_settings)
    started.append(west.process)
    if setup == "roles":
        east_settings = {
            "PAIRFLOW_ROLE": "secondary",
            "PAIRFLOW_WATCH": west.url,
            "PAIRFLOW_PROBE_INTERVAL": str(PROBE_INTERVAL),
            "PAIRFLOW_FAILURES": str(PROBE_FAILURES),
        }
    east = start_location(tmp_path / "east.db", "east", east_settings)
    started.append(east.process)
    path = deploy_echo(west, mode)
    assert deploy_echo(east, mode) == path  # same access key: the same signed URL at both
    return west, east, path


def served_by(client: httpx.Client, path: str, n: int) -> tuple[int, str, str]:
    answer = client.post(path, json={"n": n})
    return (
        answer.status_code,
        answer.headers.get("x-pairflow-frontdoor-location", ""),
        answer.headers.get("x-ms-workflow-run-id", ""),
    )


def fail_over(client: httpx.Client, west: Process, east: Process, path: str) -> None:
    """Calls go to west; kill -9 west; within the probe window (plus slack) calls go to east."""
    for n in range(3):
        status, location, run_id = served_by(client, path, n)
        assert (status, location) == (200, "west")
        assert run_location(west, run_id) and not run_location(east, run_id)
    west.process.send_signal(signal.SIGKILL)
    west.process.wait(timeout=10)
    # The window: probes notice (interval x failures), plus a watchdog's activation and slack.
    deadline = time.monotonic() + PROBE_INTERVAL * PROBE_FAILURES + 8.0
    while True:
        status, location, run_id = served_by(client, path, 100)
        if (status, location) == (200, "east") or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert (status, location) == (200, "east")
    for n in range(3):
        status, location, run_id = served_by(client, path, 200 + n)
        assert (status, location) == (200, "east")
        assert run_location(east, run_id)


@pytest.mark.parametrize("setup", ["shared", "roles"])
def test_front_door_moves_calls_to_east_when_west_is_killed(
    setup: str, started: list[subprocess.Popen[str]], tmp_path: Path
) -> None:
    west, east, path = start_pair(tmp_path, started, setup)
    door = start_front_door(
        "--location", f"west={west.url}",
        "--location", f"east={east.url}",
        "--probe-interval", str(PROBE_INTERVAL),
        "--probe-failures", str(PROBE_FAILURES),
        "--timeout", "10",
    )  # fmt: skip
    started.append(door.process)
    with httpx.Client(base_url=door.url, timeout=15) as client:
        assert client.get("/health/ready").status_code == 200
        fail_over(client, west, east, path)
        status = client.get("/frontdoor/status").json()
        assert [loc["healthy"] for loc in status["locations"]] == [False, True]
    door.process.send_signal(signal.SIGTERM)
    assert door.process.wait(timeout=20) == 0


def ensure_haproxy() -> str:
    """The haproxy binary, installed from the distribution's packages when missing."""
    result = subprocess.run(
        [str(ROOT / "scripts" / "ensure-haproxy.sh")], capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        pytest.fail(f"haproxy is needed and could not be installed: {result.stderr.strip()}")
    return result.stdout.strip().splitlines()[-1]


def test_haproxy_with_the_emitted_config_moves_calls_to_east_when_west_is_killed(
    started: list[subprocess.Popen[str]], tmp_path: Path
) -> None:
    haproxy = ensure_haproxy()
    # The emitted active-passive backend marks a location that reports itself passive as down, so
    # the locations must hold real roles: HAProxy follows east once east's watchdog activates it.
    west, east, path = start_pair(tmp_path, started, "roles")
    port = free_port()
    emitted = subprocess.run(
        [
            sys.executable, "-m", "pairflow.cli.frontdoor_command",
            "--location", f"west={west.url}",
            "--location", f"east={east.url}",
            "--probe-interval", str(PROBE_INTERVAL),
            "--probe-failures", str(PROBE_FAILURES),
            "--timeout", "10",
            "--port", str(port),
            "--emit", "haproxy",
        ],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert emitted.returncode == 0, emitted.stderr
    config = tmp_path / "haproxy.cfg"
    config.write_text(emitted.stdout, encoding="utf-8")
    check = subprocess.run([haproxy, "-c", "-f", str(config)], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr
    process = subprocess.Popen(
        [haproxy, "-f", str(config), "-db"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    started.append(process)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=15) as client:
        deadline = time.monotonic() + 10
        while True:  # listening, and the first health check of west has passed
            try:
                if served_by(client, path, -1)[:2] == (200, "west"):
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "haproxy did not start serving"
            assert process.poll() is None, process.communicate()[1]
            time.sleep(0.05)
        fail_over(client, west, east, path)
