"""Helpers for server tests: a real app (real SQLite store in tmp_path, real engine and dispatcher)
driven in-process through httpx's ASGI transport, with the app's lifespan run around each scenario."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from pairflow.server.app import create_app
from pairflow.server.config import Settings

API_KEY = "test-key-0123456789"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
BASE = "http://pairflow.test"


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "store": str(tmp_path / "pairflow.db"),
        "location": "west",
        "api_keys": (API_KEY,),
    }
    values.update(overrides)
    return Settings(**values)


Scenario = Callable[[httpx.AsyncClient, Any], Awaitable[None]]


def serve(settings: Settings, scenario: Scenario) -> None:
    """Run `scenario(client, app)` against a started app, then shut it down."""
    app = create_app(settings, base_url=BASE)

    async def go() -> None:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
                await scenario(client, app)

    asyncio.run(go())


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


def request_response_workflow(status: int = 200) -> dict[str, Any]:
    return {
        "definition": {
            "$schema": "https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/workflowdefinition.json#",
            "contentVersion": "1.0.0.0",
            "triggers": {"manual": {"type": "Request", "kind": "Http", "inputs": {"method": "POST"}}},
            "actions": {
                "Compose": {"type": "Compose", "inputs": {"got": "@triggerBody()"}, "runAfter": {}},
                "Response": {
                    "type": "Response",
                    "kind": "Http",
                    "inputs": {"statusCode": status, "body": "@outputs('Compose')"},
                    "runAfter": {"Compose": ["Succeeded"]},
                },
            },
        }
    }


def fire_and_forget_workflow(wait_seconds: int = 0, **trigger_extra: Any) -> dict[str, Any]:
    actions: dict[str, Any] = {"Compose": {"type": "Compose", "inputs": "@triggerOutputs()", "runAfter": {}}}
    if wait_seconds:
        actions["Wait"] = {
            "type": "Wait",
            "inputs": {"interval": {"count": wait_seconds, "unit": "Second"}},
            "runAfter": {"Compose": ["Succeeded"]},
        }
    trigger: dict[str, Any] = {"type": "Request", "kind": "Http", "inputs": {}}
    trigger.update(trigger_extra)
    return {"definition": {"triggers": {"manual": trigger}, "actions": actions}}


async def deploy(client: httpx.AsyncClient, name: str, document: dict[str, Any]) -> dict[str, Any]:
    answer = await client.put(f"/api/workflows/{name}", json=document, headers=AUTH)
    assert answer.status_code in (200, 201), answer.text
    result: dict[str, Any] = answer.json()
    return result


async def callback(client: httpx.AsyncClient, name: str, trigger: str = "manual") -> str:
    answer = await client.post(f"/api/workflows/{name}/triggers/{trigger}/listCallbackUrl", headers=AUTH)
    assert answer.status_code == 200, answer.text
    value: str = answer.json()["value"]
    return value


async def wait_for_status(client: httpx.AsyncClient, run_id: str, timeout: float = 10.0) -> dict[str, Any]:
    """Poll the run until it ends."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        answer = await client.get(f"/api/runs/{run_id}", headers=AUTH)
        view: dict[str, Any] = answer.json()
        if view.get("status") != "Running" or loop.time() > deadline:
            return view
        await asyncio.sleep(0.02)


async def run_count(client: httpx.AsyncClient) -> int:
    answer = await client.get("/api/runs?limit=1000", headers=AUTH)
    assert answer.status_code == 200, answer.text
    return len(answer.json()["value"])
