from __future__ import annotations

import base64
import json
import socket

from pairflow.definition.model import Status
from tests.actions.conftest import Reply, RunAction, ScriptedServer

FIXED = {"type": "fixed", "count": 3, "interval": "PT10S"}
NONE = {"type": "none"}


def http(uri: str, method: str = "GET", **inputs: object) -> dict[str, object]:
    return {"type": "Http", "inputs": {"method": method, "uri": uri, **inputs}}


def test_http_retries_server_errors_then_succeeds(run_action: RunAction, server: ScriptedServer) -> None:
    server.script("/flaky", Reply(500), Reply(502), Reply(200, {"ok": True}))
    outcome = run_action(http(server.url("/flaky"), retryPolicy=FIXED))
    result = outcome.result
    assert result.status is Status.SUCCEEDED
    assert result.code == "OK"
    assert result.outputs["body"] == {"ok": True}
    assert result.outputs["statusCode"] == 200
    assert len(server.requests) == 3
    assert outcome.sleeps == [10.0, 10.0]
    assert [entry["code"] for entry in result.retry_history] == ["InternalServerError", "BadGateway"]


def test_http_default_policy_retries_four_times_with_growing_waits(
    run_action: RunAction, server: ScriptedServer
) -> None:
    server.script("/down", Reply(503, "busy"))
    outcome = run_action(http(server.url("/down")))
    assert len(server.requests) == 5
    assert len(outcome.sleeps) == 4
    for delay, (low, high) in zip(outcome.sleeps, [(5, 7.5), (7.5, 15), (15, 30), (30, 45)], strict=True):
        assert low <= delay <= high
    result = outcome.result
    assert result.status is Status.FAILED
    assert result.code == "ServiceUnavailable"
    assert result.error is not None
    assert result.error["code"] == "ServiceUnavailable"
    assert result.outputs["statusCode"] == 503
    assert result.outputs["body"] == "busy"


def test_http_honours_retry_after(run_action: RunAction, server: ScriptedServer) -> None:
    server.script("/limited", Reply(429, headers={"Retry-After": "3"}), Reply(200, "done"))
    outcome = run_action(http(server.url("/limited"), retryPolicy=FIXED))
    assert outcome.result.status is Status.SUCCEEDED
    assert outcome.sleeps == [3.0]


def test_http_does_not_retry_a_client_error(run_action: RunAction, server: ScriptedServer) -> None:
    server.script("/missing", Reply(404, {"error": "no such thing"}))
    outcome = run_action(http(server.url("/missing"), retryPolicy=FIXED))
    result = outcome.result
    assert len(server.requests) == 1
    assert outcome.sleeps == []
    assert result.status is Status.FAILED
    assert result.code == "NotFound"
    assert result.outputs["body"] == {"error": "no such thing"}


def test_http_past_its_time_limit_is_timed_out(run_action: RunAction, server: ScriptedServer) -> None:
    server.script("/slow", Reply(200, "late", delay=1.0))
    raw = http(server.url("/slow"), retryPolicy=NONE)
    raw["limit"] = {"timeout": "PT0.2S"}
    result = run_action(raw).result
    assert result.status is Status.TIMED_OUT
    assert result.error is not None
    assert result.error["code"] == "ActionTimedOut"


def test_http_retry_wait_beyond_the_time_limit_times_out(
    run_action: RunAction, server: ScriptedServer
) -> None:
    server.script("/down", Reply(500))
    raw = http(server.url("/down"), retryPolicy=FIXED)
    raw["limit"] = {"timeout": "PT5S"}
    outcome = run_action(raw)
    assert outcome.result.status is Status.TIMED_OUT
    assert outcome.sleeps == []
    assert len(server.requests) == 1


def test_http_follows_the_asynchronous_pattern_until_the_operation_completes(
    run_action: RunAction, server: ScriptedServer
) -> None:
    server.script("/start", Reply(202, headers={"Location": "/status/1", "Retry-After": "2"}))
    server.script(
        "/status/1",
        Reply(202, headers={"Location": "/status/1", "Retry-After": "4"}),
        Reply(200, {"done": True}),
    )
    outcome = run_action(http(server.url("/start"), "POST", body={"go": 1}))
    assert outcome.result.status is Status.SUCCEEDED
    assert outcome.result.outputs["body"] == {"done": True}
    assert outcome.sleeps == [2.0, 4.0]
    assert [(r.method, r.path) for r in server.requests] == [
        ("POST", "/start"),
        ("GET", "/status/1"),
        ("GET", "/status/1"),
    ]


def test_http_with_async_pattern_disabled_returns_the_202(
    run_action: RunAction, server: ScriptedServer
) -> None:
    server.script("/start", Reply(202, headers={"Location": "/status/1"}))
    raw = http(server.url("/start"), "POST")
    raw["operationOptions"] = "DisableAsyncPattern"
    outcome = run_action(raw)
    assert outcome.result.status is Status.SUCCEEDED
    assert outcome.result.code == "Accepted"
    assert len(server.requests) == 1


def test_http_sends_json_bodies_headers_queries_and_tracking_headers(
    run_action: RunAction, server: ScriptedServer
) -> None:
    server.script("/orders", Reply(201, {"id": 9}))
    raw = http(
        server.url("/orders?x=1"),
        "post",
        headers={"X-Custom": "@concat('a', 'b')"},
        queries={"page": 2},
        body={"item": "@toUpper('tea')", "n": 2},
        authentication={"type": "Basic", "username": "u", "password": "p"},
    )
    outcome = run_action(raw, name="Create_order")
    seen = server.requests[0]
    assert seen.method == "POST"
    assert seen.path == "/orders?x=1&page=2"
    assert json.loads(seen.body) == {"item": "TEA", "n": 2}
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["X-Custom"] == "ab"
    assert seen.headers["x-ms-workflow-run-id"] == "run-1"
    assert seen.headers["Idempotency-Key"] == "run-1/Create_order/1"
    assert seen.headers["Authorization"] == "Basic " + base64.b64encode(b"u:p").decode()
    result = outcome.result
    assert result.code == "Created"
    assert result.inputs["authentication"]["password"] == "*sanitized*"


def test_http_sends_a_string_body_as_text(run_action: RunAction, server: ScriptedServer) -> None:
    server.script("/echo", Reply(200, "ok"))
    run_action(
        http(server.url("/echo"), "PUT", body="plain words", authentication={"type": "Raw", "value": "Tok 1"})
    )
    seen = server.requests[0]
    assert seen.body == b"plain words"
    assert seen.headers["Content-Type"].startswith("text/plain")
    assert seen.headers["Authorization"] == "Tok 1"


def test_http_response_bodies_are_json_text_or_binary_by_content_type(
    run_action: RunAction, server: ScriptedServer
) -> None:
    server.script("/json", Reply(200, {"a": [1]}))
    server.script("/text", Reply(200, "hello"))
    server.script("/bin", Reply(200, b"\x00\x01", headers={"Content-Type": "image/png"}))
    assert run_action(http(server.url("/json"))).result.outputs["body"] == {"a": [1]}
    assert run_action(http(server.url("/text"))).result.outputs["body"] == "hello"
    outputs = run_action(http(server.url("/bin"))).result.outputs
    assert outputs["body"] == {
        "$content-type": "image/png",
        "$content": base64.b64encode(b"\x00\x01").decode(),
    }
    assert outputs["headers"]["Content-Type"] == "image/png"


def test_http_connection_failure_fails_after_its_retries(run_action: RunAction) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    outcome = run_action(
        http(f"http://127.0.0.1:{port}/", retryPolicy={"type": "fixed", "count": 1, "interval": "PT1S"})
    )
    result = outcome.result
    assert result.status is Status.FAILED
    assert result.code == "BadRequest"
    assert outcome.sleeps == [1.0]
    assert len(result.retry_history) == 1


def test_http_with_an_unsupported_authentication_fails_clearly(run_action: RunAction) -> None:
    raw = http("http://127.0.0.1:9/", authentication={"type": "ManagedServiceIdentity"})
    result = run_action(raw).result
    assert result.status is Status.FAILED
    assert result.error is not None
    assert "ManagedServiceIdentity" in result.error["message"]


def test_http_with_a_relative_uri_fails_as_invalid_template(run_action: RunAction) -> None:
    result = run_action(http("/relative")).result
    assert result.code == "InvalidTemplate"
