"""Templates and parameter files: the example plans each location, and every bad input is reported at
once naming its file and JSON pointer, without showing secure values."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from pairflow.continuity.template import TemplateError, plan_from_files, plan_location

EXAMPLES = Path(__file__).parents[2] / "examples" / "continuity"
TEMPLATE: dict[str, Any] = json.loads((EXAMPLES / "template.json").read_text())
WEST: dict[str, Any] = json.loads((EXAMPLES / "parameters.west.json").read_text())
ORDERS: dict[str, Any] = json.loads((EXAMPLES / "orders.json").read_text())


def read_file(name: str) -> Any:
    assert name == "orders.json"
    return copy.deepcopy(ORDERS)


def plan(
    template: dict[str, Any] | None = None, parameters: dict[str, Any] | None = None, at: str = "west"
) -> Any:
    return plan_location(
        template if template is not None else copy.deepcopy(TEMPLATE),
        "template.json",
        parameters if parameters is not None else copy.deepcopy(WEST),
        "parameters.west.json",
        at,
        read_file=read_file,
    )


def problems(
    template: dict[str, Any] | None = None, parameters: dict[str, Any] | None = None, at: str = "west"
) -> list[str]:
    with pytest.raises(TemplateError) as caught:
        plan(template, parameters, at)
    return caught.value.lines()


def test_the_example_plans_both_locations_with_their_own_values() -> None:
    west = plan_from_files(EXAMPLES / "template.json", EXAMPLES / "parameters.west.json", "west")
    east = plan_from_files(EXAMPLES / "template.json", EXAMPLES / "parameters.east.json", "east")
    assert (west.role, west.url, east.role, east.url) == (
        "primary",
        "http://127.0.0.1:8080",
        "secondary",
        "http://127.0.0.1:8081",
    )
    modes = {w.name: (w.deployment.mode, w.deployment.split) for w in west.workflows}
    assert modes["orders"] == ("active-active", None)
    assert modes["inbox"] == ("active-passive", None)
    assert modes["rows"] == ("active-active", None)
    split_west = next(w for w in west.workflows if w.name == "report").deployment.split
    split_east = next(w for w in east.workflows if w.name == "report").deployment.split
    assert (split_west and (split_west.parts, split_west.index)) == (2, 0)
    assert (split_east and (split_east.parts, split_east.index)) == (2, 1)


def test_connections_are_shared_or_per_location_and_secrets_stay_out_of_the_record() -> None:
    west = plan_from_files(EXAMPLES / "template.json", EXAMPLES / "parameters.west.json", "west")
    east = plan_from_files(EXAMPLES / "template.json", EXAMPLES / "parameters.east.json", "east")
    orders_west = next(w for w in west.workflows if w.name == "orders")
    orders_east = next(w for w in east.workflows if w.name == "orders")
    connections_west = orders_west.parameters["$connections"]
    connections_east = orders_east.parameters["$connections"]
    assert connections_west["salesforce"] == connections_east["salesforce"]
    assert "sql-west" in connections_west["ordersDb"]
    assert "sql-east" in connections_east["ordersDb"]
    record = orders_west.deployment.to_json()["connections"]
    assert record == {
        "salesforce": {
            "shared": True,
            "secure": False,
            "value": {"endpoint": "https://example.my.salesforce.com"},
        },
        "ordersDb": {"shared": False, "secure": True},
    }
    assert "west-secret" not in json.dumps(orders_west.deployment.to_json())


def test_a_missing_value_names_the_parameter_file_and_pointer() -> None:
    parameters = copy.deepcopy(WEST)
    del parameters["parameters"]["rowsUrl"]
    assert problems(parameters=parameters) == [
        "parameters.west.json: /parameters/rowsUrl/value: missing value for template parameter 'rowsUrl' "
        "(string with no defaultValue)"
    ]


def test_a_wrong_type_names_the_file_and_never_shows_a_secure_value() -> None:
    parameters = copy.deepcopy(WEST)
    parameters["parameters"]["ordersDb"]["value"] = 42
    parameters["parameters"]["inboxUrl"]["value"] = ["west-secret-looking"]
    lines = problems(parameters=parameters)
    assert (
        "parameters.west.json: /parameters/ordersDb/value: expected a string, got an integer (value hidden)"
        in lines
    )
    assert (
        'parameters.west.json: /parameters/inboxUrl/value: expected a string, got ["west-secret-looking"]'
        in lines
    )
    assert "42" not in "\n".join(lines)


def test_a_secure_value_used_as_a_plain_workflow_parameter_is_hidden_in_messages() -> None:
    template = copy.deepcopy(TEMPLATE)
    template["workflows"]["inbox"]["parameters"]["inboxUrl"] = "[parameters('ordersDb')]"
    template["workflows"]["inbox"]["definition"]["parameters"]["inboxUrl"]["type"] = "int"
    lines = problems(template)
    assert lines == [
        'template.json: /workflows/inbox/parameters/inboxUrl: expected an integer, got "(value hidden)"'
    ]


def test_an_unknown_location_and_an_invalid_role_are_named() -> None:
    template = copy.deepcopy(TEMPLATE)
    template["locations"]["east"]["role"] = "tertiary"
    lines = problems(template, at="north")
    assert "template.json: /locations/east/role: expected 'primary' or 'secondary', got 'tertiary'" in lines
    assert (
        "template.json: /locations: unknown location 'north' (the template declares: 'west', 'east')" in lines
    )


def test_an_unknown_parameter_in_the_file_is_refused() -> None:
    parameters = copy.deepcopy(WEST)
    parameters["parameters"]["colour"] = {"value": "blue"}
    lines = problems(parameters=parameters)
    assert lines[0].startswith("parameters.west.json: /parameters/colour/value: 'colour' is not a parameter")


def test_active_active_recurrence_is_refused_naming_workflow_trigger_and_rule() -> None:
    template = copy.deepcopy(TEMPLATE)
    template["workflows"]["report"]["mode"] = "active-active"
    template["workflows"]["report"]["split"] = False
    lines = problems(template)
    assert len(lines) == 1
    assert lines[0].startswith(
        "template.json: /workflows/report/mode: workflow 'report' cannot be active-active: its trigger "
        "'Every_10_minutes' (Recurrence) must be active-passive"
    )
    assert "Seed rule (Recurrence trigger)" in lines[0]


def test_client_state_polling_cannot_be_active_active_but_server_state_can() -> None:
    template = copy.deepcopy(TEMPLATE)
    template["workflows"]["inbox"]["mode"] = "active-active"
    lines = problems(template)
    assert lines[0].startswith(
        "template.json: /workflows/inbox/mode: workflow 'inbox' cannot be active-active"
    )
    assert "client-state polling" in lines[0]
    template["workflows"]["inbox"]["triggerState"] = "server"
    assert {w.name for w in plan(template).workflows} >= {"inbox"}


def test_every_problem_is_reported_at_once() -> None:
    template = copy.deepcopy(TEMPLATE)
    template["workflows"]["inbox"]["mode"] = "active-active"
    template["workflows"]["rows"]["split"] = "yes"
    template["connections"]["ordersDb"]["value"] = "Server=literal"
    template["workflows"]["report"]["parameters"]["target"] = "[concat('a', 'b')]"
    parameters = copy.deepcopy(WEST)
    del parameters["parameters"]["inboxUrl"]
    lines = problems(template, parameters)
    pointers = {line.split(": ")[0] + ": " + line.split(": ")[1] for line in lines}
    assert pointers == {
        "parameters.west.json: /parameters/inboxUrl/value",
        "template.json: /connections/ordersDb/value",
        "template.json: /workflows/report/parameters/target",
        "template.json: /workflows/inbox/mode",
        "template.json: /workflows/rows/split",
        "template.json: /workflows/orders/connections/1",
    }
    assert any("only the whole-string form [parameters('name')] is supported" in line for line in lines)


def test_a_split_without_start_time_is_refused() -> None:
    template = copy.deepcopy(TEMPLATE)
    del template["workflows"]["report"]["definition"]["triggers"]["Every_10_minutes"]["recurrence"][
        "startTime"
    ]
    lines = problems(template)
    assert lines[0].startswith(
        "template.json: /workflows/report/split: workflow 'report': a split recurrence needs a startTime"
    )


def test_a_workflow_file_problem_names_that_file(tmp_path: Path) -> None:
    template = copy.deepcopy(TEMPLATE)
    (tmp_path / "template.json").write_text(json.dumps(template))
    broken = copy.deepcopy(ORDERS)
    broken["definition"]["actions"]["Accept"]["runAfter"] = {"Nowhere": ["Succeeded"]}
    (tmp_path / "orders.json").write_text(json.dumps(broken))
    with pytest.raises(TemplateError) as caught:
        plan_from_files(tmp_path / "template.json", EXAMPLES / "parameters.west.json", "west")
    assert caught.value.lines()[0].startswith("orders.json: /definition/actions/Accept/runAfter")


def test_a_yaml_template_is_read_like_json(tmp_path: Path) -> None:
    yaml = pytest.importorskip("yaml")
    template = copy.deepcopy(TEMPLATE)
    template["workflows"]["orders"] = {"definition": ORDERS["definition"], "mode": "active-active"}
    (tmp_path / "template.yaml").write_text(yaml.safe_dump(template, sort_keys=False))
    found = plan_from_files(tmp_path / "template.yaml", EXAMPLES / "parameters.west.json", "west")
    assert [w.name for w in found.workflows] == ["orders", "report", "inbox", "rows"]


def test_a_parameter_file_that_is_not_json_names_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "parameters.west.json").write_text('{"parameters": ')
    with pytest.raises(TemplateError) as caught:
        plan_from_files(EXAMPLES / "template.json", tmp_path / "parameters.west.json", "west")
    assert caught.value.lines()[0].startswith("parameters.west.json: /: invalid JSON at line 1")
