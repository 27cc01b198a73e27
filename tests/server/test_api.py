"""The management API: authentication, deploy and validation, workflow state, runs, OpenAPI, health."""

from __future__ import annotations

import re
from typing import Any

import httpx
from starlette.routing import Route

from pairflow.server.config import Settings
from pairflow.server.routes import openapi_path
from tests.server.conftest import (
    API_KEY,
    AUTH,
    callback,
    deploy,
    fire_and_forget_workflow,
    request_response_workflow,
    run_count,
    serve,
    wait_for_status,
)


def test_api_refuses_requests_without_a_valid_key_and_accepts_both_header_forms(settings: Settings) -> None:
    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        missing = await client.get("/api/workflows")
        assert missing.status_code == 401
        assert missing.json()["error"]["code"] == "AuthenticationRequired"
        wrong = await client.get("/api/workflows", headers={"Authorization": "Bearer nope-nope-nope"})
        assert wrong.status_code == 401
        assert (await client.get("/api/workflows", headers={"x-api-key": API_KEY})).status_code == 200
        assert (await client.get("/api/workflows", headers=AUTH)).status_code == 200

    serve(settings, scenario)


def test_invalid_definition_is_refused_with_every_issue_and_nothing_stored(settings: Settings) -> None:
    bad = {
        "definition": {
            "triggers": {"manual": {"type": "Request", "kind": "Http"}},
            "actions": {
                "A": {"type": "Compose", "inputs": "@concat(", "runAfter": {}},
                "B": {"type": "NoSuchType", "runAfter": {"Missing": ["Succeeded"]}},
            },
        }
    }

    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        answer = await client.put("/api/workflows/bad", json=bad, headers=AUTH)
        assert answer.status_code == 400
        error = answer.json()["error"]
        assert error["code"] == "InvalidDefinition"
        assert len(error["details"]) >= 3
        assert error["message"] == error["details"][0]["message"]
        assert all(detail["pointer"].startswith("/definition/") for detail in error["details"])
        assert (await client.get("/api/workflows/bad", headers=AUTH)).status_code == 404
        assert (await client.get("/api/workflows", headers=AUTH)).json() == {"value": []}
        malformed = await client.put("/api/workflows/bad", content=b"{", headers=AUTH)
        assert malformed.json()["error"]["code"] == "InvalidRequestContent"

    serve(settings, scenario)


def test_parameters_are_checked_and_secure_values_never_shown(settings: Settings) -> None:
    document = fire_and_forget_workflow()
    document["definition"]["parameters"] = {"token": {"type": "securestring"}, "n": {"type": "int"}}

    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        refused = await client.put(
            "/api/workflows/p", json={**document, "parameters": {"n": "x"}}, headers=AUTH
        )
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == "InvalidParameters"
        assert {d["pointer"] for d in refused.json()["error"]["details"]} == {
            "/parameters/n",
            "/parameters/token",
        }
        await deploy(client, "p", {**document, "parameters": {"n": 3, "token": "s3cret"}})
        shown = (await client.get("/api/workflows/p", headers=AUTH)).json()
        assert shown["parameters"] == {"n": 3, "token": "<redacted>"}
        assert "s3cret" not in (await client.get("/api/workflows/p", headers=AUTH)).text

    serve(settings, scenario)


def test_redeploy_keeps_versions_and_runs_record_the_version_they_ran(settings: Settings) -> None:
    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        created = await client.put("/api/workflows/wf", json=request_response_workflow(200), headers=AUTH)
        assert created.status_code == 201
        assert created.json()["version"] == 1
        url = await callback(client, "wf")
        first = await client.post(url, json={})
        updated = await client.put("/api/workflows/wf", json=request_response_workflow(202), headers=AUTH)
        assert updated.status_code == 200
        assert updated.json()["version"] == 2
        second = await client.post(url, json={})
        assert (first.status_code, second.status_code) == (200, 202)
        versions = (await client.get("/api/workflows/wf/versions", headers=AUTH)).json()["value"]
        assert [v["version"] for v in versions] == [2, 1]
        views = [await wait_for_status(client, r.headers["x-ms-workflow-run-id"]) for r in (first, second)]
        assert [v["version"] for v in views] == [1, 2]
        listed = (await client.get("/api/workflows", headers=AUTH)).json()["value"]
        assert [(w["name"], w["version"], w["enabled"]) for w in listed] == [("wf", 2, True)]
        assert listed[0]["triggers"] == [{"name": "manual", "type": "Request", "kind": "Http"}]

    serve(settings, scenario)


def test_disable_enable_and_delete_a_workflow(settings: Settings) -> None:
    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        await deploy(client, "wf", fire_and_forget_workflow())
        url = await callback(client, "wf")
        disabled = await client.post("/api/workflows/wf/disable", headers=AUTH)
        assert disabled.json()["enabled"] is False
        assert (await client.post(url, json={})).status_code == 409
        assert (await client.post("/api/workflows/wf/enable", headers=AUTH)).json()["enabled"] is True
        assert (await client.post(url, json={})).status_code == 202
        assert (await client.delete("/api/workflows/wf", headers=AUTH)).status_code == 204
        assert (await client.get("/api/workflows/wf", headers=AUTH)).status_code == 404
        assert (await client.delete("/api/workflows/wf", headers=AUTH)).status_code == 404
        assert (await client.post(url, json={})).json()["error"]["code"] == "WorkflowNotFound"

    serve(settings, scenario)


def test_runs_are_listed_filtered_cancelled_and_resubmitted(settings: Settings) -> None:
    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        await deploy(client, "quick", fire_and_forget_workflow())
        await deploy(client, "slow", fire_and_forget_workflow(wait_seconds=30))
        quick = await client.post(await callback(client, "quick"), json={"k": 1})
        slow = await client.post(await callback(client, "slow"), json={})
        quick_id = quick.headers["x-ms-workflow-run-id"]
        slow_id = slow.headers["x-ms-workflow-run-id"]
        await wait_for_status(client, quick_id)
        only_quick = (await client.get("/api/runs?workflow=quick", headers=AUTH)).json()["value"]
        assert [r["id"] for r in only_quick] == [quick_id]
        running = (await client.get("/api/runs?status=running", headers=AUTH)).json()["value"]
        assert [r["id"] for r in running] == [slow_id]
        bad = await client.get("/api/runs?since=yesterday", headers=AUTH)
        assert bad.status_code == 400
        cancelled = await client.post(f"/api/runs/{slow_id}/cancel", headers=AUTH)
        assert cancelled.json()["status"] == "Cancelled"
        again = await client.post(f"/api/runs/{slow_id}/cancel", headers=AUTH)
        assert again.status_code == 409
        resubmitted = await client.post(f"/api/runs/{quick_id}/resubmit", headers=AUTH)
        assert resubmitted.status_code == 202
        view = await wait_for_status(client, resubmitted.json()["runId"])
        assert view["status"] == "Succeeded"
        assert view["trigger"]["outputs"]["body"] == {"k": 1}
        assert (await client.get("/api/runs/nope", headers=AUTH)).json()["error"][
            "code"
        ] == "WorkflowRunNotFound"
        assert await run_count(client) == 3

    serve(settings, scenario)


def test_openapi_document_lists_every_route_and_method(settings: Settings) -> None:
    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        document = (await client.get("/openapi.json")).json()
        assert document["openapi"].startswith("3.1")
        routes = [route for route in app.routes if isinstance(route, Route)]
        assert len(routes) >= 20
        for route in routes:
            item = document["paths"][openapi_path(route.path)]
            for method in route.methods or ():
                if method != "HEAD":
                    assert method.lower() in item, (route.path, method)
        for path in document["paths"]:
            assert re.search(r"\{[^}]*:", path) is None

    serve(settings, scenario)


def test_health_endpoints_report_live_and_ready(settings: Settings) -> None:
    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        assert (await client.get("/health/live")).json() == {"status": "live"}
        ready = await client.get("/health/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["store"] == "ok"
        app.state.location.accepting = False
        not_ready = await client.get("/health/ready")
        assert not_ready.status_code == 503
        assert not_ready.json()["reasons"]
        app.state.location.accepting = True

    serve(settings, scenario)


def test_unknown_route_answers_in_logic_apps_error_shape(settings: Settings) -> None:
    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        answer = await client.get("/nope")
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "NotFound"

    serve(settings, scenario)


def test_trigger_state_round_trips_through_export_and_import(settings: Settings) -> None:
    document = fire_and_forget_workflow()

    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        await deploy(client, "wf", document)
        path = "/api/workflows/wf/triggers/manual/state"
        assert (await client.get(path, headers=AUTH)).json() == {}
        put = await client.put(path, json={"cursor": "abc", "n": 2}, headers=AUTH)
        assert put.status_code == 200, put.text
        assert (await client.get(path, headers=AUTH)).json() == {"cursor": "abc", "n": 2}
        refused = await client.put(path, json=[1], headers=AUTH)
        assert refused.status_code == 400
        missing = await client.get("/api/workflows/wf/triggers/nope/state", headers=AUTH)
        assert missing.json()["error"]["code"] == "WorkflowTriggerNotFound"

    serve(settings, scenario)
