"""The chaos run: several `pairflow serve` processes on one PostgreSQL store, one killed -9 and
restarted every few seconds while Request calls and a Recurrence trigger start runs.

Traffic goes only to 127.0.0.1 and is bounded in count and time. What it measures:

- acknowledged: Request calls answered 202 with a run id (a call whose connection a kill cut is not);
- completed: acknowledged runs that ended Succeeded once the processes had time to finish them;
- duplicate attempts: HTTP calls the sink received twice with the same `Idempotency-Key` (run,
  action, repetition, attempt): one attempt executed — and recorded Succeeded — by two processes;
- occurrences fired twice: Recurrence occurrences with more than one Succeeded history event.

Used by tests/chaos/test_chaos.py (short, in every CI run) and bench/chaos.py (long).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from pairflow.store import open_store

API_KEY = "chaos-test-api-key"
AUTH = {"x-api-key": API_KEY}
READY_LINE = "pairflow serving location"


@dataclass(frozen=True)
class ChaosSettings:
    processes: int = 3
    runs: int = 300  # Request calls sent (round-robin, evenly over `duration`)
    duration: float = 15.0  # seconds of traffic and kills
    kill_every: float = 3.0
    drain: float = 40.0  # seconds, after the traffic, for every acknowledged run to end
    run_lease_seconds: float = 5.0
    concurrency: int = 32  # Request calls in flight at once
    seed: int = 7


@dataclass
class ChaosReport:
    sent: int = 0
    acknowledged: int = 0
    completed: int = 0
    unfinished: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    runs_created: int = 0  # Request runs in the store, acknowledged or not
    runs_created_unfinished: int = 0
    attempts_seen: int = 0  # HTTP calls the sink received
    duplicate_attempts: int = 0
    reexecuted_attempts: int = 0  # attempts numbered 2 or more (an action re-run after a kill)
    kills: int = 0
    failed_starts: int = 0  # starts that exited during start-up and were made again
    occurrences: int = 0
    occurrences_fired_twice: int = 0
    recurrence_runs: int = 0
    recurrence_runs_unfinished: int = 0
    seconds: float = 0.0

    def lines(self) -> list[str]:
        return [
            f"chaos: {self.kills} kills in {self.seconds:.1f} s ({self.failed_starts} failed starts)",
            f"chaos: requests sent {self.sent}, acknowledged {self.acknowledged}, "
            f"completed {self.completed}, not completed {len(self.unfinished)}, failed {len(self.failed)}",
            f"chaos: Request runs in the store {self.runs_created} "
            f"(unfinished {self.runs_created_unfinished})",
            f"chaos: action attempts executed {self.attempts_seen}, the same attempt twice "
            f"{self.duplicate_attempts}, re-executed after a kill {self.reexecuted_attempts}",
            f"chaos: recurrence occurrences fired {self.occurrences}, fired twice "
            f"{self.occurrences_fired_twice}, runs {self.recurrence_runs} "
            f"(unfinished {self.recurrence_runs_unfinished})",
        ]


def workflow_definition(sink: str) -> dict[str, Any]:
    """Five actions: two calls to the sink (each carries its attempt's Idempotency-Key), a wait
    between them so that kills find runs in flight, and two Composes."""
    call = {"method": "POST", "uri": f"{sink}/call", "body": {"run": "@{workflow()['run']['name']}"}}
    return {
        "definition": {
            "triggers": {"manual": {"type": "Request", "kind": "Http"}},
            "actions": {
                "Read": {"type": "Compose", "inputs": "@triggerBody()", "runAfter": {}},
                "First": {"type": "Http", "inputs": call, "runAfter": {"Read": ["Succeeded"]}},
                "Pause": {
                    "type": "Wait",
                    "inputs": {"interval": {"count": 1, "unit": "Second"}},
                    "runAfter": {"First": ["Succeeded"]},
                },
                "Second": {"type": "Http", "inputs": call, "runAfter": {"Pause": ["Succeeded"]}},
                "Done": {
                    "type": "Compose",
                    "inputs": "@body('Second')",
                    "runAfter": {"Second": ["Succeeded"]},
                },
            },
        }
    }


TICK = {
    "definition": {
        "triggers": {
            "Recurrence": {"type": "Recurrence", "recurrence": {"frequency": "Second", "interval": 1}}
        },
        "actions": {"Tick": {"type": "Compose", "inputs": "@trigger()['scheduledTime']", "runAfter": {}}},
    }
}


class Sink:
    """An HTTP server on 127.0.0.1:0 counting the Idempotency-Key of every call."""

    def __init__(self) -> None:
        self.keys: Counter[str] = Counter()
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                with lock:
                    outer.keys[self.headers.get("Idempotency-Key") or ""] += 1
                data = b'{"ok":true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a caller killed mid-call: its attempt is made again, with the next number

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Node:
    """One `pairflow serve` process on a fixed port, restartable after a kill."""

    def __init__(self, index: int, store_url: str, logs: Path, run_lease: float) -> None:
        self.index = index
        self.store_url = store_url
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.logs = logs
        self.run_lease = run_lease
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = self.logs / f"node{self.index}-{self.starts}.log"
        env = {
            **os.environ,
            "PAIRFLOW_API_KEYS": API_KEY,
            "PAIRFLOW_RUN_LEASE_SECONDS": f"{self.run_lease:g}",
            "PAIRFLOW_SHUTDOWN_GRACE": "2",
        }
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "pairflow.cli.serve_command",
                    "--store",
                    self.store_url,
                    "--port",
                    str(self.port),
                    "--location",
                    "chaos",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )
        self.log = log

    def wait_ready(self, timeout: float = 30.0) -> bool:
        """True once serving; False when the process exited first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if READY_LINE in self.log.read_text(errors="replace"):
                return True
            if self.process is not None and self.process.poll() is not None:
                return False
            time.sleep(0.05)
        raise AssertionError(f"node {self.index} not serving after {timeout:g} s: {self.tail()}")

    def start_ready(self, attempts: int = 3) -> int:
        """Start and wait until serving, starting again when the process exits during start-up
        (a start racing another process's continuity renewal fails: see the report); returns the
        failed starts."""
        for failed in range(attempts):
            self.start()
            if self.wait_ready():
                return failed
        raise AssertionError(f"node {self.index} did not start {attempts} times: {self.tail()}")

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:]

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.kill()


@contextlib.contextmanager
def cluster(settings: ChaosSettings, store_url: str, logs: Path) -> Iterator[list[Node]]:
    nodes = [Node(index, store_url, logs, settings.run_lease_seconds) for index in range(settings.processes)]
    try:
        for node in nodes:
            node.start_ready()
        yield nodes
    finally:
        for node in nodes:
            node.stop()


def deploy(node: Node, sink: str) -> str:
    """Deploy the two workflows through one node; the Request trigger's signed path and query."""
    with httpx.Client(base_url=node.url, headers=AUTH, timeout=10) as client:
        for name, document in (("orders", workflow_definition(sink)), ("tick", TICK)):
            answer = client.put(f"/api/workflows/{name}", json=document)
            assert answer.status_code in (200, 201), answer.text
        answer = client.post("/api/workflows/orders/triggers/manual/listCallbackUrl")
        assert answer.status_code == 200, answer.text
    value = str(answer.json()["value"])
    return value[len(node.url) :]


async def _traffic(settings: ChaosSettings, nodes: list[Node], path: str, acknowledged: list[str]) -> int:
    """Send `settings.runs` calls round-robin at an even pace; returns how many were sent."""
    gap = settings.duration / max(1, settings.runs)
    limit = asyncio.Semaphore(settings.concurrency)
    started = time.monotonic()
    tasks: list[asyncio.Task[None]] = []
    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=2.0)) as client:

        async def one(number: int) -> None:
            async with limit:
                node = nodes[number % len(nodes)]
                try:
                    answer = await client.post(node.url + path, json={"order": number})
                except httpx.HTTPError:
                    return  # cut by a kill, or refused while the node restarts: not acknowledged
                if answer.status_code == 202:
                    run_id = answer.json().get("runId")
                    if isinstance(run_id, str):
                        acknowledged.append(run_id)

        for number in range(settings.runs):
            delay = started + number * gap - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(number)))
        await asyncio.gather(*tasks)
    return settings.runs


async def _chaos(
    settings: ChaosSettings, nodes: list[Node], done: asyncio.Event, report: ChaosReport
) -> None:
    """Every `kill_every` seconds kill -9 one random node and start it again."""
    chooser = random.Random(settings.seed)
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), settings.kill_every)
        if done.is_set():
            return
        node = chooser.choice(nodes)
        node.kill()
        report.kills += 1
        report.failed_starts += await asyncio.to_thread(node.start_ready)


def _finished(store_url: str, run_ids: list[str]) -> dict[str, str]:
    store = open_store(store_url)
    try:
        statuses: dict[str, str] = {}
        for run_id in run_ids:
            run = store.get_run(run_id)
            statuses[run_id] = run.status if run is not None else "Missing"
        return statuses
    finally:
        store.close()


def run_chaos(settings: ChaosSettings, store_url: str, logs: Path) -> ChaosReport:
    """Run the whole scenario against a migrated, empty store; the counts."""
    report = ChaosReport()
    began = time.monotonic()
    sink = Sink()
    try:
        with cluster(settings, store_url, logs) as nodes:
            path = deploy(nodes[0], sink.url)
            time.sleep(settings.run_lease_seconds / 3 + 0.5)  # the others arm the new recurrence
            acknowledged: list[str] = []

            async def scenario() -> int:
                done = asyncio.Event()
                killing = asyncio.create_task(_chaos(settings, nodes, done, report))
                sent = await _traffic(settings, nodes, path, acknowledged)
                done.set()
                await killing
                return sent

            report.sent = asyncio.run(scenario())
            deadline = time.monotonic() + settings.drain
            statuses = _finished(store_url, acknowledged)
            while any(status == "Running" for status in statuses.values()) and time.monotonic() < deadline:
                time.sleep(0.5)
                pending = [run_id for run_id, status in statuses.items() if status == "Running"]
                statuses.update(_finished(store_url, pending))
        _count(report, store_url, acknowledged, statuses, sink)
    finally:
        sink.close()
    report.seconds = time.monotonic() - began
    return report


def _count(
    report: ChaosReport, store_url: str, acknowledged: list[str], statuses: dict[str, str], sink: Sink
) -> None:
    report.acknowledged = len(acknowledged)
    report.completed = sum(1 for status in statuses.values() if status == "Succeeded")
    report.unfinished = sorted(run_id for run_id, status in statuses.items() if status == "Running")
    report.failed = sorted(
        run_id for run_id, status in statuses.items() if status not in ("Running", "Succeeded")
    )
    report.attempts_seen = sum(sink.keys.values())
    report.duplicate_attempts = sum(1 for count in sink.keys.values() if count > 1)
    report.reexecuted_attempts = sum(1 for key in sink.keys if not key.endswith("/1"))
    store = open_store(store_url)
    try:
        orders = store.list_runs("orders", limit=1_000_000)
        report.runs_created = len(orders)
        report.runs_created_unfinished = sum(1 for run in orders if run.status == "Running")
        fired = Counter(
            event.occurrence
            for event in store.list_trigger_history("tick", "Recurrence", limit=1_000_000)
            if event.status == "Succeeded"
        )
        report.occurrences = len(fired)
        report.occurrences_fired_twice = sum(1 for count in fired.values() if count > 1)
        ticks = store.list_runs("tick", limit=1_000_000)
        report.recurrence_runs = len(ticks)
        report.recurrence_runs_unfinished = sum(1 for run in ticks if run.status == "Running")
    finally:
        store.close()
