"""`PUT /api/workflows/{name}/accessKey`: setting a workflow's access key explicitly, so that two
locations sign the same callback URL and one URL works behind a front door."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from pairflow.server.app import create_app
from pairflow.server.config import Settings
from tests.frontdoor.locations import ACCESS_KEY, ECHO_WORKFLOW

API_KEY = "access-key-test-0123456789"
AUTH = {"x-api-key": API_KEY}


def callback_urls_of_two_locations(tmp_path: Path, key: str | None) -> list[str]:
    urls: list[str] = []

    async def one(name: str) -> None:
        settings = Settings(store=str(tmp_path / f"{name}.db"), location=name, api_keys=(API_KEY,))
        app = create_app(settings, base_url="http://pairflow.test")
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://pairflow.test") as client:
                assert (await client.put("/api/workflows/echo", json=ECHO_WORKFLOW, headers=AUTH)).is_success
                if key is not None:
                    put = await client.put("/api/workflows/echo/accessKey", json={"key": key}, headers=AUTH)
                    assert put.status_code == 200, put.text
                listed = await client.post(
                    "/api/workflows/echo/triggers/manual/listCallbackUrl", headers=AUTH
                )
                url = listed.json()["value"]
                urls.append(url)
                fired = await client.post(url, json={"n": 1})
                assert fired.status_code == 200
                assert fired.json() == {"got": {"n": 1}}

    async def both() -> None:
        await one("west")
        await one("east")

    asyncio.run(both())
    return urls


def test_the_same_access_key_gives_the_same_signed_url_in_two_locations(tmp_path: Path) -> None:
    west, east = callback_urls_of_two_locations(tmp_path, ACCESS_KEY)
    assert west == east


def test_generated_access_keys_differ_between_locations(tmp_path: Path) -> None:
    west, east = callback_urls_of_two_locations(tmp_path, None)
    assert west != east


def test_an_access_key_that_is_too_short_or_not_a_string_is_refused(tmp_path: Path) -> None:
    settings = Settings(store=str(tmp_path / "p.db"), location="west", api_keys=(API_KEY,))
    app = create_app(settings, base_url="http://pairflow.test")

    async def scenario() -> None:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://pairflow.test") as client:
                await client.put("/api/workflows/echo", json=ECHO_WORKFLOW, headers=AUTH)
                url = "/api/workflows/echo/accessKey"
                short = await client.put(url, json={"key": "x" * 31}, headers=AUTH)
                assert short.status_code == 400
                assert short.json()["error"]["code"] == "InvalidAccessKey"
                assert "32-512 characters, got 31" in short.json()["error"]["message"]
                assert (await client.put(url, json={"key": 12345}, headers=AUTH)).status_code == 400
                assert (await client.put(url, json={"other": "x"}, headers=AUTH)).status_code == 400
                assert (await client.put(url, json={"key": "k" * 40})).status_code == 401
                missing = await client.put(
                    "/api/workflows/nope/accessKey", json={"key": "k" * 40}, headers=AUTH
                )
                assert missing.status_code == 404

    asyncio.run(scenario())
