"""The front door app in process, in front of real stand-in locations over HTTP: where calls go, what
is retried on the other location and what never is, the epoch header, and its own health and status."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import httpx

from pairflow.frontdoor.config import FrontDoorConfig, Mode, Target
from pairflow.frontdoor.proxy import create_app
from tests.frontdoor.scripted_locations import FakeLocation, serving

CALL = (
    "/workflows/orders/triggers/manual/invoke"
    "?api-version=2022-05-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=abc"
)


@contextlib.asynccontextmanager
async def front_door(
    fakes: list[FakeLocation], mode: Mode = "active-passive", **settings: Any
) -> AsyncIterator[httpx.AsyncClient]:
    async with contextlib.AsyncExitStack() as stack:
        urls = [await stack.enter_async_context(serving(fake)) for fake in fakes]
        config = FrontDoorConfig(
            locations=tuple(Target(f.name, url) for f, url in zip(fakes, urls, strict=True)),
            modes={"orders": mode},
            probe_interval=settings.pop("probe_interval", 60.0),
            **settings,
        )
        app = create_app(config)
        await stack.enter_async_context(app.router.lifespan_context(app))
        transport = httpx.ASGITransport(app=app)
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://frontdoor.test", timeout=10)
        )
        yield client


def run(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(scenario())


def test_active_passive_calls_go_to_the_primary_with_path_query_and_body_unchanged() -> None:
    west, east = FakeLocation("west"), FakeLocation("east")

    async def scenario() -> None:
        async with front_door([west, east]) as client:
            for n in range(3):
                answer = await client.post(CALL, json={"n": n}, headers={"x-custom": "kept"})
                assert answer.status_code == 200
                assert answer.headers["x-pairflow-frontdoor-location"] == "west"
                assert answer.headers["x-ms-workflow-run-id"] == f"west-{n + 1}"
                assert answer.json()["servedBy"] == "west"

    run(scenario)
    assert east.calls == []
    first = west.calls[0]
    assert first["path"] == "/workflows/orders/triggers/manual/invoke"
    assert first["query"] == CALL.split("?", 1)[1]
    assert first["body"] == b'{"n":0}'
    assert first["headers"]["x-custom"] == "kept"
    assert "x-forwarded-for" in first["headers"]


def test_active_active_calls_alternate_evenly_between_locations() -> None:
    west, east = FakeLocation("west"), FakeLocation("east")

    async def scenario() -> None:
        async with front_door([west, east], mode="active-active") as client:
            served = [
                (await client.post(CALL, json={})).headers["x-pairflow-frontdoor-location"] for _ in range(10)
            ]
            assert served == ["west", "east"] * 5

    run(scenario)
    assert len(west.calls) == len(east.calls) == 5


def test_a_location_passive_answer_is_retried_on_the_other_location_and_remembered() -> None:
    west, east = FakeLocation("west", behaviour="passive"), FakeLocation("east")

    async def scenario() -> None:
        async with front_door([west, east]) as client:
            first = await client.post(CALL, json={"n": 1})
            assert first.status_code == 200
            assert first.headers["x-pairflow-frontdoor-location"] == "east"
            second = await client.post(CALL, json={"n": 2})
            assert second.headers["x-pairflow-frontdoor-location"] == "east"
            status = (await client.get("/frontdoor/status")).json()
            assert status["locations"][0]["passiveFor"] == ["orders"]

    run(scenario)
    assert len(west.calls) == 1  # the second call went straight to east
    assert [call["body"] for call in east.calls] == [b'{"n":1}', b'{"n":2}']


def test_a_location_that_accepts_then_hangs_gives_504_and_no_retry() -> None:
    west, east = FakeLocation("west", behaviour="hang"), FakeLocation("east")

    async def scenario() -> None:
        async with front_door([west, east], timeout=0.5) as client:
            answer = await client.post(CALL, json={})
            assert answer.status_code == 504
            assert answer.json()["error"]["code"] == "LocationTimeout"
            assert answer.headers["x-pairflow-frontdoor-location"] == "west"

    run(scenario)
    assert len(west.calls) == 1
    assert east.calls == []  # a run may exist in west: a second one must not be started in east


def test_refusals_that_may_follow_a_run_are_passed_on_not_retried() -> None:
    for behaviour, status in (("store-down", 503), ("lost-reply", 502)):
        west, east = FakeLocation("west", behaviour=behaviour), FakeLocation("east")

        async def scenario(
            expected: int = status, west: FakeLocation = west, east: FakeLocation = east
        ) -> None:
            async with front_door([west, east]) as client:
                answer = await client.post(CALL, json={})
                assert answer.status_code == expected
                assert answer.headers["x-pairflow-frontdoor-location"] == "west"

        run(scenario)
        assert east.calls == [], behaviour


def test_a_refused_connection_is_retried_on_the_other_location_and_marks_it_down() -> None:
    west, east = FakeLocation("west"), FakeLocation("east")

    async def scenario() -> None:
        async with contextlib.AsyncExitStack() as stack:
            west_url = await stack.enter_async_context(serving(west))
            async with serving(east) as east_url:
                config = FrontDoorConfig(
                    locations=(Target("west", west_url), Target("east", east_url)), probe_interval=60.0
                )
                app = create_app(config)
                async with app.router.lifespan_context(app):
                    await stack.aclose()  # west stops listening; the front door has not probed since
                    transport = httpx.ASGITransport(app=app)
                    async with httpx.AsyncClient(transport=transport, base_url="http://fd.test") as client:
                        answer = await client.post(CALL, json={})
                        assert answer.status_code == 200
                        assert answer.headers["x-pairflow-frontdoor-location"] == "east"
                        status = (await client.get("/frontdoor/status")).json()
                        assert [loc["healthy"] for loc in status["locations"]] == [False, True]

    run(scenario)
    assert len(east.calls) == 1


def test_the_highest_epoch_seen_is_forwarded_and_a_callers_epoch_is_dropped() -> None:
    west = FakeLocation("west", continuity={"active": True, "epoch": 3})
    east = FakeLocation("east", continuity={"active": False, "epoch": 5})

    async def scenario() -> None:
        async with front_door([west, east]) as client:
            answer = await client.post(CALL, json={}, headers={"x-pairflow-epoch": "999"})
            assert answer.headers["x-pairflow-frontdoor-location"] == "west"
            status = (await client.get("/frontdoor/status")).json()
            assert status["epoch"] == 5
            assert [(loc["active"], loc["epoch"]) for loc in status["locations"]] == [(True, 3), (False, 5)]

    run(scenario)
    assert west.calls[0]["headers"]["x-pairflow-epoch"] == "5"


def test_active_passive_follows_the_location_that_reports_itself_active() -> None:
    west = FakeLocation("west", continuity={"active": False, "epoch": 1})
    east = FakeLocation("east", continuity={"active": True, "epoch": 2})

    async def scenario() -> None:
        async with front_door([west, east]) as client:
            answer = await client.post(CALL, json={})
            assert answer.headers["x-pairflow-frontdoor-location"] == "east"

    run(scenario)
    assert west.calls == []


def test_without_a_healthy_location_calls_get_503_and_the_front_door_is_not_ready() -> None:
    west, east = FakeLocation("west", ready=503), FakeLocation("east", ready=503)

    async def scenario() -> None:
        async with front_door([west, east]) as client:
            answer = await client.post(CALL, json={})
            assert answer.status_code == 503
            assert answer.json()["error"]["code"] == "NoHealthyLocation"
            assert (await client.get("/health/ready")).status_code == 503
            assert (await client.get("/health/live")).status_code == 200

    run(scenario)
    assert west.calls == east.calls == []


def test_a_body_over_the_limit_is_refused_with_413_before_any_location_sees_it() -> None:
    west = FakeLocation("west")

    async def scenario() -> None:
        async with front_door([west], max_body_bytes=100) as client:
            answer = await client.post(CALL, content=b"x" * 101)
            assert answer.status_code == 413
            assert (await client.post(CALL, content=b"x" * 100)).status_code == 200
            assert (await client.get("/api/workflows")).status_code == 404

    run(scenario)
    assert len(west.calls) == 1
