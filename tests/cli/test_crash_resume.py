"""A run interrupted by kill -9 in the middle of an action continues on the next start.

Real parts only: a real `pairflow run` process, a real HTTP server on loopback that the workflow calls,
a real SQLite file, and a real SIGKILL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


class _Backend:
    """Counts calls per path; the first call to /slow blocks until released (its caller is killed)."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.slow_entered = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()


@pytest.fixture
def backend() -> Iterator[tuple[_Backend, str]]:
    state = _Backend()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            with state.lock:
                state.hits[self.path] += 1
                first_slow = self.path == "/slow" and state.hits[self.path] == 1
            if first_slow:
                state.slow_entered.set()
                state.release.wait(30)
                return  # the caller is dead by now; answer nothing
            body = json.dumps({"path": self.path, "call": state.hits[self.path]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()


def _definition(base_url: str) -> dict[str, object]:
    return {
        "definition": {
            "$schema": "https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/workflowdefinition.json#",
            "contentVersion": "1.0.0.0",
            "triggers": {"manual": {"type": "Request", "kind": "Http", "inputs": {}}},
            "actions": {
                "Record_start": {
                    "type": "Http",
                    "inputs": {"method": "POST", "uri": f"{base_url}/start", "body": "@triggerBody()"},
                    "runAfter": {},
                },
                "Slow_call": {
                    "type": "Http",
                    "inputs": {"method": "POST", "uri": f"{base_url}/slow", "body": "@body('Record_start')"},
                    "runAfter": {"Record_start": ["Succeeded"]},
                },
                "Done": {
                    "type": "Compose",
                    "inputs": "@body('Slow_call')",
                    "runAfter": {"Slow_call": ["Succeeded"]},
                },
            },
            "outputs": {},
        },
        "kind": "Stateful",
    }


def _pairflow(*args: str, store: Path) -> list[str]:
    return [sys.executable, "-m", "pairflow", *args, "--store", f"sqlite:///{store}"]


def test_run_killed_mid_action_resumes_without_repeating_completed_actions(
    tmp_path: Path, backend: tuple[_Backend, str]
) -> None:
    state, base_url = backend
    workflow = tmp_path / "crashy.json"
    workflow.write_text(json.dumps(_definition(base_url)))
    store = tmp_path / "runs.db"

    process = subprocess.Popen(
        _pairflow("run", str(workflow), "--trigger-body", '{"order": 7}', store=store),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert state.slow_entered.wait(30), "the run never reached the slow action"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(10)
    assert process.returncode == -signal.SIGKILL

    resumed = subprocess.run(_pairflow("resume", store=store), capture_output=True, text=True, timeout=60)
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed 1 run" in resumed.stdout

    listing = subprocess.run(
        _pairflow("runs", "--json", store=store), capture_output=True, text=True, timeout=60
    )
    runs = json.loads(listing.stdout)
    assert [r["status"] for r in runs] == ["Succeeded"]
    shown = subprocess.run(
        _pairflow("show", runs[0]["id"], "--json", store=store), capture_output=True, text=True, timeout=60
    )
    assert shown.returncode == 0, shown.stderr
    view = json.loads(shown.stdout)
    actions = view["actions"]
    assert actions["Record_start"]["attempts"] == 1
    assert actions["Slow_call"]["attempts"] == 2
    assert actions["Done"]["outputs"] == {"path": "/slow", "call": 2}
    assert state.hits["/start"] == 1, "a completed action was executed again"
    assert state.hits["/slow"] == 2


def test_later_command_resumes_interrupted_run_automatically(
    tmp_path: Path, backend: tuple[_Backend, str]
) -> None:
    state, base_url = backend
    workflow = tmp_path / "crashy.json"
    workflow.write_text(json.dumps(_definition(base_url)))
    store = tmp_path / "runs.db"
    process = subprocess.Popen(
        _pairflow("run", str(workflow), store=store), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        assert state.slow_entered.wait(30)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(10)

    listing = subprocess.run(
        _pairflow("runs", "--json", store=store), capture_output=True, text=True, timeout=60
    )
    assert listing.returncode == 0, listing.stderr
    assert [r["status"] for r in json.loads(listing.stdout)] == ["Succeeded"]
    assert state.hits["/start"] == 1
