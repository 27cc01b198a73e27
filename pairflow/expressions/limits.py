"""Bounds that keep one evaluation small: nesting depth, expression length and result sizes.

The language has no loops, so evaluation time is bounded by the expression's length times the
largest value a function may build; functions check these bounds before they allocate. A wall-clock
budget per evaluation backs that up: every function call checks it, so a pathological expression
(nested replace() over 100 MB strings, say) stops with an error instead of stalling a worker.
"""

from __future__ import annotations

from time import monotonic

from pairflow.errors import ExpressionLimitError

MAX_DEPTH = 100  # nested calls and accesses in one expression
MAX_EXPRESSION_LENGTH = 65_536  # characters in one expression (Logic Apps documents 8,192)
MAX_STRING_LENGTH = 104_857_600  # characters in a built string (Logic Apps' documented limit)
MAX_ARRAY_LENGTH = 10_000_000  # items in a built array
MAX_RANGE_COUNT = 100_000  # range(): Logic Apps' documented limit
MAX_EVALUATION_SECONDS = 5.0  # wall-clock budget of one template or expression evaluation


class _Budget:
    """The deadline of the evaluation in progress. Module-wide rather than thread-local: pairflow
    evaluates on its event-loop thread, and a thread-local read costs a third of a cheap evaluation.
    Concurrent evaluations on other threads could only extend each other's deadline, never fail early."""

    __slots__ = ("deadline",)

    def __init__(self) -> None:
        self.deadline = float("inf")


BUDGET = _Budget()


def start_budget() -> None:
    BUDGET.deadline = monotonic() + MAX_EVALUATION_SECONDS


def budget_exceeded() -> ExpressionLimitError:
    return ExpressionLimitError(f"The evaluation took longer than {MAX_EVALUATION_SECONDS:g} seconds")


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
