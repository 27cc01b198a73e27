"""Bounds that keep one evaluation small: nesting depth, expression length and result sizes.

The language has no loops, so evaluation time is bounded by the expression's length times the
largest value a function may build; functions check these bounds before they allocate.
"""

from __future__ import annotations

from pairflow.errors import ExpressionLimitError

MAX_DEPTH = 100  # nested calls and accesses in one expression
MAX_EXPRESSION_LENGTH = 65_536  # characters in one expression (Logic Apps documents 8,192)
MAX_STRING_LENGTH = 104_857_600  # characters in a built string (Logic Apps' documented limit)
MAX_ARRAY_LENGTH = 10_000_000  # items in a built array
MAX_RANGE_COUNT = 100_000  # range(): Logic Apps' documented limit


def check_string_length(length: int, function: str) -> None:
    if length > MAX_STRING_LENGTH:
        raise ExpressionLimitError(
            f"The result of '{function}' would have {length} characters; the limit is {MAX_STRING_LENGTH}"
        )


def check_array_length(length: int, function: str) -> None:
    if length > MAX_ARRAY_LENGTH:
        raise ExpressionLimitError(
            f"The result of '{function}' would have {length} items; the limit is {MAX_ARRAY_LENGTH}"
        )
