"""Compile AST nodes into Python closures once, so evaluating a cached expression is a few calls.

Every closure takes the `WorkflowContext` (or None). Errors raised by functions without a place
get the expression text and the column of the failing call or access attached here; the closures
never let another exception type escape.
"""

from __future__ import annotations

from collections.abc import Callable
from time import monotonic
from typing import Any

from pairflow.errors import ExpressionError, ExpressionEvaluationError
from pairflow.expressions import registry
from pairflow.expressions.ast import Access, Call, Literal, Node
from pairflow.expressions.limits import BUDGET, budget_exceeded
from pairflow.expressions.values import is_number, type_name
from pairflow.jsontypes import JSON

Compiled = Callable[[Any], JSON]

# What a function implementation may raise by accident on odd JSON input; turned into the language's
# own error rather than escaping as a Python exception.
_ACCIDENTS = (TypeError, ValueError, ArithmeticError, LookupError, RecursionError, UnicodeError)
_CAUGHT = (ExpressionError, *_ACCIDENTS)


def _placed(error: ExpressionError, source: str, column: int) -> ExpressionError:
    """`error` with the expression and column, unless it already names a place."""
    if error.column is not None:
        return error
    return type(error)(error.cause, source, column)


def compile_node(node: Node, source: str) -> Compiled:
    if isinstance(node, Literal):
        value = node.value
        return lambda ctx: value
    if isinstance(node, Access):
        return _compile_access(node, source)
    return _compile_call(node, source)


def _compile_call(node: Call, source: str) -> Compiled:
    lowered = node.name.lower()
    args = [compile_node(arg, source) for arg in node.args]
    column = node.column
    if lowered == "if":
        return _compile_if(args, source, column)
    if lowered in ("and", "or"):
        return _compile_and_or(lowered, args, source, column)
    spec = registry.FUNCTIONS[lowered]
    impl = spec.impl
    name = spec.name

    def fail(error: Exception) -> ExpressionError:
        if isinstance(error, ExpressionError):
            return _placed(error, source, column)
        return ExpressionEvaluationError(f"The function '{name}' failed: {error}", source, column)

    if spec.context:
        if not args:

            def call0c(ctx: Any) -> JSON:
                try:
                    result = impl(ctx)
                except _CAUGHT as error:
                    raise fail(error) from None
                if monotonic() > BUDGET.deadline:
                    raise _placed(budget_exceeded(), source, column)
                return result

            return call0c
        if len(args) == 1:
            (a,) = args

            def call1c(ctx: Any) -> JSON:
                x = a(ctx)
                try:
                    result = impl(ctx, x)
                except _CAUGHT as error:
                    raise fail(error) from None
                if monotonic() > BUDGET.deadline:
                    raise _placed(budget_exceeded(), source, column)
                return result

            return call1c

        def callnc(ctx: Any) -> JSON:
            values = [arg(ctx) for arg in args]
            try:
                result = impl(ctx, *values)
            except _CAUGHT as error:
                raise fail(error) from None
            if monotonic() > BUDGET.deadline:
                raise _placed(budget_exceeded(), source, column)
            return result

        return callnc
    if not args:

        def call0(ctx: Any) -> JSON:
            try:
                result = impl()
            except _CAUGHT as error:
                raise fail(error) from None
            if monotonic() > BUDGET.deadline:
                raise _placed(budget_exceeded(), source, column)
            return result

        return call0
    if len(args) == 1:
        (a,) = args

        def call1(ctx: Any) -> JSON:
            x = a(ctx)
            try:
                result = impl(x)
            except _CAUGHT as error:
                raise fail(error) from None
            if monotonic() > BUDGET.deadline:
                raise _placed(budget_exceeded(), source, column)
            return result

        return call1
    if len(args) == 2:
        a, b = args

        def call2(ctx: Any) -> JSON:
            x = a(ctx)
            y = b(ctx)
            try:
                result = impl(x, y)
            except _CAUGHT as error:
                raise fail(error) from None
            if monotonic() > BUDGET.deadline:
                raise _placed(budget_exceeded(), source, column)
            return result

        return call2

    def calln(ctx: Any) -> JSON:
        values = [arg(ctx) for arg in args]
        try:
            result = impl(*values)
        except _CAUGHT as error:
            raise fail(error) from None
        if monotonic() > BUDGET.deadline:
            raise _placed(budget_exceeded(), source, column)
        return result

    return calln


def _boolean(value: JSON, function: str, source: str, column: int) -> bool:
    if isinstance(value, bool):
        return value
    raise ExpressionEvaluationError(
        f"The template language function '{function}' expects its parameters to be of type Boolean "
        f"but got '{type_name(value)}'",
        source,
        column,
    )


def _compile_if(args: list[Compiled], source: str, column: int) -> Compiled:
    """`if` evaluates only the chosen branch, so a guard can protect the other one."""
    condition, when_true, when_false = args

    def evaluate_if(ctx: Any) -> JSON:
        if _boolean(condition(ctx), "if", source, column):
            return when_true(ctx)
        return when_false(ctx)

    return evaluate_if


def _compile_and_or(name: str, args: list[Compiled], source: str, column: int) -> Compiled:
    """`and`/`or` stop at the first operand that decides the result."""
    stop_on = name == "or"

    def evaluate(ctx: Any) -> JSON:
        for arg in args:
            if _boolean(arg(ctx), name, source, column) is stop_on:
                return stop_on
        return not stop_on

    return evaluate


def _compile_access(node: Access, source: str) -> Compiled:
    target = compile_node(node.target, source)
    column = node.column
    null_safe = node.null_safe
    if isinstance(node.key, Literal):
        key_value = node.key.value
        return lambda ctx: select(target(ctx), key_value, null_safe, source, column)
    key = compile_node(node.key, source)
    return lambda ctx: select(target(ctx), key(ctx), null_safe, source, column)


def select(value: JSON, key: JSON, null_safe: bool, source: str, column: int) -> JSON:
    """Property or index selection; `null_safe` turns a missing property or null target into null."""
    if isinstance(value, dict):
        if isinstance(key, str):
            if key in value:
                return value[key]
            lowered = key.lower()
            for name, item in value.items():
                if name.lower() == lowered:
                    return item
            if null_safe:
                return None
            available = ", ".join(value.keys())
            raise ExpressionEvaluationError(
                f"The template language expression cannot be evaluated because property '{key}' "
                f"doesn't exist, available properties are '{available}'",
                source,
                column,
            )
        if null_safe and key is None:
            return None
        raise ExpressionEvaluationError(
            f"The template language expression cannot be evaluated because an object's property "
            f"must be selected by a string, not '{type_name(key)}'",
            source,
            column,
        )
    if isinstance(value, list):
        index = key
        if isinstance(key, str) and key.strip().lstrip("-").isdigit():
            index = int(key)
        if is_number(index) and float(index).is_integer():
            position = int(index)
            if 0 <= position < len(value):
                return value[position]
            if null_safe:
                return None
            raise ExpressionEvaluationError(
                f"The template language expression cannot be evaluated because array index '{position}' "
                f"is outside bounds (0, {len(value) - 1}) of array",
                source,
                column,
            )
        raise ExpressionEvaluationError(
            f"The template language expression cannot be evaluated because an array must be indexed "
            f"by an integer, not '{type_name(key)}'",
            source,
            column,
        )
    if value is None and null_safe:
        return None
    shown = key if isinstance(key, str | int) and not isinstance(key, bool) else type_name(key)
    raise ExpressionEvaluationError(
        f"The template language expression cannot be evaluated because property '{shown}' cannot be "
        f"selected. Property selection is not supported on values of type '{type_name(value)}'",
        source,
        column,
    )
