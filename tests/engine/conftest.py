"""Shared helpers: deploy a tiny definition into a real store (each backend: `store_url` in
tests/conftest.py) and run it on a virtual clock."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from pairflow.engine.clock import VirtualClock
from pairflow.engine.runner import Engine
from pairflow.store import open_store
from pairflow.store.base import Store
from pairflow.store.records import ActionRecord, RunRecord

DEPLOYED_AT = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    yield opened
    opened.close()


def deploy(
    store: Store,
    actions: dict[str, Any],
    *,
    name: str = "wf",
    outputs: dict[str, Any] | None = None,
    parameters: dict[str, Any] | None = None,
    values: dict[str, Any] | None = None,
    trigger: dict[str, Any] | None = None,
) -> str:
    definition = {
        "triggers": {"manual": trigger or {"type": "Request", "kind": "Http"}},
        "actions": actions,
        "outputs": outputs or {},
        "parameters": parameters or {},
    }
    store.put_workflow(name, definition, values or {}, DEPLOYED_AT)
    return name


@dataclass
class Finished:
    run: RunRecord
    actions: dict[tuple[str, str], ActionRecord]
    clock: VirtualClock

    def status(self, name: str, repetition: str = "") -> str:
        return self.actions[(name, repetition)].status

    def outputs(self, name: str, repetition: str = "") -> Any:
        return self.actions[(name, repetition)].outputs

    @property
    def seconds(self) -> float:
        assert self.run.ended_at is not None
        return (self.run.ended_at - self.run.created_at).total_seconds()


def run_workflow(store: Store, actions: dict[str, Any], **options: Any) -> Finished:
    start: dict[str, Any] = {}
    if "trigger_outputs" in options:
        start["trigger_outputs"] = options.pop("trigger_outputs")
    name = deploy(store, actions, **options)
    clock = VirtualClock()

    async def go() -> RunRecord:
        engine = Engine(store, clock=clock, owner="engine-under-test")
        try:
            return await engine.run(name, **start)
        finally:
            await engine.aclose()

    record = asyncio.run(go())
    return Finished(record, {a.key: a for a in store.load_actions(record.id)}, clock)


def compose(value: Any, after: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"type": "Compose", "inputs": value, "runAfter": after or {}}


def wait(seconds: int, after: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {
        "type": "Wait",
        "inputs": {"interval": {"count": seconds, "unit": "Second"}},
        "runAfter": after or {},
    }


FAIL = compose("@div(1, 0)")
