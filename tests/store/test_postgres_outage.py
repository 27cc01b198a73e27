"""A PostgreSQL server that goes away while a store or a location uses it: calls fail quickly with
StoreUnavailableError instead of crashing or hanging, `/health/ready` says the store is down while it
is, and both recover when the server is back.

These tests stop their server, so they start one of their own with scripts/postgres.sh (about a
second) and leave the session's shared test server alone."""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import sql

from pairflow.errors import StoreUnavailableError
from pairflow.store.postgres import PostgresStore
from tests.conftest import postgres_server_url, with_search_path
from tests.server.conftest import make_settings, serve

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "postgres.sh"


@dataclass
class OwnServer:
    directory: Path
    url: str

    def down(self) -> None:
        subprocess.run(["bash", str(SCRIPT), "down", str(self.directory)], check=True, capture_output=True)

    def up(self) -> None:
        subprocess.run(["bash", str(SCRIPT), "up", str(self.directory)], check=True, capture_output=True)


@pytest.fixture(scope="module")
def own_server() -> Iterator[OwnServer]:
    postgres_server_url()  # skipped (or failed, in CI) where the suite has no PostgreSQL at all
    # under /tmp itself: a server's data directory must not sit under a 0700 parent like pytest's
    directory = Path(tempfile.mkdtemp(prefix="pairflow-outage-", dir="/tmp"))
    started = subprocess.run(
        ["bash", str(SCRIPT), "start", str(directory)], capture_output=True, text=True, check=False
    )
    if started.returncode != 0:
        subprocess.run(["bash", str(SCRIPT), "stop", str(directory)], check=False)
        pytest.fail(f"scripts/postgres.sh start failed: {started.stderr.strip()}", pytrace=False)
    server = OwnServer(directory, started.stdout.strip())
    yield server
    subprocess.run(["bash", str(SCRIPT), "stop", str(directory)], check=False, capture_output=True)


@pytest.fixture
def outage_store_url(own_server: OwnServer) -> Iterator[str]:
    """A fresh schema on the test's own server, which is up again after the test."""
    schema = f"pf_{secrets.token_hex(6)}"
    with psycopg.connect(own_server.url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    yield with_search_path(own_server.url, schema)
    if not (own_server.directory / "data" / "postmaster.pid").exists():
        own_server.up()


def eventually(check: Any, timeout: float = 30.0) -> Any:
    """Call `check` until it returns without raising StoreUnavailableError (the pool reconnects with
    a backoff once the server is back)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except StoreUnavailableError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_a_store_whose_server_stops_raises_unavailable_quickly_and_recovers(
    own_server: OwnServer, outage_store_url: str
) -> None:
    with PostgresStore(outage_store_url) as store:
        store.put_workflow("w", {"actions": {}}, {}, datetime.now(UTC))
        own_server.down()
        for _ in range(3):  # the broken pooled connection, then no connection to be had
            started = time.monotonic()
            with pytest.raises(
                StoreUnavailableError, match=r"the PostgreSQL store at 127\.0\.0\.1:\d+/\S+ is"
            ):
                store.get_workflow("w")
            assert time.monotonic() - started < 10, "a call while the server is down must not hang"
        own_server.up()
        workflow = eventually(lambda: store.get_workflow("w"))
        assert workflow is not None and workflow.version == 1


def test_health_ready_reports_the_store_down_while_its_server_is_down(
    own_server: OwnServer, outage_store_url: str, tmp_path: Path
) -> None:
    seen: list[tuple[int, Any]] = []

    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        async def ready() -> tuple[int, Any]:
            response = await client.get("/health/ready")
            return response.status_code, response.json().get("store")

        seen.append(await ready())
        own_server.down()
        seen.append(await ready())
        own_server.up()
        deadline = time.monotonic() + 30
        while (answer := await ready())[0] != 200 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        seen.append(answer)

    serve(make_settings(tmp_path, store=outage_store_url), scenario)
    assert seen == [(200, "ok"), (503, "unreachable"), (200, "ok")]


def test_a_request_while_the_store_is_down_is_refused_in_one_line_and_leaves_no_run(
    own_server: OwnServer, outage_store_url: str, tmp_path: Path
) -> None:
    from tests.server.conftest import AUTH, callback, deploy, request_response_workflow

    answers: list[tuple[int, Any]] = []

    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        await deploy(client, "echo", request_response_workflow())
        url = await callback(client, "echo")
        assert (await client.post(url, json={"n": 1})).status_code == 200  # the endpoint is cached
        own_server.down()
        refused = await client.post(url, json={"n": 2})
        answers.append((refused.status_code, refused.json()["error"]))
        own_server.up()
        deadline = time.monotonic() + 30
        while (again := await client.post(url, json={"n": 3})).status_code != 200:
            assert time.monotonic() < deadline, again.text
            await asyncio.sleep(0.2)
        runs = (await client.get("/api/runs?workflow=echo", headers=AUTH)).json()["value"]
        bodies = [
            (await client.get(f"/api/runs/{run['id']}", headers=AUTH)).json()["trigger"]["outputs"]["body"]
            for run in runs
        ]
        answers.append((len(runs), sorted(body["n"] for body in bodies)))

    serve(make_settings(tmp_path, store=outage_store_url), scenario)
    (status, error), after = answers
    assert status == 503 and error["code"] == "StoreUnavailable"
    assert "\n" not in error["message"] and "127.0.0.1" in error["message"]
    assert after == (2, [1, 3])  # the refused call (n=2) left nothing behind
