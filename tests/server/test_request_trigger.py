"""The trigger endpoint: signed invocations become committed runs; every refusal writes nothing."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import httpx

from pairflow.server.config import Settings
from tests.server.conftest import (
    AUTH,
    callback,
    deploy,
    fire_and_forget_workflow,
    make_settings,
    request_response_workflow,
    run_count,
    serve,
    wait_for_status,
)


def test_request_with_response_action_answers_with_its_status_headers_and_json_body(
    settings: Settings,
) -> None:
    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        await deploy(client, "echo", request_response_workflow(status=201))
        url = await callback(client, "echo")
        answer = await client.post(url, json={"name": "Ada"})
        assert answer.status_code == 201
        assert answer.headers["content-type"].startswith("application/json")
        assert answer.json() == {"got": {"name": "Ada"}}
        run_id = answer.headers["x-ms-workflow-run-id"]
        view = await wait_for_status(client, run_id)
        assert view["status"] == "Succeeded"
        assert view["trigger"]["outputs"]["body"] == {"name": "Ada"}

    serve(settings, scenario)


def test_request_without_response_action_is_accepted_with_run_id_and_status_location(
    settings: Settings,
) -> None:
    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        await deploy(client, "fire", fire_and_forget_workflow())
        url = await callback(client, "fire")
        answer = await client.post(url + "&extra=1", json={"n": 1}, headers={"x-custom": "yes"})
        assert answer.status_code == 202
        run_id = answer.headers["x-ms-workflow-run-id"]
        assert answer.json() == {"runId": run_id, "status": "Running"}
        assert answer.headers["location"].endswith(f"/api/runs/{run_id}")
        view = await wait_for_status(client, run_id)
        assert view["status"] == "Succeeded"
        outputs = view["actions"]["Compose"]["outputs"]
        assert outputs["body"] == {"n": 1}
        assert outputs["headers"]["x-custom"] == "yes"
        assert outputs["queries"]["extra"] == "1"
        assert "sig" not in outputs["queries"]

    serve(settings, scenario)


def test_relative_path_parameters_reach_trigger_outputs(settings: Settings) -> None:
    document = fire_and_forget_workflow()
    document["definition"]["triggers"]["manual"]["inputs"] = {
        "method": "GET",
        "relativePath": "customers/{id}/orders/{order}",
    }

    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        await deploy(client, "paths", document)
        listed = (
            await client.post("/api/workflows/paths/triggers/manual/listCallbackUrl", headers=AUTH)
        ).json()
        assert listed["method"] == "GET"
        assert listed["relativePath"] == "customers/{id}/orders/{order}"
        assert listed["relativePathParameters"] == ["id", "order"]
        parts = urlsplit(listed["value"])
        url = urlunsplit(parts._replace(path=parts.path + "/customers/42/orders/x-7"))
        answer = await client.get(url)
        assert answer.status_code == 202, answer.text
        view = await wait_for_status(client, answer.headers["x-ms-workflow-run-id"])
        assert view["actions"]["Compose"]["outputs"]["relativePathParameters"] == {"id": "42", "order": "x-7"}
        wrong = urlunsplit(parts._replace(path=parts.path + "/suppliers/42"))
        refused = await client.get(wrong)
        assert refused.status_code == 404
        assert refused.json()["error"]["code"] == "WorkflowTriggerPathNotFound"

    serve(settings, scenario)


def test_list_callback_url_has_logic_apps_shape(settings: Settings) -> None:
    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        await deploy(client, "echo", request_response_workflow())
        listed = (
            await client.post("/api/workflows/echo/triggers/manual/listCallbackUrl", headers=AUTH)
        ).json()
        assert listed["method"] == "POST"
        assert listed["basePath"] == "http://pairflow.test/workflows/echo/triggers/manual/invoke"
        queries = listed["queries"]
        assert queries["api-version"] == "2022-05-01"
        assert queries["sp"] == "/triggers/manual/run"
        assert queries["sv"] == "1.0"
        parsed = parse_qs(urlsplit(listed["value"]).query)
        assert parsed["sig"] == [queries["sig"]]
        assert parsed["sp"] == ["/triggers/manual/run"]

    serve(settings, scenario)


def test_body_failing_the_trigger_schema_is_refused_with_every_detail(settings: Settings) -> None:
    document = fire_and_forget_workflow()
    document["definition"]["triggers"]["manual"]["inputs"] = {
        "schema": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
            "required": ["name"],
        }
    }

    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        await deploy(client, "typed", document)
        url = await callback(client, "typed")
        answer = await client.post(url, json={"age": "old"})
        assert answer.status_code == 400
        error = answer.json()["error"]
        assert error["code"] == "TriggerInputSchemaMismatch"
        pointers = {detail["pointer"] for detail in error["details"]}
        assert pointers == {"/", "/age"}
        assert await run_count(client) == 0
        accepted = await client.post(url, json={"name": "Ada", "age": 3})
        assert accepted.status_code == 202

    serve(settings, scenario)


def test_every_refused_invocation_writes_nothing(tmp_path: Any) -> None:
    settings = make_settings(tmp_path, max_body_bytes=1000)
    limited = fire_and_forget_workflow(
        wait_seconds=2, runtimeConfiguration={"concurrency": {"runs": 1, "maximumWaitingRuns": 0}}
    )
    strict = fire_and_forget_workflow()
    strict["definition"]["triggers"]["manual"]["inputs"] = {"method": "PUT"}

    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        await deploy(client, "strict", strict)
        await deploy(client, "limited", limited)
        await deploy(client, "off", fire_and_forget_workflow())
        url = await callback(client, "strict")
        off_url = await callback(client, "off")
        await client.post("/api/workflows/off/disable", headers=AUTH)
        base = url.partition("?")[0]
        tampered = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")

        async def big_stream() -> Any:
            for _ in range(10):
                yield b"x" * 200

        refusals: list[tuple[httpx.Response, int, str]] = [
            (await client.put(url.replace("/strict/", "/nosuch/"), json={}), 404, "WorkflowNotFound"),
            (await client.put(url.replace("/manual/", "/other/"), json={}), 404, "WorkflowTriggerNotFound"),
            (
                await client.put(base + "?api-version=2022-05-01", json={}),
                401,
                "DirectApiAuthorizationRequired",
            ),
            (await client.put(tampered, json={}), 401, "DirectApiInvalidAuthorizationSignature"),
            (await client.post(off_url, json={}), 409, "WorkflowDisabled"),
            (await client.post(url, json={}), 405, "TriggerRequestMethodNotValid"),
            (await client.put(url, content=b"x" * 2000), 413, "RequestEntityTooLarge"),
            (await client.put(url, content=big_stream()), 413, "RequestEntityTooLarge"),
            (
                await client.put(url, content=b"{not json", headers={"content-type": "application/json"}),
                400,
                "InvalidRequestContent",
            ),
        ]
        for answer, status, code in refusals:
            assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), answer.text
        assert await run_count(client) == 0

        limited_url = await callback(client, "limited")
        first = await client.post(limited_url, json={})
        assert first.status_code == 202
        throttled = await client.post(limited_url, json={})
        assert throttled.status_code == 429
        assert throttled.json()["error"]["code"] == "WorkflowRunsThrottled"
        assert await run_count(client) == 1

    serve(settings, scenario)


def test_regenerated_access_key_makes_old_callback_url_unauthorized(settings: Settings) -> None:
    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        await deploy(client, "fire", fire_and_forget_workflow())
        old = await callback(client, "fire")
        assert (await client.post(old, json={})).status_code == 202
        regenerated = await client.post("/api/workflows/fire/regenerateAccessKey", headers=AUTH)
        assert regenerated.status_code == 200
        refused = await client.post(old, json={})
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "DirectApiInvalidAuthorizationSignature"
        new = await callback(client, "fire")
        assert new != old
        assert (await client.post(new, json={})).status_code == 202

    serve(settings, scenario)


def test_response_not_reached_in_time_answers_504_and_the_run_goes_on(tmp_path: Any) -> None:
    settings = make_settings(tmp_path, response_timeout=0.3)
    document = request_response_workflow()
    actions = document["definition"]["actions"]
    actions["Wait"] = {"type": "Wait", "inputs": {"interval": {"count": 1, "unit": "Second"}}, "runAfter": {}}
    actions["Compose"]["runAfter"] = {"Wait": ["Succeeded"]}

    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        await deploy(client, "slow", document)
        url = await callback(client, "slow")
        answer = await client.post(url, json={"a": 1})
        assert answer.status_code == 504
        assert answer.json()["error"]["code"] == "ActionResponseTimedOut"
        run_id = answer.headers["x-ms-workflow-run-id"]
        view = await wait_for_status(client, run_id)
        assert view["status"] == "Succeeded"

    serve(settings, scenario)


def test_run_is_committed_before_the_caller_is_answered(settings: Settings) -> None:
    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        await deploy(client, "fire", fire_and_forget_workflow(wait_seconds=1))
        url = await callback(client, "fire")
        answer = await client.post(url, json={})
        run = app.state.location.store.get_run(answer.headers["x-ms-workflow-run-id"])
        assert run is not None
        history = await client.get("/api/workflows/fire/triggers/manual/history", headers=AUTH)
        assert history.json()["value"][0]["runIds"] == [run.id]

    serve(settings, scenario)


def test_concurrent_calls_each_get_their_own_reply_from_a_released_committed_run(settings: Settings) -> None:
    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        await deploy(client, "echo", request_response_workflow())
        url = await callback(client, "echo")
        answers = await asyncio.gather(*(client.post(url, json={"n": n}) for n in range(8)))
        assert [answer.json() for answer in answers] == [{"got": {"n": n}} for n in range(8)]
        store = app.state.location.store
        for answer in answers:
            run = store.get_run(answer.headers["x-ms-workflow-run-id"])
            assert run is not None and (run.status, run.owner, run.lease_until) == ("Succeeded", None, None)
        history = await client.get("/api/workflows/echo/triggers/manual/history", headers=AUTH)
        assert len(history.json()["value"]) == 8

    serve(settings, scenario)


def test_concurrent_calls_execute_up_to_the_limit_queue_up_to_the_waiting_limit_and_refuse_the_rest(
    tmp_path: Any,
) -> None:
    # runs=1: the first call's run executes at once (its first commit writes the fire); the second
    # is written and queued; the third finds the queue full. Sent together, in one event-loop turn.
    settings = make_settings(tmp_path)
    limited = fire_and_forget_workflow(
        wait_seconds=1, runtimeConfiguration={"concurrency": {"runs": 1, "maximumWaitingRuns": 1}}
    )

    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        await deploy(client, "limited", limited)
        url = await callback(client, "limited")
        answers = await asyncio.gather(*(client.post(url, json={"n": n}) for n in range(3)))
        assert sorted(answer.status_code for answer in answers) == [202, 202, 429]
        dispatcher = app.state.location.dispatcher
        assert (dispatcher.executing_count("limited"), dispatcher.waiting_count("limited")) == (1, 1)
        assert await run_count(client) == 2

    serve(settings, scenario)
