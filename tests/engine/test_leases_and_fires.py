"""The serving hot path of the engine: runs created already leased, leases released by a run's last
commit, and trigger fires of one event-loop turn sharing one store transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path

import pytest

from pairflow.engine.clock import VirtualClock
from pairflow.engine.runner import Engine, RunLeasedError, ordered_id
from pairflow.errors import StoreError
from pairflow.store.base import Store
from pairflow.store.records import RunRecord, TriggerEvent, TriggerFire
from pairflow.store.sqlite import SqliteStore
from tests.engine.conftest import compose, deploy, wait


class CountingStore(SqliteStore):
    """A real SQLite store that also counts the lease and fire calls made to it."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.acquired = 0
        self.released = 0
        self.fire_batches: list[int] = []

    def acquire_run(self, *args: object, **kwargs: object) -> bool:
        self.acquired += 1
        return super().acquire_run(*args, **kwargs)  # type: ignore[arg-type]

    def release_run(self, run_id: str, owner: str) -> None:
        self.released += 1
        super().release_run(run_id, owner)

    def fire_triggers(self, fires: Sequence[TriggerFire]) -> list[bool]:
        self.fire_batches.append(len(fires))
        return super().fire_triggers(fires)


@pytest.fixture
def counting(tmp_path: Path) -> Iterator[CountingStore]:
    opened = CountingStore(tmp_path / "counting.db")
    yield opened
    opened.close()


def lease_of(store: Store, run_id: str) -> tuple[str | None, object]:
    run = store.get_run(run_id)
    assert run is not None
    return run.owner, run.lease_until


def fire_for(run: RunRecord, key: str | None = None) -> TriggerFire:
    event = TriggerEvent(
        id=ordered_id(),
        workflow=run.workflow,
        trigger="manual",
        status="Succeeded",
        fired_at=run.created_at,
        run_ids=(run.id,),
    )
    return TriggerFire(event=event, runs=[run], occurrence_key=key)


# -- created leased, released by the last commit ---------------------------------------------------------


def test_a_run_created_leased_is_stored_leased_and_executes_without_acquiring(
    counting: CountingStore,
) -> None:
    deploy(counting, {"A": compose(1)})
    clock = VirtualClock()

    async def go() -> RunRecord:
        engine = Engine(counting, clock=clock, owner="me")
        run = engine.prepare_run("wf", lease=True)
        counting.create_run(run)
        assert lease_of(counting, run.id) == ("me", clock.now() + timedelta(seconds=engine.lease_seconds))
        ended = await engine._execute(run, fresh=True)
        await engine.aclose()
        return ended

    ended = asyncio.run(go())
    assert ended.status == "Succeeded"
    assert counting.acquired == 0


def test_the_last_commit_releases_the_lease_with_no_separate_release(counting: CountingStore) -> None:
    deploy(counting, {"A": compose(1), "B": compose(2, {"A": ["Succeeded"]})})

    async def go() -> RunRecord:
        engine = Engine(counting, clock=VirtualClock(), owner="me")
        ended = await engine.run("wf")
        await engine.aclose()
        return ended

    ended = asyncio.run(go())
    assert lease_of(counting, ended.id) == (None, None)
    assert (counting.acquired, counting.released) == (0, 0)
    assert counting.renew_leases("me", ended.created_at + timedelta(hours=1)) == 0


def test_a_finished_run_is_not_executed_again_by_another_engine(counting: CountingStore) -> None:
    deploy(counting, {"A": compose(1)})

    async def go() -> tuple[RunRecord, RunRecord]:
        first = Engine(counting, clock=VirtualClock(), owner="first")
        ended = await first.run("wf")
        second = Engine(counting, clock=VirtualClock(), owner="second")
        again = await second.execute(ended.id)
        return ended, again

    ended, again = asyncio.run(go())
    assert again == ended
    assert lease_of(counting, ended.id) == (None, None)


def test_an_unfinished_run_stopped_midway_is_released_for_another_engine(counting: CountingStore) -> None:
    deploy(counting, {"Long": wait(3600), "After": compose(1, {"Long": ["Succeeded"]})})
    clock = VirtualClock()

    async def go() -> str:
        engine = Engine(counting, clock=clock, owner="stopping")
        run = engine.prepare_run("wf", lease=True)
        counting.create_run(run)
        task = asyncio.create_task(engine._execute(run, fresh=True))
        for _ in range(20):
            await asyncio.sleep(0)
        task.cancel()  # as the dispatcher does after its grace period
        with pytest.raises(asyncio.CancelledError):
            await task
        await engine.aclose()
        return run.id

    run_id = asyncio.run(go())
    stored = counting.get_run(run_id)
    assert stored is not None and stored.status == "Running"
    assert lease_of(counting, run_id) == (None, None)
    assert counting.acquire_run(run_id, "other", clock.now(), clock.now() + timedelta(seconds=15))


def test_a_leased_run_whose_lease_lapsed_and_was_taken_does_not_execute_here(counting: CountingStore) -> None:
    deploy(counting, {"A": compose(1)})
    clock = VirtualClock()

    async def go() -> None:
        engine = Engine(counting, clock=clock, owner="slow")
        run = engine.prepare_run("wf", lease=True)
        counting.create_run(run)
        clock.advance(engine.lease_seconds + 1)
        assert counting.acquire_run(run.id, "other", clock.now(), clock.now() + timedelta(seconds=15))
        with pytest.raises(RunLeasedError):
            await engine._execute(run, fresh=True)
        await engine.aclose()

    asyncio.run(go())
    assert counting.load_actions(counting.list_runs()[0].id) == []


# -- fires sharing a transaction -------------------------------------------------------------------------


def test_fires_of_one_event_loop_turn_share_one_transaction(counting: CountingStore) -> None:
    deploy(counting, {"A": compose(1)})

    async def go() -> tuple[list[RunRecord], list[bool]]:
        engine = Engine(counting, clock=VirtualClock(), owner="me")
        runs = [engine.prepare_run("wf") for _ in range(3)]
        fires = [fire_for(runs[0], key="k"), fire_for(runs[1], key="k"), fire_for(runs[2])]
        fired = await asyncio.gather(*(engine.fire(fire) for fire in fires))
        return runs, list(fired)

    runs, fired = asyncio.run(go())
    assert fired == [True, False, True]  # the repeated occurrence key drops only its own fire
    assert counting.fire_batches == [3]
    assert sorted(run.id for run in counting.list_runs()) == sorted([runs[0].id, runs[2].id])


def test_a_refused_fire_fails_alone_and_the_others_of_its_turn_are_written(counting: CountingStore) -> None:
    deploy(counting, {"A": compose(1)})

    async def go() -> tuple[list[RunRecord], list[bool | BaseException]]:
        engine = Engine(counting, clock=VirtualClock(), owner="me")
        runs = [engine.prepare_run("wf") for _ in range(3)]
        runs[1].variables = {"bad": float("nan")}  # not JSON: the store refuses it
        fired = await asyncio.gather(*(engine.fire(fire_for(run)) for run in runs), return_exceptions=True)
        return runs, list(fired)

    runs, fired = asyncio.run(go())
    assert fired[0] is True and fired[2] is True
    assert isinstance(fired[1], StoreError)
    assert sorted(run.id for run in counting.list_runs()) == sorted([runs[0].id, runs[2].id])


def test_ordered_ids_sort_by_creation_and_do_not_repeat() -> None:
    ids = [ordered_id() for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert all(len(value) == 32 and int(value, 16) >= 0 for value in ids)
    assert ids[0] < ids[-1]
