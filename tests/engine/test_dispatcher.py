"""The dispatcher: per-workflow run concurrency, waiting-run admission, replies, stop and resume."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from pairflow.engine.clock import VirtualClock
from pairflow.engine.dispatcher import Dispatcher, RunReply, TooManyWaitingRunsError, run_limits
from pairflow.engine.runner import Engine
from pairflow.store import open_store
from pairflow.store.base import Store
from pairflow.store.records import RunRecord
from tests.engine.conftest import compose, deploy, wait


def limited(runs: int, waiting: int | None = None) -> dict[str, Any]:
    concurrency: dict[str, Any] = {"runs": runs}
    if waiting is not None:
        concurrency["maximumWaitingRuns"] = waiting
    return {"type": "Request", "kind": "Http", "runtimeConfiguration": {"concurrency": concurrency}}


def response(status: int, after: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {
        "type": "Response",
        "inputs": {"statusCode": status, "body": {"ok": True}},
        "runAfter": after or {},
    }


def committed(engine: Engine, workflow: str = "wf") -> RunRecord:
    run = engine.prepare_run(workflow, trigger_outputs={"body": None})
    engine.store.create_run(run)
    return run


def test_run_limits_read_the_trigger_concurrency() -> None:
    definition = {"triggers": {"manual": limited(3, 7)}}
    assert run_limits(definition).runs == 3
    assert run_limits(definition).waiting == 7
    assert run_limits({"triggers": {"manual": {"type": "Request"}}}).runs is None


def test_concurrency_runs_limits_executing_runs_and_queues_the_rest(store: Store) -> None:
    deploy(store, {"Pause": wait(10)}, trigger=limited(2))
    clock = VirtualClock()

    async def scenario() -> list[RunRecord]:
        engine = Engine(store, clock=clock, owner="a")
        dispatcher = Dispatcher(engine)
        submitted = [committed(engine) for _ in range(5)]
        for run in submitted:
            dispatcher.submit(run)
        assert dispatcher.executing_count("wf") == 2
        assert dispatcher.waiting_count("wf") == 3
        replies = await asyncio.gather(*(dispatcher.wait_reply(run.id, 3600) for run in submitted))
        assert {reply.status for reply in replies if reply is not None} == {"Succeeded"}
        await engine.aclose()
        return [record for run in submitted if (record := store.get_run(run.id)) is not None]

    ended = asyncio.run(scenario())
    # Two at a time, 10 s each: they end at 10, 10, 20, 20, 30 s.
    seconds = sorted(
        round((run.ended_at - ended[0].created_at).total_seconds()) for run in ended if run.ended_at
    )
    assert seconds == [10, 10, 20, 20, 30]


def test_a_leased_run_cancelled_while_it_waits_is_not_executed_and_holds_no_lease(store: Store) -> None:
    deploy(store, {"Pause": wait(10)}, trigger=limited(1))
    clock = VirtualClock()

    async def scenario() -> tuple[RunRecord | None, RunRecord | None]:
        engine = Engine(store, clock=clock, owner="a")
        dispatcher = Dispatcher(engine)
        first, second = (engine.prepare_run("wf", lease=True) for _ in range(2))
        for run in (first, second):
            store.create_run(run)
            dispatcher.submit(run)
        assert dispatcher.waiting_count("wf") == 1
        await engine.cancel(second.id)
        await dispatcher.wait_reply(first.id, 3600)
        for _ in range(20):
            await asyncio.sleep(0)
        await dispatcher.stop(grace=0)
        await engine.aclose()
        return store.get_run(first.id), store.get_run(second.id)

    first, second = asyncio.run(scenario())
    assert first is not None and first.status == "Succeeded"
    assert second is not None and (second.status, second.owner) == ("Cancelled", None)
    assert store.load_actions(second.id) == []


def test_check_admission_refuses_when_the_waiting_queue_is_full(store: Store) -> None:
    deploy(store, {"Pause": wait(10)}, trigger=limited(1, waiting=2))

    async def scenario() -> None:
        engine = Engine(store, clock=VirtualClock(), owner="a")
        dispatcher = Dispatcher(engine)
        dispatcher.check_admission("wf")  # nothing known yet: admitted
        for _ in range(3):
            dispatcher.check_admission("wf")
            dispatcher.submit(committed(engine))
        assert dispatcher.waiting_count("wf") == 2
        with pytest.raises(TooManyWaitingRunsError, match="maximumWaitingRuns is 2"):
            dispatcher.check_admission("wf")
        await dispatcher.stop(grace=0)
        await engine.aclose()

    asyncio.run(scenario())


def test_runs_admitted_and_still_committing_count_against_the_waiting_queue(store: Store) -> None:
    deploy(store, {"Pause": wait(10)}, trigger=limited(2, waiting=1))

    async def scenario() -> None:
        engine = Engine(store, clock=VirtualClock(), owner="a")
        dispatcher = Dispatcher(engine)
        dispatcher.submit(committed(engine))  # executing: one place left to execute, one to wait
        with dispatcher.admitting("wf"):  # will execute at once
            dispatcher.check_admission("wf")
            waits = dispatcher.admitting("wf")  # will wait
            with waits, pytest.raises(TooManyWaitingRunsError, match="1 runs are waiting"):
                dispatcher.check_admission("wf")
            dispatcher.check_admission("wf")  # the second one gave up its place
        dispatcher.check_admission("wf")
        await dispatcher.stop(grace=0)
        await engine.aclose()

    asyncio.run(scenario())


def test_wait_reply_resolves_when_the_response_commits_while_the_run_continues(store: Store) -> None:
    deploy(store, {"Reply": response(202), "After": wait(60, {"Reply": ["Succeeded"]})})
    clock = VirtualClock()

    async def scenario() -> tuple[RunReply | None, str, RunReply | None]:
        engine = Engine(store, clock=clock, owner="a")
        dispatcher = Dispatcher(engine)
        run = committed(engine)
        dispatcher.submit(run)
        reply = await dispatcher.wait_reply(run.id, 30)
        stored = store.get_run(run.id)
        assert stored is not None
        final = await dispatcher.wait_reply(run.id, 3600)
        await engine.aclose()
        return reply, stored.status, final

    reply, status_then, final = asyncio.run(scenario())
    assert reply == RunReply({"statusCode": 202, "headers": {}, "body": {"ok": True}}, "Running")
    assert status_then == "Running"
    # Asked after the run ended, the reply comes from the store.
    assert final is not None
    assert final.status == "Succeeded"
    assert final.response is not None
    assert final.response["statusCode"] == 202


def test_wait_reply_for_a_run_without_response_gives_its_final_status(store: Store) -> None:
    deploy(store, {"Fail": compose("@div(1, 0)")})

    async def scenario() -> RunReply | None:
        engine = Engine(store, clock=VirtualClock(), owner="a")
        dispatcher = Dispatcher(engine)
        run = committed(engine)
        dispatcher.submit(run)
        reply = await dispatcher.wait_reply(run.id, 30)
        await engine.aclose()
        return reply

    assert asyncio.run(scenario()) == RunReply(None, "Failed")


def test_wait_reply_gives_none_after_the_timeout(store: Store) -> None:
    deploy(store, {"Pause": wait(100), "Reply": response(200, {"Pause": ["Succeeded"]})})

    async def scenario() -> RunReply | None:
        engine = Engine(store, clock=VirtualClock(), owner="a")
        dispatcher = Dispatcher(engine)
        run = committed(engine)
        dispatcher.submit(run)
        reply = await dispatcher.wait_reply(run.id, 5)
        await dispatcher.stop(grace=0)
        await engine.aclose()
        return reply

    assert asyncio.run(scenario()) is None


def test_stop_leaves_unfinished_runs_running_and_the_next_start_resumes_them(store_url: str) -> None:
    first_store = open_store(store_url)
    deploy(first_store, {"Before": compose(1), "Pause": wait(3600, {"Before": ["Succeeded"]})})
    clock = VirtualClock()

    async def first() -> str:
        engine = Engine(first_store, clock=clock, owner="first")
        dispatcher = Dispatcher(engine)
        await dispatcher.start()
        run = committed(engine)
        dispatcher.submit(run)
        await dispatcher.wait_reply(run.id, 60)  # the run is in its hour-long wait by now
        await dispatcher.stop(grace=0.5)
        dispatcher.submit(committed(engine))  # after stop: committed, not started
        await engine.aclose()
        return run.id

    run_id = asyncio.run(first())
    stopped = first_store.get_run(run_id)
    assert stopped is not None
    assert stopped.status == "Running"
    assert {a.name: a.status for a in first_store.load_actions(run_id)} == {
        "Before": "Succeeded",
        "Pause": "Running",
    }
    first_store.close()

    second_store = open_store(store_url)

    async def second() -> list[RunRecord]:
        engine = Engine(second_store, clock=clock, owner="second")
        dispatcher = Dispatcher(engine)
        await dispatcher.start()
        unfinished = second_store.unfinished_runs()
        assert len(unfinished) == 2
        for run in unfinished:
            await dispatcher.wait_reply(run.id, 7200)
        await engine.aclose()
        return [record for run in unfinished if (record := second_store.get_run(run.id)) is not None]

    resumed = asyncio.run(second())
    assert [run.status for run in resumed] == ["Succeeded", "Succeeded"]
    actions = {a.name: a for a in second_store.load_actions(run_id)}
    assert actions["Before"].attempts == 1  # committed before the stop: not executed again
    assert actions["Pause"].attempts == 2
    second_store.close()
