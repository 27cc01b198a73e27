"""Two `pairflow serve` processes on one store: a Request trigger served by one of them follows what the
other deploys (a new version, a disable, a new access key) within the endpoint cache's lifetime, a
third of the run lease. Each test runs over SQLite and PostgreSQL (`store_url`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from pairflow.server.app import create_app
from pairflow.server.config import Settings
from tests.server.conftest import AUTH, BASE, callback, deploy, make_settings

RUN_LEASE = 1.0  # seconds: the smallest run lease, so the endpoint cache lives a third of a second
PAST_TTL = RUN_LEASE / 3 + 0.1

Clients = Callable[[httpx.AsyncClient, httpx.AsyncClient], Awaitable[None]]


def versioned(value: int) -> dict[str, Any]:
    return {
        "definition": {
            "triggers": {"manual": {"type": "Request", "kind": "Http", "inputs": {"method": "POST"}}},
            "actions": {
                "Response": {
                    "type": "Response",
                    "kind": "Http",
                    "inputs": {"statusCode": 200, "body": {"deployed": value}},
                    "runAfter": {},
                }
            },
        }
    }


def settings_for(tmp_path: Path, store_url: str) -> Settings:
    return make_settings(tmp_path, store=store_url, run_lease_seconds=RUN_LEASE)


def serve_two(settings: Settings, scenario: Clients) -> None:
    """Run `scenario(first, second)` against two started apps sharing the store: two processes."""
    first_app = create_app(settings, base_url=BASE)
    second_app = create_app(settings, base_url=BASE)

    async def go() -> None:
        async with (
            first_app.router.lifespan_context(first_app),
            second_app.router.lifespan_context(second_app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=first_app), base_url=BASE) as first,
            httpx.AsyncClient(transport=httpx.ASGITransport(app=second_app), base_url=BASE) as second,
        ):
            await scenario(first, second)

    asyncio.run(go())


async def deployed_value(client: httpx.AsyncClient, url: str) -> Any:
    answer = await client.post(url, json={})
    assert answer.status_code == 200, answer.text
    return answer.json()["deployed"]


def test_a_redeploy_in_another_process_is_served_after_the_cache_lifetime(
    tmp_path: Path, store_url: str
) -> None:
    seen: list[Any] = []

    async def scenario(first: httpx.AsyncClient, second: httpx.AsyncClient) -> None:
        await deploy(first, "wf", versioned(1))
        url = await callback(first, "wf")
        seen.append(await deployed_value(second, url))  # the second process caches version 1
        await deploy(first, "wf", versioned(2))
        await asyncio.sleep(PAST_TTL)
        seen.append(await deployed_value(second, url))
        runs = (await second.get("/api/runs?limit=10", headers=AUTH)).json()["value"]
        assert len(runs) == 2

    serve_two(settings_for(tmp_path, store_url), scenario)
    assert seen == [1, 2]


def test_a_disable_and_a_new_key_in_another_process_are_honoured(tmp_path: Path, store_url: str) -> None:
    statuses: list[int] = []

    async def scenario(first: httpx.AsyncClient, second: httpx.AsyncClient) -> None:
        await deploy(first, "wf", versioned(1))
        url = await callback(first, "wf")
        statuses.append((await second.post(url, json={})).status_code)
        answer = await first.post("/api/workflows/wf/regenerateAccessKey", headers=AUTH)
        assert answer.status_code < 300, answer.text
        await asyncio.sleep(PAST_TTL)
        statuses.append((await second.post(url, json={})).status_code)  # the old URL's key is gone
        fresh = await callback(first, "wf")
        statuses.append((await second.post(fresh, json={})).status_code)
        answer = await first.post("/api/workflows/wf/disable", headers=AUTH)
        assert answer.status_code < 300, answer.text
        await asyncio.sleep(PAST_TTL)
        statuses.append((await second.post(fresh, json={})).status_code)

    serve_two(settings_for(tmp_path, store_url), scenario)
    assert statuses[0] == 200 and statuses[2] == 200
    assert statuses[1] in (401, 403)
    assert statuses[3] >= 400 and statuses[3] != 500


def test_a_new_deployment_mode_from_another_process_is_honoured_with_the_same_definition(
    tmp_path: Path, store_url: str
) -> None:
    # A passive location: an active-active workflow takes calls, an active-passive one is refused.
    # Redeploying the same definition as active-passive makes no new version, only a new
    # deployment record, which the other process's cached endpoint must notice too.
    statuses: list[int] = []

    async def scenario(first: httpx.AsyncClient, second: httpx.AsyncClient) -> None:
        await deploy(first, "wf", {**versioned(1), "mode": "active-active"})
        url = await callback(first, "wf")
        statuses.append((await second.post(url, json={})).status_code)
        summary = await deploy(first, "wf", {**versioned(1), "mode": "active-passive"})
        assert summary["version"] == 1
        await asyncio.sleep(PAST_TTL)
        answer = await second.post(url, json={})
        statuses.append(answer.status_code)
        assert answer.json()["error"]["code"] == "LocationPassive"

    passive = make_settings(tmp_path, store=store_url, run_lease_seconds=RUN_LEASE, role="secondary")
    serve_two(passive, scenario)
    assert statuses == [200, 503]
