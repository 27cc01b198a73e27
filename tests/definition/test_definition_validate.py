"""Validation reports every problem with its JSON pointer and what was expected."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from pairflow.definition.validate import load_and_validate, validate_definition
from pairflow.errors import DefinitionError


def _definition(actions: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    definition: dict[str, Any] = {
        "$schema": "https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/workflowdefinition.json#",
        "contentVersion": "1.0.0.0",
        "triggers": {"manual": {"type": "Request", "kind": "Http"}},
        "actions": actions
        if actions is not None
        else {"Compose": {"type": "Compose", "inputs": 1, "runAfter": {}}},
    }
    definition.update(extra)
    return definition


def _one(actions: dict[str, Any], **extra: Any) -> list[tuple[str, str]]:
    return validate_definition(_definition(actions, **extra))


def test_minimal_definition_is_valid() -> None:
    assert validate_definition(_definition()) == []


def test_structure_errors_carry_pointer_and_expectation() -> None:
    issues = validate_definition(
        {"triggers": [], "actions": {"A": {"runAfter": {"B": "Succeeded"}}, "B": {"type": 3}}, "extra": 1}
    )
    assert (
        "",
        "unexpected property 'extra' (expected only: $schema, contentVersion, description, "
        "parameters, triggers, actions, outputs, staticResults)",
    ) in issues
    assert ("/triggers", "expected an object, got an array") in issues
    assert ("/actions/A", "missing required property 'type'") in issues
    assert ("/actions/A/runAfter/B", "expected an array, got a string") in issues
    assert ("/actions/B/type", "expected a string, got an integer") in issues


def test_definition_that_is_not_an_object_is_one_issue() -> None:
    assert validate_definition([]) == [("", "expected an object, got an array")]


def test_run_after_must_name_a_sibling() -> None:
    issues = _one(
        {
            "Outer": {"type": "Compose", "inputs": 1},
            "Scope": {
                "type": "Scope",
                "actions": {"Inner": {"type": "Compose", "inputs": 1, "runAfter": {"Outer": ["Succeeded"]}}},
            },
            "Last": {"type": "Compose", "inputs": 1, "runAfter": {"Ghost": ["Succeeded"]}},
        }
    )
    assert issues == [
        ("/actions/Last/runAfter/Ghost", "runAfter names 'Ghost', which is not an action of this workflow"),
        (
            "/actions/Scope/actions/Inner/runAfter/Outer",
            "runAfter names 'Outer', which is defined at /actions/Outer, not in the same action list; "
            "runAfter may only name sibling actions",
        ),
    ]


def test_run_after_statuses_match_case_insensitively_and_unknown_ones_are_named() -> None:
    issues = _one(
        {
            "A": {"type": "Compose", "inputs": 1},
            "B": {
                "type": "Compose",
                "inputs": 1,
                "runAfter": {"A": ["SUCCEEDED", "timedout", "Failed", "Skipped"]},
            },
            "C": {"type": "Compose", "inputs": 1, "runAfter": {"A": ["Succeeded", "Done"]}},
        }
    )
    assert issues == [
        ("/actions/C/runAfter/A/1", "expected a status (Succeeded, Failed, Skipped or TimedOut), got 'Done'")
    ]


def test_run_after_cycle_is_named() -> None:
    issues = _one(
        {
            "A": {"type": "Compose", "inputs": 1, "runAfter": {"C": ["Succeeded"]}},
            "B": {"type": "Compose", "inputs": 1, "runAfter": {"A": ["Succeeded"]}},
            "C": {"type": "Compose", "inputs": 1, "runAfter": {"B": ["Succeeded"]}},
        }
    )
    assert len(issues) == 1
    pointer, message = issues[0]
    assert pointer.startswith("/actions/") and pointer.endswith("/runAfter")
    assert message.startswith("runAfter cycle: ")
    assert set(message.removeprefix("runAfter cycle: ").split(";")[0].split(" -> ")) == {"A", "B", "C"}


def test_self_dependency_is_a_cycle() -> None:
    issues = _one({"A": {"type": "Compose", "inputs": 1, "runAfter": {"A": ["Succeeded"]}}})
    assert issues == [("/actions/A/runAfter", "runAfter cycle: A -> A; no action in it can ever start")]


def test_a_long_chain_is_checked_without_recursion() -> None:
    actions = {
        f"a{i}": {"type": "Compose", "inputs": i, "runAfter": {f"a{i - 1}": ["Succeeded"]} if i else {}}
        for i in range(3000)
    }
    assert _one(actions) == []


def test_unsupported_action_type_gets_a_truthful_message() -> None:
    issues = _one({"Send_email": {"type": "ApiConnection", "inputs": {}}})
    assert issues == [
        (
            "/actions/Send_email",
            "action type 'ApiConnection' (a managed connector hosted by Azure) "
            "is not supported by pairflow yet",
        )
    ]


def test_unknown_action_and_trigger_types_are_named() -> None:
    issues = validate_definition(
        _definition({"X": {"type": "Foo"}}, triggers={"t": {"type": "Carrier pigeon"}})
    )
    assert issues[0][0] == "/triggers/t"
    assert issues[0][1].startswith("unknown trigger type 'Carrier pigeon' (expected one of ")
    assert issues[1][0] == "/actions/X"
    assert issues[1][1].startswith("unknown action type 'Foo' (expected one of AppendToArrayVariable, ")


def test_types_match_case_insensitively() -> None:
    assert _one({"A": {"type": "compose", "inputs": 1}, "B": {"type": "SCOPE", "actions": {}}}) == []


def test_action_names_must_be_unique_across_nesting_levels() -> None:
    issues = _one(
        {
            "Same": {"type": "Compose", "inputs": 1},
            "Scope": {"type": "Scope", "actions": {"Same": {"type": "Compose", "inputs": 2}}},
        }
    )
    assert issues == [
        (
            "/actions/Scope/actions/Same",
            "action name 'Same' is already used at /actions/Same; "
            "action names must be unique across the whole workflow",
        )
    ]


@pytest.mark.parametrize(
    ("action", "pointer", "message"),
    [
        (
            {"type": "If", "actions": {}},
            "/actions/X",
            "an If action needs 'expression' (the condition to evaluate)",
        ),
        (
            {"type": "Foreach", "actions": {}},
            "/actions/X",
            "a Foreach action needs 'foreach' (the array to loop over)",
        ),
        (
            {"type": "Until", "expression": "@true", "actions": {}},
            "/actions/X",
            "an Until action needs 'limit' (an object with 'count' and/or 'timeout')",
        ),
        (
            {"type": "Until", "expression": "@true", "limit": {"count": 0}},
            "/actions/X/limit/count",
            "expected a positive integer, got 0",
        ),
        (
            {"type": "Switch", "expression": "@1"},
            "/actions/X",
            "a Switch action needs 'cases' (an object of cases, each with 'case' and 'actions')",
        ),
        (
            {"type": "Terminate", "inputs": {"runStatus": "Exploded"}},
            "/actions/X/inputs/runStatus",
            'expected Failed, Cancelled or Succeeded, got "Exploded"',
        ),
        ({"type": "Terminate"}, "/actions/X", "a Terminate action needs an 'inputs' object"),
        (
            {"type": "SetVariable", "inputs": {"value": 1}},
            "/actions/X/inputs",
            "a SetVariable action needs 'name' (the variable's name)",
        ),
        (
            {"type": "IncrementVariable", "inputs": {}},
            "/actions/X/inputs",
            "an IncrementVariable action needs 'name' (the variable's name)",
        ),
        (
            {"type": "Http", "inputs": {"method": "GET"}},
            "/actions/X/inputs",
            "an Http action needs 'uri' (the URL to call)",
        ),
        (
            {"type": "Http", "inputs": {"method": "FETCH", "uri": "http://x"}},
            "/actions/X/inputs/method",
            'expected an HTTP method (GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, TRACE), got "FETCH"',
        ),
        (
            {"type": "Response", "inputs": {}},
            "/actions/X/inputs",
            "a Response action needs 'statusCode' (the HTTP status code to return)",
        ),
        (
            {"type": "Response", "inputs": {"statusCode": 42}},
            "/actions/X/inputs/statusCode",
            "expected an HTTP status code (100-599), got 42",
        ),
        (
            {"type": "Workflow", "inputs": {"host": {}}},
            "/actions/X/inputs/host",
            "a Workflow action needs 'workflow.id' (the workflow to call) in 'host'",
        ),
        (
            {"type": "ParseJson", "inputs": {"content": "@triggerBody()"}},
            "/actions/X/inputs",
            "a ParseJson action needs 'schema' (the JSON Schema of the content)",
        ),
        (
            {"type": "Query", "inputs": {"from": []}},
            "/actions/X/inputs",
            "a Query action needs 'where' (the condition each item must meet)",
        ),
        (
            {"type": "Select", "inputs": {"select": 1}},
            "/actions/X/inputs",
            "a Select action needs 'from' (the array to map)",
        ),
        (
            {"type": "Join", "inputs": {"from": []}},
            "/actions/X/inputs",
            "a Join action needs 'joinWith' (the separator)",
        ),
        (
            {"type": "Table", "inputs": {"from": [], "format": "XLS"}},
            "/actions/X/inputs/format",
            'expected CSV or HTML, got "XLS"',
        ),
        (
            {"type": "Wait", "inputs": {}},
            "/actions/X/inputs",
            "a Wait action needs 'interval' ({count, unit}) or 'until' ({timestamp})",
        ),
        (
            {"type": "Wait", "inputs": {"interval": {"count": 1, "unit": "Fortnight"}}},
            "/actions/X/inputs/interval/unit",
            'expected Second, Minute, Hour, Day, Week or Month, got "Fortnight"',
        ),
        (
            {
                "type": "InitializeVariable",
                "inputs": {"variables": [{"name": "v", "type": "integer", "value": "3"}]},
            },
            "/actions/X/inputs/variables/0/value",
            "expected a value of type integer, got a string",
        ),
        (
            {"type": "InitializeVariable", "inputs": {"variables": [{"name": "v", "type": "Decimal"}]}},
            "/actions/X/inputs/variables/0/type",
            'expected a variable type (string, integer, float, boolean, array, object), got "Decimal"',
        ),
        (
            {"type": "InitializeVariable", "inputs": {"variables": []}},
            "/actions/X/inputs/variables",
            "expected a non-empty array of variables, got an array",
        ),
    ],
)
def test_per_type_required_fields(action: dict[str, Any], pointer: str, message: str) -> None:
    assert _one({"X": action}) == [(pointer, message)]


def test_switch_case_values_must_be_unique() -> None:
    issues = _one(
        {
            "S": {
                "type": "Switch",
                "expression": "@1",
                "cases": {
                    "One": {"case": 1, "actions": {}},
                    "Uno": {"case": 1, "actions": {}},
                    "Str": {"case": "1", "actions": {}},
                },
            }
        }
    )
    assert issues == [
        (
            "/actions/S/cases/Uno/case",
            "case value 1 is already used by case 'One'; case values must be unique",
        )
    ]


@pytest.mark.parametrize(
    "action",
    [
        {"type": "Terminate", "inputs": {"runStatus": "SUCCEEDED"}},
        {"type": "Response", "kind": "http", "inputs": {"statusCode": "@variables('code')"}},
        {
            "type": "Http",
            "inputs": {"method": "post", "uri": "@parameters('u')"},
            "operationOptions": "DisableAsyncPattern",
        },
        {
            "type": "InitializeVariable",
            "inputs": {"variables": [{"name": "b", "type": "Boolean", "value": "@false"}]},
        },
        {"type": "InitializeVariable", "inputs": {"variables": [{"name": "f", "type": "float", "value": 3}]}},
        {"type": "InitializeVariable", "inputs": {"variables": [{"name": "a", "type": "array"}]}},
        {"type": "Wait", "inputs": {"until": {"timestamp": "@triggerBody()?['at']"}}},
        {"type": "Until", "expression": "@true", "limit": {"timeout": "PT1H"}, "actions": {}},
        {"type": "IncrementVariable", "inputs": {"name": "n"}},
    ],
)
def test_real_world_quirks_are_accepted(action: dict[str, Any]) -> None:
    assert _one({"X": action}) == []


def test_recurrence_trigger_needs_frequency_and_positive_interval() -> None:
    issues = validate_definition(
        _definition(
            triggers={"r": {"type": "Recurrence", "recurrence": {"frequency": "Fortnight", "interval": 0}}}
        )
    )
    assert issues == [
        (
            "/triggers/r/recurrence/frequency",
            'expected Second, Minute, Hour, Day, Week or Month, got "Fortnight"',
        ),
        ("/triggers/r/recurrence/interval", "expected a positive integer, got 0"),
    ]
    missing = validate_definition(_definition(triggers={"r": {"type": "Recurrence"}}))
    assert missing == [
        ("/triggers/r", "a Recurrence trigger needs 'recurrence' (an object with frequency and interval)")
    ]


def test_unsupported_trigger_and_second_trigger_are_reported() -> None:
    issues = validate_definition(
        _definition(triggers={"a": {"type": "Request"}, "b": {"type": "ApiConnection", "inputs": {}}})
    )
    assert issues == [
        ("/triggers", "more than one trigger is not supported by pairflow yet (found 2)"),
        (
            "/triggers/b",
            "trigger type 'ApiConnection' (a managed connector hosted by Azure) "
            "is not supported by pairflow yet",
        ),
    ]


def test_parameter_declarations_are_checked() -> None:
    issues = _one(
        {},
        parameters={
            "ok": {"type": "Int", "defaultValue": 3},
            "f": {"type": "float", "defaultValue": 2},
            "badType": {"type": "decimal"},
            "badDefault": {"type": "Bool", "defaultValue": "true"},
            "notAllowed": {"type": "String", "defaultValue": "c", "allowedValues": ["a", "b"]},
            "secure": {"type": "SecureString"},
        },
    )
    assert issues == [
        (
            "/parameters/badType/type",
            "expected a parameter type "
            "(string, securestring, int, float, bool, array, object, secureobject), "
            "got 'decimal'",
        ),
        ("/parameters/badDefault/defaultValue", "expected a boolean (bool), got a string"),
        ("/parameters/notAllowed/defaultValue", 'expected one of the allowedValues, got "c"'),
    ]


def test_every_problem_is_reported_not_just_the_first() -> None:
    issues = _one(
        {
            "A": {"type": "Http", "inputs": {}},
            "B": {"type": "Terminate", "inputs": {"runStatus": "x"}, "runAfter": {"Z": ["Succeeded"]}},
        }
    )
    assert len(issues) == 4


def test_load_and_validate_returns_model_and_prefixes_pointers_with_the_place_in_the_file() -> None:
    good: dict[str, Any] = {"definition": _definition(), "kind": "Stateful"}
    loaded, model = load_and_validate(good)
    assert loaded.kind == "Stateful"
    assert list(model.all_actions) == ["Compose"]
    bad = copy.deepcopy(good)
    bad["definition"]["actions"]["Compose"]["type"] = "Nope"
    with pytest.raises(DefinitionError) as caught:
        load_and_validate(bad)
    assert caught.value.issues[0][0] == "/definition/actions/Compose"
    assert caught.value.lines()[0].startswith(
        "<definition>: /definition/actions/Compose: unknown action type 'Nope'"
    )


def _expressions_ready() -> bool:
    try:
        from pairflow import expressions
    except ImportError:
        return False
    return hasattr(expressions, "check_templates") and hasattr(expressions, "referenced_actions")


needs_expressions = pytest.mark.skipif(
    not _expressions_ready(), reason="pairflow.expressions has not landed yet"
)


@needs_expressions
def test_expression_that_does_not_parse_is_reported_at_its_string() -> None:
    issues = _one({"X": {"type": "Compose", "inputs": {"a": ["@add(1,"]}}})
    assert [pointer for pointer, _ in issues] == ["/actions/X/inputs/a/0"]


@needs_expressions
def test_reference_to_an_action_that_does_not_exist_is_refused_like_logic_apps() -> None:
    issues = _one(
        {
            "A": {"type": "Compose", "inputs": 1},
            "X": {
                "type": "Compose",
                "inputs": "@{body('A')} @{outputs('Ghost')}",
                "runAfter": {"A": ["Succeeded"]},
            },
        },
        outputs={"o": {"type": "String", "value": "@body('Phantom')"}},
    )
    assert issues == [
        (
            "/actions/X/inputs",
            "the action 'Ghost' referenced by 'inputs' in action 'X' is not defined in the workflow",
        ),
        (
            "/outputs/o/value",
            "the action 'Phantom' referenced by 'value' in output 'o' is not defined in the workflow",
        ),
    ]


@needs_expressions
def test_references_to_nested_actions_and_computed_names_are_accepted() -> None:
    issues = _one(
        {
            "Scope": {"type": "Scope", "actions": {"Inner": {"type": "Compose", "inputs": 1}}},
            "X": {
                "type": "Compose",
                "inputs": ["@result('Scope')", "@body('Inner')", "@body(variables('which'))"],
                "runAfter": {"Scope": ["Succeeded"]},
            },
        }
    )
    assert issues == []
