"""A real `pairflow serve` process: it starts and says where, answers ready, exits 0 on SIGTERM, and
after kill -9 a restart on the same store completes every run that was accepted (202)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.conftest import request_response_workflow

API_KEY = "serve-test-key-123"
AUTH = {"x-api-key": API_KEY}
WAITING_WORKFLOW = {
    "definition": {
        "triggers": {"manual": {"type": "Request", "kind": "Http", "inputs": {"method": "POST"}}},
        "actions": {
            "Wait": {"type": "Wait", "inputs": {"interval": {"count": 2, "unit": "Second"}}, "runAfter": {}},
            "Done": {"type": "Compose", "inputs": "@triggerBody()", "runAfter": {"Wait": ["Succeeded"]}},
        },
    }
}


class Served:
    def __init__(self, process: subprocess.Popen[str], url: str) -> None:
        self.process = process
        self.url = url


def _start(store: Path, *extra: str) -> Served:
    env = {**os.environ, "PAIRFLOW_API_KEYS": API_KEY}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pairflow.cli.serve_command",
            "--store",
            str(store),
            "--location",
            "west",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("pairflow serving location west at "):
        process.kill()
        raise AssertionError(f"unexpected first line {line!r}; stderr: {process.communicate()[1]}")
    return Served(process, line.rsplit(" ", 1)[1].strip())


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)  # reaps it and closes its pipes


def _finish(process: subprocess.Popen[str]) -> int:
    process.communicate(timeout=20)
    return process.returncode


def _deploy(client: httpx.Client, name: str, document: dict[str, Any]) -> str:
    """Deploy `document` as `name`; its manual trigger's callback URL."""
    assert client.put(f"/api/workflows/{name}", json=document, headers=AUTH).status_code == 201
    answer = client.post(f"/api/workflows/{name}/triggers/manual/listCallbackUrl", headers=AUTH)
    url: str = answer.json()["value"]
    return url


def _run_status(client: httpx.Client, run_id: str) -> str:
    status: str = client.get(f"/api/runs/{run_id}", headers=AUTH).json()["status"]
    return status


def test_serve_announces_url_is_ready_and_exits_zero_on_sigterm(
    tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    served = _start(tmp_path / "p.db", "--port", "0")
    processes.append(served.process)
    with httpx.Client(base_url=served.url, timeout=5) as client:
        ready = client.get("/health/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["location"] == "west"
        assert client.get("/api/workflows").status_code == 401
    served.process.send_signal(signal.SIGTERM)
    assert _finish(served.process) == 0


def test_runs_accepted_before_kill_9_complete_after_restart(
    tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    store = tmp_path / "p.db"
    served = _start(store)
    processes.append(served.process)
    with httpx.Client(base_url=served.url, timeout=5) as client:
        url = _deploy(client, "slow", WAITING_WORKFLOW)
        accepted = []
        for n in range(5):
            answer = client.post(url, json={"n": n})
            assert answer.status_code == 202
            accepted.append(answer.headers["x-ms-workflow-run-id"])
        assert all(_run_status(client, run_id) == "Running" for run_id in accepted)
    served.process.send_signal(signal.SIGKILL)
    _finish(served.process)

    restarted = _start(store)
    processes.append(restarted.process)
    with httpx.Client(base_url=restarted.url, timeout=5) as client:
        deadline = time.monotonic() + 20
        statuses: dict[str, Any] = {}
        while time.monotonic() < deadline:
            statuses = {run_id: _run_status(client, run_id) for run_id in accepted}
            if all(status != "Running" for status in statuses.values()):
                break
            time.sleep(0.2)
        assert set(statuses.values()) == {"Succeeded"}, statuses
        view = client.get(f"/api/runs/{accepted[3]}", headers=AUTH).json()
        assert view["actions"]["Done"]["outputs"] == {"n": 3}
    restarted.process.send_signal(signal.SIGTERM)
    assert _finish(restarted.process) == 0


def test_serve_rejects_a_bad_setting_with_one_line_and_exit_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pairflow.cli.serve_command",
            "--store",
            str(tmp_path / "p.db"),
            "--port",
            "x",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["pairflow: error: --port: expected an integer, got 'x'"]


@pytest.mark.parametrize(
    ("store", "cause"),
    [
        (
            "postgresql://pairflow:secret@127.0.0.1:1/pairflow",
            "cannot connect to the PostgreSQL store at 127.0.0.1:1",
        ),
        ("sqlite:////nonexistent-dir/p.db", "cannot open the store at /nonexistent-dir/p.db"),
    ],
)
def test_serve_with_an_unreachable_store_exits_3_with_one_line(store: str, cause: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pairflow", "serve", "--store", store, "--api-key", "k" * 32],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and cause in lines[0], result.stderr
    assert "secret" not in result.stderr


def test_every_call_answered_before_kill_9_under_load_is_a_stored_succeeded_run(
    tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    # 16 callers keep Compose → Response calls in flight (each run one transaction with its fire);
    # the process is killed -9 among them. Every call that got its 200 names a run the restarted
    # location shows Succeeded with that call's body; nothing is left Running.
    store = tmp_path / "p.db"
    served = _start(store)
    processes.append(served.process)
    with httpx.Client(base_url=served.url, timeout=5) as client:
        url = _deploy(client, "echo", request_response_workflow())
    answered: dict[str, int] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def caller(first: int) -> None:
        with httpx.Client(timeout=5) as client:
            for n in range(first, first + 100_000, 16):
                if stop.is_set():
                    return
                try:
                    answer = client.post(url, json={"n": n})
                except httpx.HTTPError:
                    return  # the process is gone
                if answer.status_code == 200:
                    with lock:
                        answered[answer.headers["x-ms-workflow-run-id"]] = n

    threads = [threading.Thread(target=caller, args=(first,)) for first in range(16)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 20
    while len(answered) < 300 and time.monotonic() < deadline:
        time.sleep(0.01)
    served.process.send_signal(signal.SIGKILL)
    _finish(served.process)
    stop.set()
    for thread in threads:
        thread.join(timeout=10)
    assert len(answered) >= 300

    restarted = _start(store)
    processes.append(restarted.process)
    with httpx.Client(base_url=restarted.url, timeout=5) as client:
        for run_id, n in answered.items():
            view = client.get(f"/api/runs/{run_id}", headers=AUTH).json()
            assert view["status"] == "Succeeded", view
            assert view["actions"]["Compose"]["outputs"] == {"got": {"n": n}}
        listed = client.get("/api/runs?workflow=echo&status=Running&limit=1000", headers=AUTH).json()
        assert listed["value"] == []
    restarted.process.send_signal(signal.SIGTERM)
    assert _finish(restarted.process) == 0
