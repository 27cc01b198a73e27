"""The HttpWebhook trigger: subscribe on arm, unsubscribe on disarm, never doubled by a restart."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pairflow.engine.clock import VirtualClock
from tests.triggers.conftest import Location, Reply, ScriptedServer, Seen, deploy, until

CALLBACK = "http://pairflow.test/wf/tick/invoke"


def webhook(url: str, tag: str = "v1") -> dict[str, Any]:
    return {
        "type": "HttpWebhook",
        "inputs": {
            "subscribe": {
                "method": "POST",
                "uri": f"{url}/subscribe",
                "body": {"callback": "@{listCallbackUrl()}", "tag": tag},
            },
            "unsubscribe": {
                "method": "POST",
                "uri": f"{url}/unsubscribe",
                "body": {"callback": "@listCallbackUrl()"},
            },
        },
    }


def calls(server: ScriptedServer) -> list[tuple[str, Any]]:
    return [(request.path, request.body) for request in server.seen]


def test_webhook_subscribes_once_across_restarts_and_unsubscribes_when_disabled(
    db: Path, clock: VirtualClock, server_factory: Callable[[Callable[[Seen], Reply]], ScriptedServer]
) -> None:
    server = server_factory(lambda request: (200, {}, {"id": "sub-1"}))

    async def scenario() -> None:
        first = await Location(db, clock).start()
        deploy(first.store, webhook(server.url))
        await first.service.workflow_changed("wf")
        await until(lambda: "subscription" in first.service.export_state("wf", "tick"))
        state = first.service.export_state("wf", "tick")
        await first.stop()
        assert len(server.seen) == 1
        assert state["subscription"]["callbackUrl"] == CALLBACK
        assert state["subscription"]["response"]["body"] == {"id": "sub-1"}

        second = await Location(db, clock).start()
        await asyncio.sleep(0.1)
        assert second.service.status()["armed"] == 1
        assert len(server.seen) == 1  # the recorded subscription is not made again
        second.store.set_workflow_enabled("wf", False)
        await second.service.workflow_changed("wf")
        after = second.service.export_state("wf", "tick")
        await second.stop()
        assert calls(server) == [
            ("/subscribe", {"callback": CALLBACK, "tag": "v1"}),
            ("/unsubscribe", {"callback": CALLBACK}),
        ]
        assert "subscription" not in after

    asyncio.run(scenario())


def test_a_new_version_unsubscribes_the_old_subscription_before_subscribing(
    db: Path, clock: VirtualClock, server_factory: Callable[[Callable[[Seen], Reply]], ScriptedServer]
) -> None:
    server = server_factory(lambda request: (200, {}, None))

    async def scenario() -> None:
        location = await Location(db, clock).start()
        deploy(location.store, webhook(server.url, "v1"))
        await location.service.workflow_changed("wf")
        await until(lambda: len(server.seen) == 1)
        deploy(location.store, webhook(server.url, "v2"))
        await location.service.workflow_changed("wf")
        await until(lambda: len(server.seen) == 3)

        # the server sees the subscribe call before its answer is recorded in the trigger state
        def subscribed_version() -> object:
            return (location.service.export_state("wf", "tick").get("subscription") or {}).get("version")

        await until(lambda: subscribed_version() == 2)
        state = location.service.export_state("wf", "tick")
        location.store.delete_workflow("wf")
        await location.service.workflow_changed("wf")
        await location.stop()
        assert [(path, (body or {}).get("tag")) for path, body in calls(server)] == [
            ("/subscribe", "v1"),
            ("/unsubscribe", None),
            ("/subscribe", "v2"),
            ("/unsubscribe", None),
        ]
        assert state["subscription"]["version"] == 2

    asyncio.run(scenario())


def test_a_failed_subscription_is_a_failed_event_and_is_retried(
    db: Path, clock: VirtualClock, server_factory: Callable[[Callable[[Seen], Reply]], ScriptedServer]
) -> None:
    server = server_factory(lambda request: (503, {}, None) if len(server.seen) == 1 else (200, {}, None))

    async def scenario() -> None:
        location = await Location(db, clock).start()
        deploy(location.store, webhook(server.url))
        await location.service.workflow_changed("wf")
        await until(lambda: "subscription" in location.service.export_state("wf", "tick"))
        events = location.store.list_trigger_history("wf")
        await location.stop()
        assert [event.status for event in events] == ["Failed"]
        assert len(server.seen) == 2

    asyncio.run(scenario())


def test_a_passive_location_does_not_subscribe(
    db: Path, clock: VirtualClock, server_factory: Callable[[Callable[[Seen], Reply]], ScriptedServer]
) -> None:
    server = server_factory(lambda request: (200, {}, None))

    async def scenario() -> None:
        location = await Location(db, clock, is_active=lambda workflow: False).start()
        deploy(location.store, webhook(server.url))
        await location.service.workflow_changed("wf")
        await asyncio.sleep(0.1)
        await location.stop()
        assert server.seen == []

    asyncio.run(scenario())
