from __future__ import annotations

from pairflow.definition.model import Status
from tests.actions.conftest import RunAction


def test_compose_outputs_are_the_evaluated_value_itself(run_action: RunAction) -> None:
    raw = {"type": "Compose", "inputs": {"sum": "@add(1, 2)", "name": "@{variables('who')}!"}}
    outcome = run_action(raw, variables={"who": ("string", "Ada")})
    assert outcome.result.status is Status.SUCCEEDED
    assert outcome.result.outputs == {"sum": 3, "name": "Ada!"}
    assert outcome.result.inputs == {"sum": 3, "name": "Ada!"}
    assert outcome.result.code == "OK"


def test_compose_of_a_scalar_outputs_the_scalar(run_action: RunAction) -> None:
    assert run_action({"type": "Compose", "inputs": "@mul(6, 7)"}).result.outputs == 42


def test_compose_with_a_failing_expression_fails_with_invalid_template(run_action: RunAction) -> None:
    outcome = run_action({"type": "Compose", "inputs": {"x": "@div(1, 0)"}}, name="Compose_2")
    result = outcome.result
    assert result.status is Status.FAILED
    assert result.code == "InvalidTemplate"
    assert result.error is not None
    assert result.error["code"] == "InvalidTemplate"
    message = result.error["message"]
    assert message.startswith(
        "Unable to process template language expressions in action 'Compose_2' inputs "
        "at line '1' and column '"
    )
    assert "div(1, 0)" in message


def test_compose_referencing_an_unknown_variable_fails_with_invalid_template(run_action: RunAction) -> None:
    result = run_action({"type": "Compose", "inputs": "@variables('nope')"}).result
    assert result.code == "InvalidTemplate"
    assert result.error is not None
    assert "nope" in result.error["message"]
