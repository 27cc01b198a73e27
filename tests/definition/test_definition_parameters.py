"""Parameter files of both shapes, and values checked against the declarations with file and pointer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pairflow.definition.model import build_definition
from pairflow.definition.parameters import (
    ParameterIssuesError,
    load_parameter_file,
    resolve_parameters,
)
from pairflow.errors import ParameterError

DEFINITION = build_definition(
    {
        "parameters": {
            "apiUrl": {"type": "String"},
            "retries": {"type": "Int", "defaultValue": 3},
            "ratio": {"type": "Float", "defaultValue": 0.5},
            "enabled": {"type": "Bool", "defaultValue": True},
            "tags": {"type": "Array", "defaultValue": []},
            "settings": {"type": "Object", "defaultValue": {}},
            "token": {"type": "SecureString", "defaultValue": ""},
            "region": {"type": "String", "defaultValue": "west", "allowedValues": ["west", "east"]},
        },
        "triggers": {},
        "actions": {},
    }
)


def _write(tmp_path: Path, name: str, document: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def test_arm_parameter_file_values_are_read(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "parameters.west.json",
        {
            "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
            "contentVersion": "1.0.0.0",
            "parameters": {"apiUrl": {"value": "https://west"}, "retries": {"value": 5}},
        },
    )
    supplied = load_parameter_file(path)
    assert supplied == {"apiUrl": "https://west", "retries": 5}
    assert resolve_parameters(DEFINITION, supplied, "parameters.west.json") == {
        "apiUrl": "https://west",
        "retries": 5,
        "ratio": 0.5,
        "enabled": True,
        "tags": [],
        "settings": {},
        "token": "",
        "region": "west",
    }


def test_plain_parameter_file_is_read(tmp_path: Path) -> None:
    supplied = load_parameter_file(_write(tmp_path, "p.json", {"apiUrl": "u", "ratio": 2}))
    assert resolve_parameters(DEFINITION, supplied, "p.json")["ratio"] == 2


def test_every_problem_names_file_and_pointer(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "parameters.west.json",
        {
            "parameters": {
                "apiUrl": {"value": 3},
                "retries": {"value": True},
                "token": {"value": 12345},
                "region": {"value": "north"},
                "colour": {"value": "red"},
            }
        },
    )
    with pytest.raises(ParameterError) as caught:
        resolve_parameters(DEFINITION, load_parameter_file(path), "parameters.west.json")
    assert isinstance(caught.value, ParameterIssuesError)
    assert caught.value.lines() == [
        "parameters.west.json: /parameters/apiUrl/value: expected a string, got 3",
        "parameters.west.json: /parameters/retries/value: expected an integer, got true",
        "parameters.west.json: /parameters/token/value: expected a string, got an integer (value hidden)",
        'parameters.west.json: /parameters/region/value: expected one of the allowedValues, got "north"',
        "parameters.west.json: /parameters/colour/value: unknown parameter 'colour' (the workflow declares: "
        "'apiUrl', 'retries', 'ratio', 'enabled', 'tags', 'settings', 'token', 'region')",
    ]
    assert caught.value.message.splitlines() == caught.value.lines()


def test_missing_required_value_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ParameterIssuesError) as caught:
        resolve_parameters(DEFINITION, load_parameter_file(_write(tmp_path, "p.json", {})), "p.json")
    assert caught.value.lines() == [
        "p.json: /apiUrl: missing value for parameter 'apiUrl' (string with no defaultValue)"
    ]


def test_plain_dict_supplied_programmatically_uses_name_pointers() -> None:
    with pytest.raises(ParameterIssuesError) as caught:
        resolve_parameters(DEFINITION, {"apiUrl": "u", "ratio": "half"}, "cli")
    assert caught.value.lines() == ['cli: /ratio: expected a number, got "half"']


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{", "p.json: /: invalid JSON at line 1 column 2"),
        (b"[]", "p.json: /: expected a JSON object, got an array"),
        (b'{"parameters": {"x": 1}}', "p.json: /parameters/x: expected an object with 'value'"),
        (
            b'{"parameters": {"x": {"reference": {}}}}',
            "p.json: /parameters/x/reference: Key Vault references are not supported by pairflow yet",
        ),
    ],
)
def test_unusable_parameter_files_are_refused(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "p.json"
    path.write_bytes(content)
    with pytest.raises(ParameterIssuesError) as caught:
        load_parameter_file(path)
    assert caught.value.lines()[0].startswith(message)


def test_missing_parameter_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ParameterIssuesError, match=r"absent\.json: /: no such file"):
        load_parameter_file(tmp_path / "absent.json")
