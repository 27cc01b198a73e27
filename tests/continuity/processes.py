"""Real locations for continuity tests: `pairflow serve` processes with their own SQLite stores on
loopback, TCP proxies between them that a test can cut, a witness process, and an alert receiver."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

API_KEY = "continuity-test-key-1"
AUTH = {"x-api-key": API_KEY}
TICK = {
    "definition": {
        "triggers": {
            "Recurrence": {"type": "Recurrence", "recurrence": {"frequency": "Second", "interval": 1}}
        },
        "actions": {"Tick": {"type": "Compose", "inputs": "@utcNow()", "runAfter": {}}},
    }
}


class Proxy:
    """A TCP proxy on 127.0.0.1 in its own thread; `cut()` drops every connection and refuses new ones."""

    def __init__(self) -> None:
        self.target: int | None = None
        self.open = True
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.port = 0

        async def start() -> None:
            server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
            self.port = server.sockets[0].getsockname()[1]
            ready.set()
            async with server:
                await server.serve_forever()

        self._thread = threading.Thread(target=lambda: self._run(start), daemon=True)
        self._thread.start()
        ready.wait(5)

    def _run(self, start: Callable[[], Any]) -> None:
        asyncio.set_event_loop(self._loop)
        with contextlib.suppress(asyncio.CancelledError, RuntimeError):
            self._loop.run_until_complete(start())
        self._loop.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.open or self.target is None:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while self.open and (data := await source.read(65536)):
                    sink.write(data)
                    await sink.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers -= {writer, up_writer}

    def cut(self) -> None:
        def drop() -> None:
            self.open = False
            for writer in list(self._writers):
                writer.close()

        self._loop.call_soon_threadsafe(drop)

    def heal(self) -> None:
        self._loop.call_soon_threadsafe(lambda: setattr(self, "open", True))

    def close(self) -> None:
        for task in asyncio.all_tasks(self._loop) if not self._loop.is_closed() else ():
            self._loop.call_soon_threadsafe(task.cancel)
        self._thread.join(5)


class Served:
    def __init__(self, name: str, process: subprocess.Popen[str], url: str, store: Path) -> None:
        self.name, self.process, self.url, self.store = name, process, url, store

    def get(self, path: str) -> Any:
        return httpx.get(self.url + path, headers=AUTH, timeout=5).json()

    def status(self) -> dict[str, Any]:
        found: dict[str, Any] = self.get("/api/continuity/status")
        return found

    def events(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.get("/api/continuity/events?limit=1000")["value"]
        return found

    def fires(self, workflow: str = "tick") -> list[dict[str, Any]]:
        history = self.get(f"/api/workflows/{workflow}/triggers/Recurrence/history?limit=1000")["value"]
        return [event for event in history if event["status"] == "Succeeded"]

    def deploy(self, workflow: str = "tick", document: dict[str, Any] | None = None) -> None:
        answer = httpx.put(
            f"{self.url}/api/workflows/{workflow}", json=document or TICK, headers=AUTH, timeout=5
        )
        assert answer.status_code in (200, 201), answer.text


class Cluster:
    """Starts locations, witnesses and proxies, and ends every process it started."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.processes: list[subprocess.Popen[str]] = []
        self.proxies: list[Proxy] = []

    def proxy(self) -> Proxy:
        proxy = Proxy()
        self.proxies.append(proxy)
        return proxy

    def _spawn(self, args: list[str], prefix: str) -> tuple[subprocess.Popen[str], str]:
        env = {**os.environ, "PAIRFLOW_API_KEYS": API_KEY}
        process = subprocess.Popen(
            [sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        self.processes.append(process)
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith(prefix):
            process.kill()
            raise AssertionError(f"unexpected first line {line!r}; stderr: {process.communicate()[1]}")
        return process, line.rsplit(" ", 1)[1].strip()

    def location(self, name: str, *, store: Path | None = None, **settings: Any) -> Served:
        """`pairflow serve` with its continuity settings in a config file (TOML)."""
        config = self.tmp_path / f"{name}.toml"
        lines = []
        for key, value in settings.items():
            if isinstance(value, dict):
                table = ", ".join(f"{k} = {json.dumps(v)}" for k, v in value.items())
                lines.append(f"{key} = {{ {table} }}")
            else:
                lines.append(f"{key} = {json.dumps(value)}")
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        store = store or self.tmp_path / f"{name}.db"
        process, url = self._spawn(
            [
                "-m",
                "pairflow.cli.serve_command",
                "--config",
                str(config),
                "--store",
                str(store),
                "--location",
                name,
            ],
            f"pairflow serving location {name} at ",
        )
        return Served(name, process, url, store)

    def witness(self) -> str:
        _, url = self._spawn(
            [
                "-m",
                "pairflow.cli.continuity_commands",
                "witness",
                "--store",
                str(self.tmp_path / "witness.db"),
            ],
            "pairflow witness ",
        )
        return url

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.communicate(timeout=10)
        for proxy in self.proxies:
            proxy.close()


def cluster_in(tmp_path: Path) -> Iterator[Cluster]:
    started = Cluster(tmp_path)
    try:
        yield started
    finally:
        started.close()


class Alerts:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.url = ""


def alert_receiver() -> Iterator[Alerts]:
    found = Alerts()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            found.received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    found.url = f"http://127.0.0.1:{server.server_address[1]}/alert"
    try:
        yield found
    finally:
        server.shutdown()
        server.server_close()


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll `check` until it returns something truthy (returned) or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except (httpx.HTTPError, KeyError, ValueError) as error:
            last = error
        if last and not isinstance(last, Exception):
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")
