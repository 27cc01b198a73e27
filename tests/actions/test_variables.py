from __future__ import annotations

import pytest

from pairflow.definition.model import Status
from tests.actions.conftest import RunAction


def init(*variables: dict[str, object]) -> dict[str, object]:
    return {"type": "InitializeVariable", "inputs": {"variables": list(variables)}}


@pytest.mark.parametrize(
    ("type_name", "value"),
    [
        ("String", "a"),
        ("integer", 3),
        ("Float", 1.5),
        ("float", 2),
        ("BOOLEAN", True),
        ("Array", [1]),
        ("object", {"a": 1}),
    ],
)
def test_initialize_variable_declares_each_type_case_insensitively(
    run_action: RunAction, type_name: str, value: object
) -> None:
    outcome = run_action(init({"name": "v", "type": type_name, "value": value}))
    assert outcome.result.status is Status.SUCCEEDED
    assert outcome.variables == {"v": value}
    assert outcome.ctx.variables.type_of("v") == type_name.lower()


def test_initialize_variable_evaluates_the_value(run_action: RunAction) -> None:
    outcome = run_action(init({"name": "n", "type": "Integer", "value": "@add(2, 3)"}))
    assert outcome.variables == {"n": 5}


def test_initialize_variable_without_a_value_declares_null(run_action: RunAction) -> None:
    assert run_action(init({"name": "s", "type": "String"})).variables == {"s": None}


@pytest.mark.parametrize(
    ("type_name", "value", "kind"),
    [
        ("Integer", "5", "String"),
        ("Integer", 1.5, "Float"),
        ("Boolean", 1, "Integer"),
        ("Array", {}, "Object"),
    ],
)
def test_initialize_variable_refuses_a_value_of_another_type(
    run_action: RunAction, type_name: str, value: object, kind: str
) -> None:
    outcome = run_action(init({"name": "v", "type": type_name, "value": value}))
    assert outcome.result.status is Status.FAILED
    assert outcome.result.code == "InvalidTemplate"
    assert outcome.result.error is not None
    assert (
        f"The variable 'v' of type '{type_name}' cannot be initialized or updated with value of type '{kind}'"
        in outcome.result.error["message"]
    )
    assert outcome.variables == {}


def test_initialize_variable_refuses_an_unknown_type(run_action: RunAction) -> None:
    result = run_action(init({"name": "v", "type": "decimal", "value": 1})).result
    assert result.status is Status.FAILED
    assert result.error is not None
    assert "'decimal'" in result.error["message"]


def test_initializing_a_declared_variable_again_fails_and_keeps_its_value(run_action: RunAction) -> None:
    outcome = run_action(init({"name": "v", "type": "Integer", "value": 2}), variables={"v": ("integer", 1)})
    assert outcome.result.status is Status.FAILED
    assert outcome.variables == {"v": 1}


def test_a_failed_initialize_declares_none_of_its_variables(run_action: RunAction) -> None:
    outcome = run_action(
        init({"name": "a", "type": "String", "value": "ok"}, {"name": "b", "type": "Integer", "value": "no"})
    )
    assert outcome.result.status is Status.FAILED
    assert outcome.variables == {}


def test_set_variable_replaces_the_value_and_outputs_name_and_value(run_action: RunAction) -> None:
    raw = {"type": "SetVariable", "inputs": {"name": "s", "value": "@concat(variables('s'), 'b')"}}
    outcome = run_action(raw, variables={"s": ("string", "a")})
    assert outcome.result.status is Status.SUCCEEDED
    assert outcome.variables == {"s": "ab"}
    assert outcome.result.outputs == {"body": {"name": "s", "value": "ab"}}


def test_set_variable_of_an_undeclared_variable_fails(run_action: RunAction) -> None:
    result = run_action({"type": "SetVariable", "inputs": {"name": "ghost", "value": 1}}).result
    assert result.status is Status.FAILED
    assert result.error is not None
    assert "'ghost'" in result.error["message"]


def test_set_variable_refuses_a_value_of_another_type(run_action: RunAction) -> None:
    outcome = run_action(
        {"type": "SetVariable", "inputs": {"name": "n", "value": "x"}}, variables={"n": ("integer", 1)}
    )
    assert outcome.result.code == "InvalidTemplate"
    assert outcome.variables == {"n": 1}


def test_increment_variable_adds_one_by_default(run_action: RunAction) -> None:
    outcome = run_action(
        {"type": "IncrementVariable", "inputs": {"name": "n"}}, variables={"n": ("integer", 4)}
    )
    assert outcome.variables == {"n": 5}
    assert outcome.result.outputs == {"body": {"name": "n", "value": 5}}


def test_decrement_variable_subtracts_the_given_value(run_action: RunAction) -> None:
    outcome = run_action(
        {"type": "DecrementVariable", "inputs": {"name": "f", "value": 0.5}}, variables={"f": ("float", 2)}
    )
    assert outcome.variables == {"f": 1.5}


def test_increment_of_an_integer_by_a_float_fails(run_action: RunAction) -> None:
    outcome = run_action(
        {"type": "IncrementVariable", "inputs": {"name": "n", "value": 0.5}}, variables={"n": ("integer", 1)}
    )
    assert outcome.result.status is Status.FAILED
    assert outcome.variables == {"n": 1}


def test_increment_of_a_string_variable_fails_naming_the_supported_types(run_action: RunAction) -> None:
    result = run_action(
        {"type": "IncrementVariable", "inputs": {"name": "s"}}, variables={"s": ("string", "a")}
    ).result
    assert result.status is Status.FAILED
    assert result.error is not None
    assert "only supports variables of types 'Float, Integer'" in result.error["message"]


def test_append_to_array_variable_adds_one_item(run_action: RunAction) -> None:
    outcome = run_action(
        {"type": "AppendToArrayVariable", "inputs": {"name": "a", "value": {"k": 1}}},
        variables={"a": ("array", [0])},
    )
    assert outcome.variables == {"a": [0, {"k": 1}]}


def test_append_to_array_variable_refuses_an_array_value_with_logic_apps_message(
    run_action: RunAction,
) -> None:
    outcome = run_action(
        {"type": "AppendToArrayVariable", "inputs": {"name": "rows", "value": [1, 2]}},
        variables={"rows": ("array", [])},
    )
    assert outcome.result.status is Status.FAILED
    assert outcome.result.error is not None
    assert outcome.result.error["message"] == (
        "The input value is of type 'Array' which cannot be appended to the variable 'rows' of type 'Array'. "
        "The action type 'AppendToArrayVariable' only supports values of types "
        "'Float, Integer, String, Boolean, Object'."
    )
    assert outcome.variables == {"rows": []}


def test_append_to_string_variable_appends_text(run_action: RunAction) -> None:
    outcome = run_action(
        {"type": "AppendToStringVariable", "inputs": {"name": "s", "value": 42}},
        variables={"s": ("string", "n=")},
    )
    assert outcome.variables == {"s": "n=42"}


def test_append_to_string_variable_refuses_a_non_string_variable(run_action: RunAction) -> None:
    outcome = run_action(
        {"type": "AppendToStringVariable", "inputs": {"name": "a", "value": "x"}},
        variables={"a": ("array", [])},
    )
    assert outcome.result.status is Status.FAILED
    assert outcome.variables == {"a": []}
