"""The drill's loopback plumbing, on the drill's own event loop: `Link`, a TCP proxy between two
locations that the drill can cut (the `isolate` fault) and heal, and `AlertInbox`, the HTTP
endpoint the watchdog posts its alerts to.

Both listen on 127.0.0.1 only and speak just enough to do their one job.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable

from pairflow.jsontypes import JSONObject

CHUNK = 65536  # bytes relayed per read
MAX_ALERT_BYTES = 1024 * 1024


class Link:
    """127.0.0.1:port → 127.0.0.1:target. `cut()` drops every connection and refuses new ones."""

    def __init__(self) -> None:
        self.target: int | None = None
        self.open = True
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

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
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            self._writers -= {writer, up_writer}

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while self.open and (data := await source.read(CHUNK)):
                sink.write(data)
                await sink.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            sink.close()

    def cut(self) -> None:
        self.open = False
        for writer in list(self._writers):
            writer.close()

    def heal(self) -> None:
        self.open = True

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)


class AlertInbox:
    """Takes `POST /` with a JSON body (the watchdog's alert) and answers 204; keeps (time, alert)."""

    def __init__(self, on_alert: Callable[[float, JSONObject], None] | None = None) -> None:
        self.received: list[tuple[float, JSONObject]] = []
        self.on_alert = on_alert
        self.port = 0
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/alert"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.decode("latin-1").split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length" and value.strip().isdigit():
                    length = int(value.strip())
            body = await reader.readexactly(min(length, MAX_ALERT_BYTES))
            writer.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return
        finally:
            writer.close()
        try:
            alert = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return
        if isinstance(alert, dict):
            now = time.time()
            self.received.append((now, alert))
            if self.on_alert is not None:
                self.on_alert(now, alert)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
