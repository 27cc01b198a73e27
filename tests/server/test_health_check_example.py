"""examples/health-check.json: answers 200 when its dependency answers, 503 when it fails."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from pairflow.server.config import Settings
from tests.server.conftest import callback, deploy, serve

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "health-check.json"


@pytest.fixture
def dependency() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/ok" else 500)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_health_check_answers_healthy_then_unhealthy_when_dependency_fails(
    settings: Settings, dependency: str
) -> None:
    document = json.loads(EXAMPLE.read_text())

    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        await deploy(client, "health-check", document)
        plain = await client.get(await callback(client, "health-check"))
        assert plain.status_code == 200, plain.text
        assert plain.json()["status"] == "healthy"
        assert plain.headers["cache-control"] == "no-store"

        await deploy(client, "probe-ok", {**document, "parameters": {"dependencyUrl": f"{dependency}/ok"}})
        assert (await client.get(await callback(client, "probe-ok"))).status_code == 200

        failing = {**document, "parameters": {"dependencyUrl": f"{dependency}/down"}}
        failing["definition"]["actions"]["Has_dependency"]["actions"]["Probe_dependency"]["inputs"][
            "retryPolicy"
        ] = {"type": "none"}
        await deploy(client, "probe-down", failing)
        down = await client.get(await callback(client, "probe-down"))
        assert down.status_code == 503, down.text
        assert down.json()["status"] == "unhealthy"

    serve(settings, scenario)
