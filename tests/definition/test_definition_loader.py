"""Finding the definition in each file shape, naming the workflow, and refusing bad files cleanly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pairflow.definition.loader import load_workflow, locate_workflow, resolve_arm_name
from pairflow.errors import DefinitionError

DEFINITION = {
    "$schema": "https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/workflowdefinition.json#",
    "contentVersion": "1.0.0.0",
    "triggers": {"manual": {"type": "Request", "kind": "Http"}},
    "actions": {"Compose": {"type": "Compose", "inputs": "hi", "runAfter": {}}},
}


def _arm(*names: str, parameters: dict[str, object] | None = None) -> dict[str, object]:
    return {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": parameters or {},
        "variables": {"wfVar": "from-variable"},
        "resources": [
            {"type": "Microsoft.Web/connections", "name": "conn", "properties": {}},
            *(
                {
                    "type": "Microsoft.Logic/workflows",
                    "name": name,
                    "properties": {"definition": DEFINITION, "parameters": {"p": {"value": index}}},
                }
                for index, name in enumerate(names)
            ),
        ],
    }


def test_bare_definition_is_loaded_with_the_file_stem_as_name(tmp_path: Path) -> None:
    path = tmp_path / "orders.json"
    path.write_text(json.dumps(DEFINITION))
    loaded = load_workflow(path)
    assert (loaded.name, loaded.kind, loaded.pointer, loaded.source) == ("orders", None, "", str(path))
    assert loaded.definition == DEFINITION


def test_standard_workflow_json_keeps_kind_and_points_at_definition(tmp_path: Path) -> None:
    path = tmp_path / "workflow.json"
    path.write_text(json.dumps({"definition": DEFINITION, "kind": "Stateful"}))
    loaded = load_workflow(path)
    assert (loaded.name, loaded.kind, loaded.pointer) == ("workflow", "Stateful", "/definition")


def test_exported_resource_is_named_by_its_resource_name_and_carries_parameter_values() -> None:
    resource = {
        "id": "/subscriptions/x/providers/Microsoft.Logic/workflows/billing",
        "type": "Microsoft.Logic/workflows",
        "name": "billing",
        "properties": {"definition": DEFINITION, "parameters": {"$connections": {"value": {"a": 1}}}},
    }
    loaded = load_workflow(resource)
    assert loaded.name == "billing"
    assert loaded.pointer == "/properties/definition"
    assert loaded.parameters == {"$connections": {"a": 1}}


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"definition": DEFINITION}).encode())
    assert load_workflow(path).definition == DEFINITION


def test_arm_template_with_one_workflow_resolves_parameter_default_name() -> None:
    template = _arm(
        "[parameters('logicAppName')]",
        parameters={"logicAppName": {"type": "string", "defaultValue": "la-1"}},
    )
    loaded = load_workflow(template)
    assert loaded.name == "la-1"
    assert loaded.pointer == "/resources/1/properties/definition"
    assert loaded.parameters == {"p": 0}


def test_arm_template_with_several_workflows_needs_a_name_and_lists_them() -> None:
    template = _arm("first", "[variables('wfVar')]")
    with pytest.raises(DefinitionError) as caught:
        load_workflow(template)
    assert caught.value.issues == [
        ("/resources", "the ARM template holds 2 workflows ('first', 'from-variable'); choose one by name")
    ]
    loaded = load_workflow(template, name="from-variable")
    assert (loaded.name, loaded.pointer) == ("from-variable", "/resources/2/properties/definition")


def test_arm_workflow_named_by_parameter_without_default_is_chosen_by_parameter_name() -> None:
    template = _arm(
        "[parameters('A')]",
        "[parameters('B')]",
        parameters={"A": {"type": "string"}, "B": {"type": "string"}},
    )
    loaded = load_workflow(template, name="B")
    assert (loaded.name, loaded.pointer) == ("B", "/resources/2/properties/definition")


def test_arm_unknown_name_is_refused_listing_the_choices() -> None:
    with pytest.raises(DefinitionError, match=r"no workflow named 'nope' in the ARM template \('a', 'b'\)"):
        load_workflow(_arm("a", "b"), name="nope")


def test_arm_template_without_workflows_is_refused() -> None:
    with pytest.raises(DefinitionError, match=r"no Microsoft\.Logic/workflows resource"):
        load_workflow({"resources": [{"type": "Microsoft.Web/connections", "name": "c"}]})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("plain", "plain"),
        ("[parameters('n')]", "from-default"),
        ("[ variables( 'wfVar' ) ]", "from-variable"),
        ("[parameters('missing')]", None),
        ("[concat('a', 'b')]", None),
        ("[[literal]", "[literal]"),
    ],
)
def test_resolve_arm_name_understands_only_simple_references(raw: str, expected: str | None) -> None:
    template = {
        "parameters": {"n": {"defaultValue": "from-default"}},
        "variables": {"wfVar": "from-variable"},
    }
    assert resolve_arm_name(raw, template) == expected


def test_malformed_json_reports_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "triggers": {,\n}')
    with pytest.raises(DefinitionError) as caught:
        load_workflow(path)
    assert caught.value.issues == [
        ("", "invalid JSON at line 2 column 16: Expecting property name enclosed in double quotes")
    ]
    assert caught.value.source == str(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00\xff\xfe binary", "not UTF-8 text"),
        (b"[" * 5000 + b"]" * 5000, "JSON nested deeper than 200 levels"),
        (b"[" * 100000, "JSON nested deeper than 200 levels"),
        (b"[1, 2]", "expected a JSON object, got an array"),
        (b'{"hello": 1}', "no workflow definition found"),
    ],
)
def test_unusable_files_are_refused_with_one_line(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(DefinitionError) as caught:
        load_workflow(path)
    assert message in caught.value.issues[0][1]
    assert "\n" not in caught.value.message


def test_missing_file_and_directory_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="no such file"):
        load_workflow(tmp_path / "absent.json")
    with pytest.raises(DefinitionError, match="is a directory"):
        load_workflow(tmp_path)


def test_name_argument_overrides_default_name() -> None:
    assert locate_workflow({"definition": DEFINITION}, "x", "stem", name="chosen").name == "chosen"
