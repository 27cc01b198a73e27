"""Every corpus workflow that validates runs to the status its logic implies.

Each one is deployed into a real SQLite file and run by the `Engine` on a `VirtualClock` (a Wait of
ten minutes takes no real time). Every Http action's literal URI is pointed at a scripted server on
127.0.0.1 (an expression URI is fed through the app setting it reads); a Workflow action calls the
child from the corpus when that child validates, else a small local child that echoes what it got.

`SCENARIOS` says, per workflow, what trigger body it gets and why, and what the run must show:
status, action statuses (the branch taken, what was Skipped), the Response, the variables' final
values, loop iterations and HTTP calls, each with the reason read from the definition.
"""

from __future__ import annotations

import asyncio
import copy
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import test_compat_load as compat_load  # type: ignore[import-not-found]  # tests/compat is no package

from pairflow.definition.parameters import resolve_parameters
from pairflow.definition.validate import load_and_validate
from pairflow.engine.clock import VIRTUAL_EPOCH, VirtualClock
from pairflow.engine.runner import Engine
from pairflow.engine.view import run_view
from pairflow.errors import DefinitionError
from pairflow.jsontypes import JSON, JSONObject
from pairflow.store.records import RunRecord
from pairflow.store.sqlite import SqliteStore

# The corpus and which of its workflows validate: the very table test_compat_load.py checks.
CORPUS: Path = compat_load.CORPUS
EXPECTED: dict[tuple[str, str | None], object] = compat_load.EXPECTED
VALID: str = compat_load.VALID
SKIP_REASON: str = compat_load.SKIP_REASON
DEPLOYED_AT = datetime(2024, 1, 1, tzinfo=UTC)
SERVER = "{server}"  # in an app setting: replaced by the scripted server's base URL


# -- the scripted HTTP server -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Call:
    """One request that reached the server."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes


class EndpointServer:
    """Answers a scripted path with 200 and its JSON, any other path with 404; records every call."""

    def __init__(self, replies: Mapping[str, JSON]) -> None:
        self.replies = dict(replies)
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                with server._lock:
                    server.calls.append(Call(self.command, parts.path, parse_qs(parts.query), body))
                known = parts.path in server.replies
                payload = json.dumps(server.replies[parts.path] if known else {"error": "unscripted"})
                self.send_response(200 if known else 404)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload.encode())))
                self.end_headers()
                self.wfile.write(payload.encode())

            def do_GET(self) -> None:
                self._handle()

            def do_POST(self) -> None:
                self._handle()

            def do_PUT(self) -> None:
                self._handle()

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def url(self, path: str = "") -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()


# -- what a run must show -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Child:
    """A workflow a Workflow action calls: from the corpus when that file validates, else `ECHO_CHILD`."""

    name: str  # deployed under this name; the action's host.workflow.id is pointed at it
    corpus: tuple[str, str | None] | None = None


# A local child for when the corpus has none that pairflow can run: answers 200 with what it got.
ECHO_CHILD: JSONObject = {
    "triggers": {"manual": {"type": "Request", "kind": "Http"}},
    "actions": {
        "Response": {
            "type": "Response",
            "kind": "Http",
            "inputs": {"statusCode": 200, "body": {"received": "@triggerBody()"}},
            "runAfter": {},
        }
    },
}


@dataclass(frozen=True)
class Scenario:
    body: JSON  # the trigger body
    body_why: str
    status: str
    why: str  # why the run ends with `status`, read from the definition
    actions: Mapping[str, str] = field(default_factory=dict)  # action -> status (latest repetition)
    not_run: frozenset[str] = frozenset()  # actions that must have no record at all
    variables: Mapping[str, JSON] | None = None  # the run's final variables, exactly
    response: tuple[int, JSON] | None = None  # (statusCode, body) of the Response
    iterations: Mapping[str, int] = field(default_factory=dict)  # action inside a loop -> repetitions
    http: Mapping[str, int] = field(default_factory=dict)  # path -> calls that reached the server
    replies: Mapping[str, JSON] = field(default_factory=dict)  # path -> the JSON it answers
    settings: Mapping[str, str] = field(default_factory=dict)  # app settings ({server} = its URL)
    children: Mapping[str, Child] = field(default_factory=dict)  # host.workflow.id as written -> child
    check: Callable[[Outcome], None] | None = None  # facts the fields above cannot say
    xfail: str | None = None


@dataclass
class Outcome:
    run: RunRecord
    view: JSONObject
    actions: dict[str, JSONObject]  # every action's node of the run view, by name, at any depth
    calls: list[Call]
    store: SqliteStore

    def outputs(self, name: str) -> Any:
        return self.actions[name]["outputs"]

    def child_runs(self) -> list[RunRecord]:
        return [run for run in self.store.list_runs() if run.parent_run == self.run.id]


def _flatten(nodes: JSONObject, into: dict[str, JSONObject]) -> dict[str, JSONObject]:
    for name, node in nodes.items():
        into[name] = node
        _flatten(node.get("actions") or {}, into)
    return into


# -- per-file facts -------------------------------------------------------------------------------------
PRICES_SENT = 10  # la-burst-dispatcher's Compose holds ten prices


def _dispatcher_sent_compose(outcome: Outcome) -> None:
    reply = outcome.outputs("Invoke_a_workflow_in_this_workflow_app")
    assert reply["statusCode"] == 200
    assert reply["body"]["received"] == outcome.outputs("Compose")
    assert len(reply["body"]["received"]["prices"]) == PRICES_SENT


def _recurrence_child_got_next_time(expected: str) -> Callable[[Outcome], None]:
    def check(outcome: Outcome) -> None:
        reply = outcome.outputs("ExecuteRecurrenceJob")
        assert reply["body"]["received"]["nextExecutionTime"] == expected
        assert reply["body"]["received"]["days"] == outcome.run.trigger["outputs"]["body"]["days"]
        assert [run.status for run in outcome.child_runs()] == ["Succeeded"]

    return check


def _demo_content_reached_child(outcome: Outcome) -> None:
    assert outcome.outputs("Invoke_a_workflow_in_this_workflow_app")["body"] == {"received": "demo content"}
    assert [run.workflow for run in outcome.child_runs()] == ["eventprocessor"]


def _tracked_properties_kept(outcome: Outcome) -> None:
    assert outcome.actions["Initialize_variable"]["trackedProperties"] == {"aa": "aa"}


def _monitoring_facts(outcome: Outcome) -> None:
    delay = outcome.actions["Delay"]
    waited = datetime.fromisoformat(delay["endTime"]) - datetime.fromisoformat(delay["startTime"])
    assert waited.total_seconds() >= 600  # ten virtual minutes
    assert outcome.outputs("Filter_array")["body"] == [3, 4, 13, 23, 312, 321, 321, 21]
    assert outcome.outputs("Select")["body"] == []
    assert outcome.calls[0].query == {"applicationName": ["appname"], "timeout": ["60"]}
    assert outcome.run.response is not None
    assert outcome.run.response["headers"] == {"dsasadas": "dasds"}


def _parse_json_refused_content(outcome: Outcome) -> None:
    error = outcome.actions["Parse_JSON"]["error"]
    assert error is not None
    assert "parameter" not in error["message"].lower(), error  # the content was computed, then refused


RECURRENCE_ARM = "la-recurrence-jobs-until-increment-workflow-arm.json"
EXECUTE_JOB = Child("ExecuteRecurrenceJobLogicAppName", (RECURRENCE_ARM, "ExecuteRecurrenceJobLogicAppName"))
EXECUTE_JOB_ID = "[resourceId('Microsoft.Logic/workflows',parameters('ExecuteRecurrenceJobLogicAppName'))]"

# (file, workflow within an ARM template) -> what one run shows. The engine's virtual clock starts at
# VIRTUAL_EPOCH, 2024-01-01T00:00:00Z, a Monday: utcNow() in the definitions reads it.
SCENARIOS: dict[tuple[str, str | None], Scenario] = {
    ("la-burst-dispatcher-child-workflow.json", None): Scenario(
        body={"orderId": "o-1"},
        body_why="splitOn @triggerBody().orders gives each run one order; the actions never read it",
        status="Succeeded",
        why="Compose, then the enricher child answers 200 with what it was sent",
        actions={"Compose": "Succeeded", "Invoke_a_workflow_in_this_workflow_app": "Succeeded"},
        children={"enricher": Child("enricher", ("la-burst-enricher-switch-select-terminate.json", None))},
        check=_dispatcher_sent_compose,
    ),
    (RECURRENCE_ARM, "CreateRecurrenceJobLogicAppName"): Scenario(
        body={
            "days": ["Friday"],
            "hours": 9,
            "minutes": 30,
            "inputTimeZone": "Pacific Standard Time",
            "startTime": "2024-01-03T00:00:00",
            "sbmessage": {"JobIdentifier": "job-1"},
            "dead-letter-props": {},
        },
        body_why="a job due on Fridays at 09:30 Pacific time, starting Wednesday 2024-01-03",
        status="Succeeded",
        why=(
            "start 2024-01-03T08:00Z is after now, so kept; the Until counts Wed (0), Thu (1), Fri (2) and "
            "stops in 3 iterations; count is 2 so the Condition is false and Until_2 is Skipped; next "
            "time is Friday 09:30 PST = 17:30Z, answered by the Response and sent to the child"
        ),
        actions={
            "Until": "Succeeded",
            "Condition": "Succeeded",
            "Until_2": "Skipped",
            "ExecuteRecurrenceJob": "Succeeded",
        },
        not_run=frozenset({"Increment_variable_2"}),  # a skipped loop has no iterations to show
        variables={
            "startTime": {"type": "string", "value": "2024-01-03T08:00:00.0000000Z"},
            "count": {"type": "integer", "value": 2},
            "nextTime": {"type": "string", "value": "2024-01-05T17:30:00.0000000Z"},
        },
        response=(200, "2024-01-05T17:30:00.0000000Z"),
        iterations={"Increment_variable": 3},
        children={EXECUTE_JOB_ID: EXECUTE_JOB},
        check=_recurrence_child_got_next_time("2024-01-05T17:30:00.0000000Z"),
    ),
    (RECURRENCE_ARM, "RescheduleRecurrenceJobLogicAppName"): Scenario(
        body={
            "days": ["Wednesday"],
            "hours": 9,
            "minutes": 30,
            "inputTimeZone": "UTC",
            "lastExecutionTime": "2024-01-01T09:30:00Z",
        },
        body_why="a Wednesday 09:30 UTC job that last ran on Monday 2024-01-01",
        status="Succeeded",
        why=(
            "today is Monday: the Until counts 1 (Tuesday), 2 (Wednesday) and stops in 2 iterations; "
            "next time is the last day's 09:30 plus 2 days"
        ),
        actions={"Until": "Succeeded", "ExecuteRecurrenceJob": "Succeeded", "Response": "Succeeded"},
        variables={
            "count": {"type": "integer", "value": 2},
            "nextTime": {"type": "string", "value": "2024-01-03T09:30:00.0000000Z"},
        },
        response=(200, "2024-01-03T09:30:00.0000000Z"),
        iterations={"Increment_variable": 2},
        children={EXECUTE_JOB_ID: EXECUTE_JOB},
        check=_recurrence_child_got_next_time("2024-01-03T09:30:00.0000000Z"),
    ),
    ("la-request-response.json", None): Scenario(
        body=None,
        body_why="the Response ignores the request",
        status="Succeeded",
        why="one Response with status 200 and no body",
        actions={"Response": "Succeeded"},
        response=(200, None),
    ),
    ("la-std-http-action.json", None): Scenario(
        body=None,
        body_why="the actions never read the request",
        status="Succeeded",
        why="GET @appsetting('httpuri') answers 200; the Response returns its body",
        actions={"HTTP": "Succeeded", "Response": "Succeeded"},
        response=(200, {"items": [1, 2, 3]}),
        http={"/items": 1},
        replies={"/items": {"items": [1, 2, 3]}},
        settings={"httpuri": SERVER + "/items"},
    ),
    ("la-std-recurrence-call-workflow.json", None): Scenario(
        body=None,
        body_why="a Recurrence trigger has no body",
        status="Succeeded",
        why="the eventprocessor child (not in the corpus: the local echo child) answers 200",
        actions={"Invoke_a_workflow_in_this_workflow_app": "Succeeded"},
        children={"eventprocessor": Child("eventprocessor")},
        check=_demo_content_reached_child,
    ),
    ("la-std-request-compose-response.json", None): Scenario(
        body=None,
        body_why="the actions never read the request",
        status="Succeeded",
        why="the Response returns the Compose's text",
        actions={"Compose": "Succeeded", "Response": "Succeeded"},
        response=(200, "Hello from Logic Apps!"),
    ),
    ("ux-all-scope-nodes.json", None): Scenario(
        body=None,
        body_why="a Recurrence trigger has no body; the Switch's expression is the constant 'test'",
        status="Succeeded",
        why=(
            "'test' picks Conditional_Case; equals('test','test') holds, so Terminate ends the run "
            "Succeeded before Increment_variable_4 or Initialize_owner can start; the other cases, the "
            "default and the Condition's else are Skipped"
        ),
        actions={
            "Switch": "Cancelled",  # Terminate cancels the actions in progress: its containers
            "Condition": "Cancelled",
            "Terminate": "Succeeded",
            "Terminate_2": "Skipped",
            "ForEach": "Skipped",
            "Scope": "Skipped",
            "Until": "Skipped",
            "Default-Compose": "Skipped",
        },
        not_run=frozenset({"Increment_variable_4", "Initialize_owner"}),
        variables={},
    ),
    ("ux-consumption-workflow-parameters.json", None): Scenario(
        body=None,
        body_why="the actions never read the request",
        status="Succeeded",
        why="equals(null, null) holds: TestVar 3 + 4, then GET /api/Values; the else's Terminate is Skipped",
        actions={"Increment_variable": "Succeeded", "APP_SERVICE": "Succeeded", "Terminate": "Skipped"},
        variables={"TestVar": {"type": "integer", "value": 7}},
        http={"/api/Values": 1},
        replies={"/api/Values": ["value1", "value2"]},
    ),
    ("ux-monitoring-view-conditional.json", None): Scenario(
        body={"moder": "x"},
        body_why="matches the trigger's schema; the actions never read it",
        status="Succeeded",
        why=(
            "Delay 10 min; Condition_2 (1 = 1) runs Compose_3 then Compose_1; Filter_array keeps items > 2; "
            "one GET; TEST 2 + 2 - 2 = 2; Condition (1 = 1) then Condition_1 (1 = 2) takes its else: the "
            "Switch on TEST = 2 picks Case, whose Scope adds 3 -> 5; the Response answers 200 {a: b}"
        ),
        actions={
            "Compose_3": "Succeeded",
            "Compose_1": "Succeeded",
            "Compose_2": "Skipped",
            "Increment_variable_4": "Skipped",
            "Compose": "Skipped",
            "Increment_variable_2": "Skipped",
            "Scope_1": "Skipped",
            "Scope_2": "Skipped",
            "Increment_variable_5": "Skipped",
            "Switch": "Succeeded",
            "Scope": "Succeeded",
            "Increment_variable_1": "Succeeded",
            "Increment_variable_3": "Skipped",
            "Parse_JSON": "Succeeded",
        },
        variables={
            "Array1": {"type": "array", "value": [1, 2, 3, 4, 2, 13, 23, 312, 321, 321, 21]},
            "TEST": {"type": "integer", "value": 5},
        },
        response=(200, {"a": "b"}),
        http={"/api/v2/pokemon/ditto": 1},
        replies={"/api/v2/pokemon/ditto": {"name": "ditto"}},
        check=_monitoring_facts,
    ),
    ("ux-multi-variable-query.json", None): Scenario(
        body=None,
        body_why="the actions never read the request",
        status="Succeeded",
        why="six variables initialized in a chain; Filter_array over the empty array gives []",
        actions={"Scope": "Succeeded", "Filter_array": "Succeeded"},
        variables={
            "testVariable1": {"type": "string", "value": "123"},
            "testVariable2": {"type": "float", "value": 123.5},
            "testVariable3": {"type": "array", "value": []},
            "testBoolean1": {"type": "boolean", "value": True},
            "testBoolean2": {"type": "boolean", "value": False},
            "testInteger": {"type": "integer", "value": 15},
        },
    ),
    ("ux-nested-foreach.json", None): Scenario(
        body=[[1, 2], [3]],
        body_why="Foreach walks the body and Foreach_nested each item, so an array of arrays",
        status="Succeeded",
        why="2 outer iterations x 2 increments + 3 inner iterations x 2 increments = 10, answered",
        actions={"Foreach": "Succeeded", "Foreach_nested": "Succeeded", "Foreach_empty": "Succeeded"},
        variables={"var1": {"type": "integer", "value": 10}},
        response=(200, 10),
        iterations={"Increment_variable_2": 2, "Increment_variable_3": 2, "Increment_variable_4": 3},
        check=_tracked_properties_kept,
    ),
    ("ux-nested-scopes.json", None): Scenario(
        body=None,
        body_why="the actions never read the request",
        status="Succeeded",
        why="four increments of var1 (declared without a value) in nested scopes; the Response says 4",
        actions={"Scope": "Succeeded", "Scope_nested": "Succeeded", "Scope_nested_empty": "Succeeded"},
        variables={"var1": {"type": "integer", "value": 4}},
        response=(200, 4),
    ),
    ("ux-panel-parsejson-query-http.json", None): Scenario(
        body={"string": ""},
        body_why="matches the trigger's schema",
        status="Failed",
        why=(
            "Parse_JSON's content is text ending in 'test' (array JSON + the parameter's 'test'), "
            "not JSON, so it fails; Filter_array and HTTP are Skipped and nothing is called"
        ),
        actions={"Parse_JSON": "Failed", "Filter_array": "Skipped", "HTTP": "Skipped"},
        replies={"/": {}},
        check=_parse_json_refused_content,
    ),
    ("ux-standard-workflow-parameters.json", None): Scenario(
        body=None,
        body_why="the actions never read the request",
        status="Succeeded",
        why="equals(null, null) holds: TestVar 3 + 4; the else's Terminate is Skipped",
        actions={"Increment_variable": "Succeeded", "Terminate": "Skipped"},
        variables={"TestVar": {"type": "integer", "value": 7}},
    ),
    ("ux-switch.json", None): Scenario(
        body="test",
        body_why="the Http trigger's polled response body; the Switch reads it",
        status="Succeeded",
        why="'test' picks First_Case; the default's Default-Compose is Skipped",
        actions={
            "Action-1-Compose": "Succeeded",
            "Default-Compose": "Skipped",
            "Initialize_owner": "Succeeded",
        },
        variables={"goalOwner": {"type": "string", "value": "abc@microsoft.com"}},
    ),
    ("ux-template-scope-query-select-terminate.json", None): Scenario(
        body=None,
        body_why="the actions never read the request",
        status="Succeeded",
        why="Try succeeds, so Catch (runAfter Failed/Skipped/TimedOut) and all it holds are Skipped",
        actions={
            "Try": "Succeeded",
            "Business_Logic": "Succeeded",
            "Catch": "Skipped",
            "Compensation_Logic": "Skipped",
            "Filter_Try_Scope_Errors": "Skipped",
            "Format_Errors": "Skipped",
            "Terminate": "Skipped",
        },
    ),
    ("ux-unicode-keys-switch.json", None): Scenario(
        body="早上好",
        body_why="the Http trigger's polled response body: one of the non-ASCII case values",
        status="Succeeded",
        why="'早上好' picks the (empty) case of that name; Action-1-Compose and Default-Compose are Skipped",
        actions={"Switch": "Succeeded", "Action-1-Compose": "Skipped", "Default-Compose": "Skipped"},
        variables={"goalOwner": {"type": "string", "value": "abc@microsoft.com"}},
    ),
    ("ux-until-loop-pager.json", None): Scenario(
        body=None,
        body_why="the actions never read the request",
        status="Succeeded",
        why="one goes 1 -> 10 by 1 per iteration: 9 iterations, then equals(one, 10) holds",
        actions={"Until": "Succeeded"},
        variables={"one": {"type": "integer", "value": 10}},
        iterations={"Increment_variable": 9},
    ),
}


# Further runs of the same workflows with other inputs, to take the paths the first run did not.
VARIANTS: dict[tuple[str, str | None, str], Scenario] = {
    (RECURRENCE_ARM, "CreateRecurrenceJobLogicAppName", "start-in-the-past"): Scenario(
        body={
            "days": ["Monday"],
            "hours": 23,
            "minutes": 0,
            "inputTimeZone": "UTC",
            "startTime": "2023-12-25T00:00:00",
            "sbmessage": {"JobIdentifier": "job-2"},
            "dead-letter-props": {},
        },
        body_why="a Monday 23:00 UTC job whose start (Monday 2023-12-25) has passed",
        status="Succeeded",
        why=(
            "start is past, so startTime = utcNow() (Monday); the Until stops at once (count 0, Monday); "
            "count = 0 and 2023-12-25T23:00Z < now, so the Condition runs Until_2, which counts 1..7 to "
            "the next Monday; next time is Monday 2024-01-08 23:00Z"
        ),
        actions={"Condition": "Succeeded", "Until_2": "Succeeded", "ExecuteRecurrenceJob": "Succeeded"},
        variables={
            "startTime": {"type": "string", "value": "2024-01-01T00:00:00.0000000Z"},
            "count": {"type": "integer", "value": 7},
            "nextTime": {"type": "string", "value": "2024-01-08T23:00:00.0000000Z"},
        },
        response=(200, "2024-01-08T23:00:00.0000000Z"),
        iterations={"Increment_variable": 1, "Increment_variable_2": 7},
        children={EXECUTE_JOB_ID: EXECUTE_JOB},
        check=_recurrence_child_got_next_time("2024-01-08T23:00:00.0000000Z"),
    ),
    ("la-std-http-action.json", None, "endpoint-not-found"): Scenario(
        body=None,
        body_why="the actions never read the request",
        status="Failed",
        why="the endpoint answers 404 (not retried), so HTTP fails and the Response is Skipped",
        actions={"HTTP": "Failed", "Response": "Skipped"},
        http={"/missing": 1},
        settings={"httpuri": SERVER + "/missing"},
    ),
    ("ux-switch.json", None, "default-case"): Scenario(
        body="something else",
        body_why="matches no case",
        status="Succeeded",
        why="no case matches, so the default's Default-Compose runs and First_Case's action is Skipped",
        actions={
            "Action-1-Compose": "Skipped",
            "Default-Compose": "Succeeded",
            "Initialize_owner": "Succeeded",
        },
        variables={"goalOwner": {"type": "string", "value": "abc@microsoft.com"}},
    ),
    ("ux-nested-foreach.json", None, "body-not-an-array"): Scenario(
        body={"not": "an array"},
        body_why="Foreach needs an array",
        status="Failed",
        why="the foreach value is no array: Foreach fails; the Response and Foreach_empty are Skipped",
        actions={"Foreach": "Failed", "Response": "Skipped", "Foreach_empty": "Skipped"},
        iterations={"Increment_variable_2": 0},
    ),
}


# -- preparing a definition to run here ----------------------------------------------------------------
def _walk_actions(actions: JSON) -> Iterator[JSONObject]:
    if not isinstance(actions, dict):
        return
    for action in actions.values():
        if not isinstance(action, dict):
            continue
        yield action
        yield from _walk_actions(action.get("actions"))
        branch = action.get("else")
        yield from _walk_actions(branch.get("actions") if isinstance(branch, dict) else None)
        default = action.get("default")
        yield from _walk_actions(default.get("actions") if isinstance(default, dict) else None)
        cases = action.get("cases")
        for case in cases.values() if isinstance(cases, dict) else ():
            yield from _walk_actions(case.get("actions") if isinstance(case, dict) else None)


def _local_uri(server: EndpointServer, uri: str) -> str:
    parts = urlsplit(uri)
    return server.url((parts.path or "/") + (f"?{parts.query}" if parts.query else ""))


def _localize(definition: JSONObject, server: EndpointServer, children: Mapping[str, Child]) -> JSONObject:
    """A copy whose literal Http URIs (actions and triggers) reach `server` with the same path and
    query, and whose Workflow actions call the deployed children."""
    local = copy.deepcopy(definition)
    triggers = local.get("triggers")
    for trigger in triggers.values() if isinstance(triggers, dict) else ():
        inputs = trigger.get("inputs") if isinstance(trigger, dict) else None
        if str(trigger.get("type", "")).lower() == "http" and isinstance(inputs, dict):
            inputs["uri"] = _local_uri(server, str(inputs.get("uri", "/")))
    for action in _walk_actions(local.get("actions")):
        inputs = action.get("inputs")
        kind = str(action.get("type", "")).lower()
        if kind == "http" and isinstance(inputs, dict):
            uri = inputs.get("uri")
            if isinstance(uri, str) and not uri.startswith("@"):  # expressions: fed by app settings
                inputs["uri"] = _local_uri(server, uri)
        elif kind == "workflow" and isinstance(inputs, dict):
            target = inputs["host"]["workflow"]
            target["id"] = children[target["id"]].name
    return local


def _child_definition(child: Child) -> tuple[JSONObject, JSONObject]:
    """The child's definition and parameter values: the corpus file's when it validates."""
    if child.corpus is not None:
        try:
            loaded, model = load_and_validate(CORPUS / child.corpus[0], child.corpus[1])
        except DefinitionError:
            pass  # refused (unsupported types): the local echo child stands in
        else:
            return loaded.definition, resolve_parameters(model, loaded.parameters)
    return ECHO_CHILD, {}


def _parameters(file: str, name: str | None) -> tuple[JSONObject, JSONObject]:
    """The definition and its parameter values: declared ones resolved as `pairflow run` does; values
    shipped beside an undeclaring Standard workflow.json are kept, as its parameters.json would be."""
    loaded, model = load_and_validate(CORPUS / file, name)
    declared = {k: v for k, v in loaded.parameters.items() if k in model.parameters}
    standard = {k: v for k, v in loaded.parameters.items() if k not in model.parameters}
    return loaded.definition, {**standard, **resolve_parameters(model, declared, file)}


def run_scenario(tmp_path: Path, file: str, name: str | None, scenario: Scenario) -> Outcome:
    server = EndpointServer(scenario.replies)
    store = SqliteStore(tmp_path / "runs.db")
    try:
        definition, values = _parameters(file, name)
        store.put_workflow("wf", _localize(definition, server, scenario.children), values, DEPLOYED_AT)
        for child in scenario.children.values():
            child_definition, child_values = _child_definition(child)
            store.put_workflow(child.name, child_definition, child_values, DEPLOYED_AT)
        settings = {key: value.replace(SERVER, server.url()) for key, value in scenario.settings.items()}

        async def go() -> RunRecord:
            async with httpx.AsyncClient(trust_env=False) as client:
                engine = Engine(
                    store, clock=VirtualClock(), owner="compat", http_client=client, app_settings=settings
                )
                try:
                    return await engine.run("wf", trigger_outputs={"headers": {}, "body": scenario.body})
                finally:
                    await engine.aclose()

        run = asyncio.run(go())
        view = run_view(store, run.id)
        return Outcome(run, view, _flatten(view["actions"], {}), list(server.calls), store)
    except BaseException:
        store.close()
        raise
    finally:
        server.close()


# -- the tests ------------------------------------------------------------------------------------------
def _valid_keys() -> list[tuple[str, str | None]]:
    if not CORPUS.is_dir():
        return []
    return [key for key, expected in EXPECTED.items() if expected == VALID and (CORPUS / key[0]).exists()]


def _cases() -> list[object]:
    cases: list[object] = []
    for file, name in _valid_keys():
        scenario = SCENARIOS.get((file, name))
        marks = (
            [pytest.mark.xfail(strict=True, reason=scenario.xfail)]
            if scenario is not None and scenario.xfail
            else []
        )
        cases.append(pytest.param(file, name, id=f"{file}[{name}]" if name else file, marks=marks))
    return cases


needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=SKIP_REASON)


@needs_corpus
def test_every_scenario_is_a_valid_corpus_workflow() -> None:
    assert sorted(SCENARIOS, key=str) == sorted(_valid_keys(), key=str)
    assert {(file, name) for file, name, _ in VARIANTS} <= set(SCENARIOS)


@needs_corpus
@pytest.mark.parametrize(("file", "name"), _cases())
def test_corpus_workflow_runs_to_the_status_its_logic_implies(
    tmp_path: Path, file: str, name: str | None
) -> None:
    scenario = SCENARIOS.get((file, name))
    assert scenario is not None, f"{file} validates: add what its run must show to SCENARIOS"
    outcome = run_scenario(tmp_path, file, name, scenario)
    try:
        _assert_outcome(outcome, scenario)
    finally:
        outcome.store.close()


@needs_corpus
@pytest.mark.parametrize(
    ("file", "name", "variant"),
    [
        pytest.param(
            *key,
            id=f"{key[0]}[{key[1] or ''}]-{key[2]}",
            marks=[pytest.mark.xfail(strict=True, reason=s.xfail)] if s.xfail else [],
        )
        for key, s in VARIANTS.items()
    ],
)
def test_corpus_workflow_takes_the_other_paths_its_inputs_choose(
    tmp_path: Path, file: str, name: str | None, variant: str
) -> None:
    scenario = VARIANTS[(file, name, variant)]
    outcome = run_scenario(tmp_path, file, name, scenario)
    try:
        _assert_outcome(outcome, scenario)
    finally:
        outcome.store.close()


@needs_corpus
def test_foreach_over_an_object_names_the_json_type(tmp_path: Path) -> None:
    scenario = VARIANTS[("ux-nested-foreach.json", None, "body-not-an-array")]
    outcome = run_scenario(tmp_path, "ux-nested-foreach.json", None, scenario)
    try:
        error = outcome.actions["Foreach"]["error"]
        assert "is of type 'Object'. The result must be a valid array." in error["message"]
    finally:
        outcome.store.close()


def _assert_outcome(outcome: Outcome, scenario: Scenario) -> None:
    assert outcome.run.status == scenario.status, (scenario.why, outcome.view.get("error"))
    assert outcome.view["status"] == scenario.status
    shown = {
        name: outcome.actions[name]["status"] if name in outcome.actions else None
        for name in scenario.actions
    }
    assert shown == dict(scenario.actions), scenario.why
    assert sorted(scenario.not_run & outcome.actions.keys()) == []
    if scenario.variables is not None:
        assert outcome.run.variables == dict(scenario.variables), scenario.why
    if scenario.response is not None:
        status, body = scenario.response
        assert outcome.run.response is not None
        assert (outcome.run.response["statusCode"], outcome.run.response.get("body")) == (status, body)
    else:
        assert outcome.run.response is None
    for name, node in outcome.actions.items():
        inputs = node.get("inputs")
        if node["type"] == "Http" and isinstance(inputs, dict) and "uri" in inputs:
            assert str(inputs["uri"]).startswith("http://127.0.0.1:"), f"{name} left the machine"
    counted = {
        name: len(outcome.actions.get(name, {}).get("repetitions", [])) for name in scenario.iterations
    }
    assert counted == dict(scenario.iterations), scenario.why
    assert Counter(call.path for call in outcome.calls) == Counter(scenario.http), scenario.why
    if scenario.check is not None:
        scenario.check(outcome)


def test_virtual_clock_starts_on_a_monday() -> None:
    """The recurrence scenarios count weekdays from utcNow(), which reads this clock."""
    assert VIRTUAL_EPOCH.isoformat() == "2024-01-01T00:00:00+00:00"
    assert VIRTUAL_EPOCH.strftime("%A") == "Monday"
