"""Argument checks shared by the function modules: one message format for a wrong type."""

from __future__ import annotations

from pairflow.errors import ExpressionEvaluationError
from pairflow.expressions.values import is_number, type_name
from pairflow.jsontypes import JSON, JSONObject

_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")


def _position(index: int) -> str:
    return _ORDINALS[index] if index < len(_ORDINALS) else f"#{index + 1}"


def wrong_type(function: str, index: int, expected: str, value: JSON) -> ExpressionEvaluationError:
    return ExpressionEvaluationError(
        f"The template language function '{function}' expects its {_position(index)} parameter to be "
        f"{expected}. The provided value is of type '{type_name(value)}'"
    )


def text(value: JSON, function: str, index: int = 0) -> str:
    if isinstance(value, str):
        return value
    raise wrong_type(function, index, "a string", value)


def integer(value: JSON, function: str, index: int = 0) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise wrong_type(function, index, "an integer", value)


def number(value: JSON, function: str, index: int = 0) -> int | float:
    if is_number(value):
        return value  # type: ignore[no-any-return]
    raise wrong_type(function, index, "a number (integer or float)", value)


def array(value: JSON, function: str, index: int = 0) -> list[JSON]:
    if isinstance(value, list):
        return value
    raise wrong_type(function, index, "an array", value)


def obj(value: JSON, function: str, index: int = 0) -> JSONObject:
    if isinstance(value, dict):
        return value
    raise wrong_type(function, index, "an object", value)
