"""Real `pairflow serve` locations and a real `pairflow frontdoor` as subprocesses, for the failover
tests: started on free ports, with one Request→Response workflow deployed to every location under the
same access key, so one signed URL is valid at each."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

API_KEY = "frontdoor-test-key-123"
AUTH = {"x-api-key": API_KEY}
ACCESS_KEY = "shared-access-key-for-both-locations-0123456789"
ECHO_WORKFLOW = {
    "definition": {
        "triggers": {"manual": {"type": "Request", "kind": "Http", "inputs": {"method": "POST"}}},
        "actions": {
            "Reply": {
                "type": "Response",
                "kind": "Http",
                "inputs": {"statusCode": 200, "body": {"got": "@triggerBody()"}},
                "runAfter": {},
            }
        },
    }
}


@dataclass
class Process:
    process: subprocess.Popen[str]
    url: str


def start_location(store: Path, name: str, settings: dict[str, str] | None = None) -> Process:
    """`pairflow serve` on a free port; `settings` are PAIRFLOW_* variables (role, watch, ...)."""
    env = {**os.environ, "PAIRFLOW_API_KEYS": API_KEY, **(settings or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "pairflow.cli.serve_command", "--store", str(store), "--location", name],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith(f"pairflow serving location {name} at "):
        process.kill()
        raise AssertionError(f"unexpected first line {line!r}; stderr: {process.communicate()[1]}")
    return Process(process, line.rsplit(" ", 1)[1].strip())


def start_front_door(*args: str) -> Process:
    process = subprocess.Popen(
        [sys.executable, "-m", "pairflow.cli.frontdoor_command", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("pairflow frontdoor at "):
        process.kill()
        raise AssertionError(f"unexpected first line {line!r}; stderr: {process.communicate()[1]}")
    return Process(process, line.split(" ")[3])


def deploy_echo(location: Process, mode: str | None = None) -> str:
    """Deploy the echo workflow (in `mode`, else the Request trigger's default, active-active) with
    the shared access key; returns the callback URL's path and query."""
    document = {**ECHO_WORKFLOW, **({"mode": mode} if mode else {})}
    with httpx.Client(base_url=location.url, headers=AUTH, timeout=10) as client:
        deployed = client.put("/api/workflows/echo", json=document)
        assert deployed.status_code in (200, 201), deployed.text
        put = client.put("/api/workflows/echo/accessKey", json={"key": ACCESS_KEY})
        assert put.status_code == 200, put.text
        url: str = client.post("/api/workflows/echo/triggers/manual/listCallbackUrl").json()["value"]
    return url.removeprefix(location.url)


def run_location(location: Process, run_id: str) -> bool:
    """Whether the run exists in this location's store (the proof of who served a call)."""
    with httpx.Client(base_url=location.url, headers=AUTH, timeout=10) as client:
        return client.get(f"/api/runs/{run_id}").status_code == 200


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
