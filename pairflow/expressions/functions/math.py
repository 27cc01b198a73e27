"""Math functions: add, sub, mul, div, mod, max, min, rand, range.

Integers stay integers (Int64, as in Logic Apps) unless an operand is a float; `div` of two
integers truncates toward zero like C#.
"""

from __future__ import annotations

import math
import random

from pairflow.errors import ExpressionEvaluationError
from pairflow.expressions import limits
from pairflow.expressions.functions import args
from pairflow.expressions.registry import function
from pairflow.expressions.values import is_number, type_name
from pairflow.jsontypes import JSON

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
INT32_MAX = 2**31 - 1


def _checked(value: int | float, name: str) -> int | float:
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise ExpressionEvaluationError(
                f"The result of '{name}' is outside the range of a 64-bit integer"
            )
        return value
    if math.isinf(value) or math.isnan(value):
        raise ExpressionEvaluationError(f"The result of '{name}' is not a finite number")
    return value


@function("add", 2)
def add(left: JSON, right: JSON) -> JSON:
    return _checked(args.number(left, "add", 0) + args.number(right, "add", 1), "add")


@function("sub", 2)
def sub(left: JSON, right: JSON) -> JSON:
    return _checked(args.number(left, "sub", 0) - args.number(right, "sub", 1), "sub")


@function("mul", 2)
def mul(left: JSON, right: JSON) -> JSON:
    return _checked(args.number(left, "mul", 0) * args.number(right, "mul", 1), "mul")


@function("div", 2)
def div(left: JSON, right: JSON) -> JSON:
    dividend = args.number(left, "div", 0)
    divisor = args.number(right, "div", 1)
    if divisor == 0:
        raise ExpressionEvaluationError("Attempted to divide by zero in 'div'")
    if isinstance(dividend, int) and isinstance(divisor, int):
        quotient = abs(dividend) // abs(divisor)
        return _checked(quotient if (dividend < 0) == (divisor < 0) else -quotient, "div")
    return _checked(dividend / divisor, "div")


@function("mod", 2)
def mod(left: JSON, right: JSON) -> JSON:
    dividend = args.number(left, "mod", 0)
    divisor = args.number(right, "mod", 1)
    if divisor == 0:
        raise ExpressionEvaluationError("Attempted to divide by zero in 'mod'")
    if isinstance(dividend, int) and isinstance(divisor, int):
        remainder = abs(dividend) % abs(divisor)
        return remainder if dividend >= 0 else -remainder
    return _checked(math.fmod(dividend, divisor), "mod")


def _numbers(values: tuple[JSON, ...], name: str) -> list[int | float]:
    items: list[JSON] = list(values)
    if len(values) == 1 and isinstance(values[0], list):
        items = values[0]
        if not items:
            raise ExpressionEvaluationError(
                f"The template language function '{name}' needs a non-empty array"
            )
    for item in items:
        if not is_number(item):
            raise ExpressionEvaluationError(
                f"The template language function '{name}' expects numbers but got '{type_name(item)}'"
            )
    return items


@function("max", 1, None)
def max_(*values: JSON) -> JSON:
    return max(_numbers(values, "max"))


@function("min", 1, None)
def min_(*values: JSON) -> JSON:
    return min(_numbers(values, "min"))


@function("rand", 2)
def rand(low: JSON, high: JSON) -> JSON:
    lowest = args.integer(low, "rand", 0)
    above = args.integer(high, "rand", 1)
    if lowest >= above:
        raise ExpressionEvaluationError(
            "The template language function 'rand' expects its minimum value to be less than "
            "its maximum value"
        )
    return random.randrange(lowest, above)


@function("range", 2)
def range_(start: JSON, count: JSON) -> JSON:
    first = args.integer(start, "range", 0)
    size = args.integer(count, "range", 1)
    if size < 0 or size > limits.MAX_RANGE_COUNT:
        raise ExpressionEvaluationError(
            f"The template language function 'range' expects a count between 0 and {limits.MAX_RANGE_COUNT}"
            f" but got {size}"
        )
    if first + size > INT32_MAX:
        raise ExpressionEvaluationError(
            "The template language function 'range' expects the sum of start and count to be at most"
            f" {INT32_MAX}"
        )
    return list(range(first, first + size))
