from __future__ import annotations

from datetime import timedelta

import pytest

from pairflow.definition.model import Status
from pairflow.errors import ActionFailure
from pairflow.jsontypes import JSON, JSONObject
from tests.actions.conftest import START, RunAction


@pytest.mark.parametrize(
    ("count", "unit", "seconds"),
    [(30, "Second", 30), (2, "minute", 120), (1, "Hour", 3600), (1, "Day", 86400), (1, "Week", 604800)],
)
def test_wait_interval_sleeps_on_the_injected_clock(
    run_action: RunAction, count: int, unit: str, seconds: float
) -> None:
    outcome = run_action({"type": "Wait", "inputs": {"interval": {"count": count, "unit": unit}}})
    assert outcome.result.status is Status.SUCCEEDED
    assert outcome.sleeps == [seconds]


def test_wait_of_a_month_counts_calendar_months(run_action: RunAction) -> None:
    outcome = run_action({"type": "Wait", "inputs": {"interval": {"count": 1, "unit": "Month"}}})
    # 31 January 2024 + 1 month is 29 February 2024.
    assert outcome.sleeps == [timedelta(days=29).total_seconds()]


def test_wait_until_sleeps_until_the_timestamp(run_action: RunAction) -> None:
    until = (START + timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    outcome = run_action({"type": "Wait", "inputs": {"until": {"timestamp": until}}})
    assert outcome.sleeps == [300]


def test_wait_until_a_past_timestamp_does_not_sleep(run_action: RunAction) -> None:
    outcome = run_action({"type": "Wait", "inputs": {"until": {"timestamp": "2000-01-01T00:00:00Z"}}})
    assert outcome.result.status is Status.SUCCEEDED
    assert outcome.sleeps == []


def test_wait_with_an_unknown_unit_fails(run_action: RunAction) -> None:
    outcome = run_action({"type": "Wait", "inputs": {"interval": {"count": 1, "unit": "Fortnight"}}})
    assert outcome.result.status is Status.FAILED
    assert outcome.sleeps == []


def test_response_outputs_status_headers_and_body(run_action: RunAction) -> None:
    raw = {
        "type": "Response",
        "kind": "Http",
        "inputs": {"statusCode": "@add(200, 1)", "headers": {"X-N": 1}, "body": {"ok": True}},
    }
    result = run_action(raw).result
    assert result.status is Status.SUCCEEDED
    assert result.outputs == {"statusCode": 201, "headers": {"X-N": "1"}, "body": {"ok": True}}


def test_response_with_an_invalid_status_code_fails(run_action: RunAction) -> None:
    result = run_action({"type": "Response", "inputs": {"statusCode": 42}}).result
    assert result.status is Status.FAILED
    assert result.code == "InvalidTemplate"


class Children:
    """A workflow caller that answers from a table and records each call."""

    def __init__(self, replies: dict[str, JSONObject | Exception]) -> None:
        self.replies = replies
        self.calls: list[tuple[str, str, JSON, JSONObject]] = []

    async def __call__(self, workflow: str, trigger: str, body: JSON, headers: JSONObject) -> JSONObject:
        self.calls.append((workflow, trigger, body, headers))
        reply = self.replies[workflow]
        if isinstance(reply, Exception):
            raise reply
        return reply


def workflow_action(body: JSON = None) -> JSONObject:
    return {
        "type": "Workflow",
        "inputs": {
            "host": {
                "workflow": {
                    "id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Logic/workflows/child"
                },
                "triggerName": "manual",
            },
            "body": body,
            "headers": {"X-Trace": "t1"},
        },
    }


def test_workflow_calls_the_child_named_by_the_last_segment_of_its_id(run_action: RunAction) -> None:
    children = Children({"child": {"statusCode": 200, "headers": {"A": "b"}, "body": {"doubled": 4}}})
    outcome = run_action(workflow_action({"n": "@mul(2, 1)"}), caller=children)
    assert children.calls == [("child", "manual", {"n": 2}, {"X-Trace": "t1"})]
    assert outcome.result.status is Status.SUCCEEDED
    assert outcome.result.outputs == {"statusCode": 200, "headers": {"A": "b"}, "body": {"doubled": 4}}


def test_workflow_whose_child_fails_fails_with_the_childs_error_code(run_action: RunAction) -> None:
    reply: JSONObject = {
        "statusCode": 502,
        "headers": {},
        "body": {"error": {"code": "ActionFailed", "message": "x"}},
    }
    result = run_action(workflow_action(), caller=Children({"child": reply})).result
    assert result.status is Status.FAILED
    assert result.error == {"code": "ActionFailed", "message": "x"}
    assert result.code == "BadGateway"
    assert result.outputs is not None
    assert result.outputs["statusCode"] == 502


def test_workflow_that_cannot_be_called_fails_with_the_callers_code(run_action: RunAction) -> None:
    children = Children({"child": ActionFailure("The workflow 'child' is not deployed.", "WorkflowNotFound")})
    result = run_action(workflow_action(), caller=children).result
    assert result.status is Status.FAILED
    assert result.code == "WorkflowNotFound"
