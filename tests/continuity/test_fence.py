"""The engine's fence: runs carry the epoch they were created under, and a run whose epoch is older
than the location's stops before its next action once the location is no longer active."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pairflow.engine.runner import Engine, RunFencedError
from pairflow.store.records import RunRecord
from pairflow.store.sqlite import SqliteStore

DEPLOYED_AT = datetime(2024, 1, 1, tzinfo=UTC)


class Fence:
    def __init__(self, epoch: int) -> None:
        self.epoch = epoch
        self.active = True

    def allows(self, run: RunRecord) -> bool:
        return self.active or run.epoch >= self.epoch


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    opened = SqliteStore(tmp_path / "f.db")
    yield opened
    opened.close()


def _deploy(store: SqliteStore) -> None:
    definition = {
        "triggers": {"manual": {"type": "Request", "kind": "Http"}},
        "actions": {
            "First": {"type": "Compose", "inputs": 1, "runAfter": {}},
            "Second": {"type": "Compose", "inputs": 2, "runAfter": {"First": ["Succeeded"]}},
        },
    }
    store.put_workflow("wf", definition, {}, DEPLOYED_AT)


def test_a_new_run_carries_the_locations_epoch(store: SqliteStore) -> None:
    _deploy(store)
    engine = Engine(store)
    engine.fence = Fence(7)
    assert engine.prepare_run("wf").epoch == 7


def test_a_run_of_an_older_epoch_starts_no_action_once_the_location_stepped_down(store: SqliteStore) -> None:
    _deploy(store)
    engine = Engine(store)
    fence = Fence(1)
    engine.fence = fence
    run = engine.prepare_run("wf")
    store.create_run(run)
    fence.epoch, fence.active = 2, False
    with pytest.raises(RunFencedError):
        asyncio.run(engine.execute(run.id))
    assert store.get_run(run.id).status == "Running"  # type: ignore[union-attr]
    assert store.load_actions(run.id) == []
    fence.active = True  # deliberately active again: the run continues
    ended = asyncio.run(engine.execute(run.id))
    assert ended.status == "Succeeded"
