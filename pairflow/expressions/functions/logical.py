"""Logical comparison functions: and, or, not, if, equals, greater(OrEquals), less(OrEquals).

`if`, `and` and `or` are registered here for lookup and arity, but the compiler evaluates them
lazily (only the branch taken, stopping at the first deciding operand).
"""

from __future__ import annotations

from pairflow.expressions.functions import args
from pairflow.expressions.registry import function
from pairflow.expressions.values import comparable, equal
from pairflow.jsontypes import JSON


def _boolean(value: JSON, name: str, index: int) -> bool:
    if isinstance(value, bool):
        return value
    raise args.wrong_type(name, index, "a Boolean", value)


@function("and", 1, None)
def and_(*values: JSON) -> JSON:
    return all([_boolean(value, "and", i) for i, value in enumerate(values)])


@function("or", 1, None)
def or_(*values: JSON) -> JSON:
    return any([_boolean(value, "or", i) for i, value in enumerate(values)])


@function("not", 1)
def not_(value: JSON) -> JSON:
    return not _boolean(value, "not", 0)


@function("if", 3)
def if_(condition: JSON, when_true: JSON, when_false: JSON) -> JSON:
    return when_true if _boolean(condition, "if", 0) else when_false


@function("equals", 2)
def equals(left: JSON, right: JSON) -> JSON:
    return equal(left, right)


@function("greater", 2)
def greater(left: JSON, right: JSON) -> JSON:
    a, b = comparable(left, right, "greater")
    return bool(a > b)


@function("greaterOrEquals", 2)
def greater_or_equals(left: JSON, right: JSON) -> JSON:
    a, b = comparable(left, right, "greaterOrEquals")
    return bool(a >= b)


@function("less", 2)
def less(left: JSON, right: JSON) -> JSON:
    a, b = comparable(left, right, "less")
    return bool(a < b)


@function("lessOrEquals", 2)
def less_or_equals(left: JSON, right: JSON) -> JSON:
    a, b = comparable(left, right, "lessOrEquals")
    return bool(a <= b)
