"""The function registry: every built-in function with its arity, checked in one place.

Functions are registered with `@function("formatDateTime", 1, 3)`; names match case-insensitively.
An implementation receives already-evaluated arguments (and the `WorkflowContext` first when
`context=True`) and raises `ExpressionEvaluationError` for a bad argument; the evaluator adds the
expression text and column to that error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pairflow.errors import ExpressionEvaluationError

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    name: str  # the documented spelling, used in messages
    impl: Callable[..., Any]
    min_args: int
    max_args: int | None  # None: any number
    context: bool  # impl takes the WorkflowContext as its first argument

    def check_arity(self, count: int) -> None:
        if count < self.min_args or (self.max_args is not None and count > self.max_args):
            if self.max_args is None:
                expected = f"at least {self.min_args}"
            elif self.min_args == self.max_args:
                expected = str(self.min_args)
            else:
                expected = f"{self.min_args} to {self.max_args}"
            noun = "argument" if expected == "1" else "arguments"
            raise ExpressionEvaluationError(
                f"The function '{self.name}' expects {expected} {noun} but got {count}"
            )


FUNCTIONS: dict[str, FunctionSpec] = {}


def function(
    name: str, min_args: int, max_args: int | None = -1, *, context: bool = False
) -> Callable[[F], F]:
    """Register a built-in function. `max_args=-1` (the default) means exactly `min_args`."""

    def register(impl: F) -> F:
        key = name.lower()
        if key in FUNCTIONS:
            raise RuntimeError(f"function {name} registered twice")
        upper = min_args if max_args == -1 else max_args
        FUNCTIONS[key] = FunctionSpec(name, impl, min_args, upper, context)
        return impl

    return register


def lookup(name: str) -> FunctionSpec | None:
    return FUNCTIONS.get(name.lower())
