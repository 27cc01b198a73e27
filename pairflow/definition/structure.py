"""The structural check: the definition against pairflow's JSON Schema, each error as (pointer, message).

The schema (schema/workflowdefinition.json) says which properties are objects, arrays and strings and
which are required; the meaning (runAfter, types, per-type fields) is checked elsewhere.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from pairflow.definition.loader import describe_json_type, escape_pointer
from pairflow.jsontypes import JSON

_TYPE_NAMES = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "null": "null",
}


@cache
def _validator() -> Draft202012Validator:
    text = (
        resources.files("pairflow.definition").joinpath("schema/workflowdefinition.json").read_text("utf-8")
    )
    schema = json.loads(text)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def check_structure(definition: JSON) -> list[tuple[str, str]]:
    """Every structural problem, in document order of the pointers."""
    issues: list[tuple[str, str]] = []
    errors = sorted(_validator().iter_errors(definition), key=lambda e: [str(p) for p in e.absolute_path])
    for error in errors:
        pointer = "".join(f"/{escape_pointer(str(part))}" for part in error.absolute_path)
        for message in _messages(error):
            issue = (pointer, message)
            if issue not in issues:
                issues.append(issue)
    return issues


def _messages(error: ValidationError) -> list[str]:
    instance = error.instance
    expected = error.validator_value
    if error.validator == "required" and isinstance(instance, dict) and isinstance(expected, list):
        return [f"missing required property '{name}'" for name in expected if name not in instance]
    if error.validator == "type":
        names = (
            [expected] if isinstance(expected, str) else list(expected) if isinstance(expected, list) else []
        )
        wanted = " or ".join(_TYPE_NAMES.get(str(n), str(n)) for n in names)
        return [f"expected {wanted}, got {describe_json_type(instance)}"]
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        allowed = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        extra = [key for key in instance if key not in allowed]
        known = ", ".join(allowed)
        return [f"unexpected property '{key}' (expected only: {known})" for key in extra]
    if error.validator == "minLength":
        return ["expected a non-empty string"]
    if error.validator == "enum" and isinstance(expected, list):
        return [f"expected one of {', '.join(json.dumps(v) for v in expected)}, got {json.dumps(instance)}"]
    return [error.message.splitlines()[0]]
