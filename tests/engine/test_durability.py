"""Resuming after a crash, leases, cancelling, and the run view's redaction."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from datetime import timedelta

import pytest

from pairflow.engine.clock import VirtualClock
from pairflow.engine.runner import Engine, RunLeasedError
from pairflow.engine.view import REDACTED, run_view
from pairflow.store.base import Store
from pairflow.store.records import ActionRecord, RunRecord, RunUpdate
from tests.engine.conftest import compose, deploy, wait


def _start(store: Store, name: str, clock: VirtualClock) -> str:
    async def go() -> str:
        engine = Engine(store, clock=clock, owner="starter")
        try:
            return (await engine.start_run(name)).id
        finally:
            await engine.aclose()

    return asyncio.run(go())


def _execute(store: Store, run_id: str, clock: VirtualClock, owner: str = "resumer") -> RunRecord:
    async def go() -> RunRecord:
        engine = Engine(store, clock=clock, owner=owner)
        try:
            return await engine.execute(run_id)
        finally:
            await engine.aclose()

    return asyncio.run(go())


def test_resume_keeps_succeeded_actions_and_reruns_the_running_one(store: Store) -> None:
    name = deploy(store, {"First": compose("fresh"), "Second": wait(1, {"First": ["Succeeded"]})})
    clock = VirtualClock()
    run_id = _start(store, name, clock)
    now = clock.now()
    store.commit(
        [
            RunUpdate(
                run_id,
                actions=[
                    ActionRecord(
                        run_id,
                        "First",
                        "",
                        "Succeeded",
                        attempts=1,
                        outputs="committed",
                        start_time=now,
                        end_time=now,
                    ),
                    ActionRecord(run_id, "Second", "", "Running", attempts=1, start_time=now),
                ],
            )
        ]
    )
    ended = _execute(store, run_id, clock)
    records = {a.key: a for a in store.load_actions(run_id)}
    assert ended.status == "Succeeded"
    assert records[("First", "")].outputs == "committed"
    assert records[("First", "")].attempts == 1
    assert records[("Second", "")].attempts == 2
    assert records[("Second", "")].status == "Succeeded"


def test_running_state_is_committed_before_a_slow_action_runs(store: Store) -> None:
    name = deploy(store, {"Slow": wait(10)})
    clock = VirtualClock()
    run_id = _start(store, name, clock)

    async def go() -> list[str]:
        engine = Engine(store, clock=clock, owner="watcher")
        task = asyncio.create_task(engine.execute(run_id))
        seen: list[str] = []
        for _ in range(50):
            await asyncio.sleep(0)
            seen += [a.status for a in store.load_actions(run_id)]
        await task
        await engine.aclose()
        return seen

    assert "Running" in asyncio.run(go())


def test_second_engine_cannot_execute_a_run_leased_by_a_live_owner(store: Store) -> None:
    name = deploy(store, {"A": compose(1)})
    clock = VirtualClock()
    run_id = _start(store, name, clock)
    live = f"{os.getpid()}@{socket.gethostname()}"
    assert store.acquire_run(run_id, live, clock.now(), clock.now() + timedelta(hours=1))
    with pytest.raises(RunLeasedError):
        _execute(store, run_id, clock, owner="someone-else")


def test_run_leased_by_a_dead_process_is_taken_over(store: Store) -> None:
    name = deploy(store, {"A": compose(1)})
    clock = VirtualClock()
    run_id = _start(store, name, clock)
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    dead = f"{child.stdout.strip()}@{socket.gethostname()}"
    assert store.acquire_run(run_id, dead, clock.now(), clock.now() + timedelta(hours=1))
    assert _execute(store, run_id, clock).status == "Succeeded"


def test_cancel_stops_a_running_run(store: Store) -> None:
    name = deploy(store, {"Long": wait(3600), "After": compose(1, {"Long": ["Succeeded"]})})
    clock = VirtualClock()

    async def go() -> RunRecord:
        engine = Engine(store, clock=clock, owner="canceller")
        record = await engine.start_run(name)
        task = asyncio.create_task(engine.execute(record.id))
        for _ in range(20):
            await asyncio.sleep(0)
        await engine.cancel(record.id)
        ended = await task
        await engine.aclose()
        return ended

    ended = asyncio.run(go())
    assert ended.status == "Cancelled"
    statuses = {a.name: a.status for a in store.load_actions(ended.id)}
    assert statuses == {"Long": "Cancelled"}


def test_view_redacts_secure_data_and_secret_parameter_values(store: Store) -> None:
    name = deploy(
        store,
        {
            "Use_secret": compose("token=@{parameters('apiKey')}"),
            "Hidden": {
                "type": "Compose",
                "inputs": "plain",
                "runtimeConfiguration": {"secureData": {"properties": ["inputs", "outputs"]}},
            },
            "Loop": {
                "type": "Foreach",
                "foreach": "@createArray(1, 2)",
                "actions": {"Each": compose("@item()")},
            },
        },
        parameters={"apiKey": {"type": "SecureString"}},
        values={"apiKey": "s3cr3t-value"},
        outputs={"key": {"type": "SecureString", "value": "@parameters('apiKey')"}},
    )
    clock = VirtualClock()
    run_id = _start(store, name, clock)
    _execute(store, run_id, clock)
    view = run_view(store, run_id)
    assert "s3cr3t-value" not in repr(view)
    assert view["status"] == "Succeeded"
    assert view["actions"]["Use_secret"]["outputs"] == f"token={REDACTED}"
    assert view["actions"]["Hidden"]["inputs"] == REDACTED
    assert view["actions"]["Hidden"]["outputs"] == REDACTED
    assert view["outputs"] == {"key": REDACTED}
    repetitions = view["actions"]["Loop"]["actions"]["Each"]["repetitions"]
    assert [r["outputs"] for r in repetitions] == [1, 2]
    assert repetitions[1]["indexes"] == {"Loop": 1}
