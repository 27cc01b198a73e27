"""What a workflow parameter's declared type accepts, shared by the declaration check and by the values
supplied at run time."""

from __future__ import annotations

from pairflow.jsontypes import JSON

_EXPECTED = {
    "string": "a string",
    "securestring": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "a boolean",
    "array": "an array",
    "object": "an object",
    "secureobject": "an object",
}


def matches_parameter_type(value: JSON, type_name: str) -> bool:
    """Whether `value` fits the parameter type `type_name` (lower case, one of model.PARAMETER_TYPES)."""
    if type_name in ("string", "securestring"):
        return isinstance(value, str)
    if type_name == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name == "float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if type_name == "bool":
        return isinstance(value, bool)
    if type_name == "array":
        return isinstance(value, list)
    if type_name in ("object", "secureobject"):
        return isinstance(value, dict)
    return False


def expected_for(type_name: str) -> str:
    """'a string', 'an integer', … for a parameter type, as used in messages."""
    return _EXPECTED.get(type_name, type_name)
