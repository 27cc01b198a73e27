from __future__ import annotations

from pairflow.definition.model import Status
from tests.actions.conftest import RunAction

PEOPLE = [{"name": "Ada", "age": 36}, {"name": "Bob", "age": 17}, {"name": "Cy", "age": 52}]


def test_parse_json_parses_string_content_and_outputs_it_as_body(run_action: RunAction) -> None:
    raw = {
        "type": "ParseJson",
        "inputs": {"content": '{"id": 7, "tags": ["a"]}', "schema": {"type": "object"}},
    }
    result = run_action(raw).result
    assert result.status is Status.SUCCEEDED
    assert result.outputs == {"body": {"id": 7, "tags": ["a"]}}


def test_parse_json_accepts_already_parsed_content(run_action: RunAction) -> None:
    raw = {"type": "ParseJson", "inputs": {"content": "@variables('o')", "schema": {}}}
    assert run_action(raw, variables={"o": ("object", {"a": 1})}).result.outputs == {"body": {"a": 1}}


def test_parse_json_schema_failure_lists_every_violation(run_action: RunAction) -> None:
    schema = {
        "type": "object",
        "properties": {
            "rows": {
                "type": "array",
                "items": {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["name"]},
            }
        },
    }
    content = {"rows": [{"name": "a", "n": 1}, {"name": "b", "n": "x"}, {"n": 3}]}
    result = run_action({"type": "ParseJson", "inputs": {"content": content, "schema": schema}}).result
    assert result.status is Status.FAILED
    assert result.code == "ValidationFailed"
    assert result.error == {"code": "ValidationFailed", "message": "The schema validation failed."}
    errors = result.outputs["errors"]
    assert [(e["path"], e["errorType"], e["schemaId"]) for e in errors] == [
        ("rows[1].n", "type", "#/properties/rows/items/properties/n"),
        ("rows[2]", "required", "#/properties/rows/items"),
    ]
    assert errors[0]["message"] == "Invalid type. Expected Integer but got String."
    assert errors[0]["value"] == "x"


def test_parse_json_of_text_that_is_not_json_fails_with_invalid_json(run_action: RunAction) -> None:
    result = run_action({"type": "ParseJson", "inputs": {"content": '{"a":1,', "schema": {}}}).result
    assert result.code == "InvalidJSON"
    assert result.error is not None
    assert result.error["message"].startswith(
        "The 'content' property of actions of type 'ParseJson' must be valid JSON."
    )


def test_parse_json_of_empty_content_fails_like_logic_apps(run_action: RunAction) -> None:
    result = run_action({"type": "ParseJson", "inputs": {"content": "", "schema": {}}}).result
    assert result.status is Status.FAILED
    assert result.code == "BadRequest"
    assert result.error is not None
    assert result.error["code"] == "InvalidTemplate"


def test_query_keeps_the_items_whose_where_is_true(run_action: RunAction) -> None:
    raw = {
        "type": "Query",
        "inputs": {"from": "@variables('people')", "where": "@greater(item()?['age'], 18)"},
    }
    result = run_action(raw, variables={"people": ("array", PEOPLE)}).result
    assert result.status is Status.SUCCEEDED
    assert result.outputs == {"body": [PEOPLE[0], PEOPLE[2]]}


def test_query_from_a_non_array_fails_with_logic_apps_message(run_action: RunAction) -> None:
    raw = {"type": "Query", "inputs": {"from": None, "where": "@true"}}
    result = run_action(raw, name="Filter").result
    assert result.code == "InvalidTemplate"
    assert result.error is not None
    assert result.error["message"] == (
        "Unable to process template language expressions in action 'Filter' inputs "
        "at line '0' and column '0': 'The 'from' property value in the 'query' action inputs "
        "is of type 'Null'. The value must be an array.'."
    )


def test_select_maps_each_item_through_an_object_template(run_action: RunAction) -> None:
    raw = {
        "type": "Select",
        "inputs": {
            "from": PEOPLE,
            "select": {"who": "@item()['name']", "adult": "@greater(item()['age'], 18)"},
        },
    }
    result = run_action(raw).result
    assert result.outputs == {
        "body": [{"who": "Ada", "adult": True}, {"who": "Bob", "adult": False}, {"who": "Cy", "adult": True}]
    }


def test_select_with_a_single_value_produces_a_flat_array(run_action: RunAction) -> None:
    raw = {"type": "Select", "inputs": {"from": PEOPLE, "select": "@item()['age']"}}
    assert run_action(raw).result.outputs == {"body": [36, 17, 52]}


def test_join_joins_items_as_text(run_action: RunAction) -> None:
    raw = {"type": "Join", "inputs": {"from": ["a", 1, None, True], "joinWith": ";"}}
    assert run_action(raw).result.outputs == {"body": "a;1;;True"}


def test_table_csv_uses_the_keys_as_headers_and_quotes_where_needed(run_action: RunAction) -> None:
    rows = [{"ID": 0, "Name": "Apples"}, {"ID": 1, "Name": 'Big, "red"'}]
    result = run_action({"type": "Table", "inputs": {"from": rows, "format": "CSV"}}).result
    assert result.outputs == {"body": 'ID,Name\r\n0,Apples\r\n1,"Big, ""red"""\r\n'}


def test_table_html_escapes_values(run_action: RunAction) -> None:
    rows = [{"ID": 0, "Name": "<b>&"}]
    result = run_action({"type": "Table", "inputs": {"from": rows, "format": "HTML"}}).result
    assert result.outputs == {
        "body": "<table><thead><tr><th>ID</th><th>Name</th></tr></thead>"
        "<tbody><tr><td>0</td><td>&lt;b&gt;&amp;</td></tr></tbody></table>"
    }


def test_table_with_columns_evaluates_each_value_per_item(run_action: RunAction) -> None:
    raw = {
        "type": "Table",
        "inputs": {
            "from": PEOPLE[:2],
            "format": "CSV",
            "columns": [
                {"header": "Who", "value": "@item()['name']"},
                {"header": "Next", "value": "@add(item()['age'], 1)"},
            ],
        },
    }
    assert run_action(raw).result.outputs == {"body": "Who,Next\r\nAda,37\r\nBob,18\r\n"}


def test_select_whose_mapping_fails_for_an_item_fails_with_invalid_template(run_action: RunAction) -> None:
    raw = {"type": "Select", "inputs": {"from": [1, 0], "select": "@div(10, item())"}}
    result = run_action(raw).result
    assert result.status is Status.FAILED
    assert result.code == "InvalidTemplate"


def test_query_whose_where_is_not_a_boolean_fails(run_action: RunAction) -> None:
    raw = {"type": "Query", "inputs": {"from": [1], "where": "@item()"}}
    result = run_action(raw).result
    assert result.status is Status.FAILED
    assert result.error is not None
    assert "boolean" in result.error["message"]
