"""Templates as written in definitions: parse and compile each distinct string once (LRU cache),
then evaluate it against a context.

A whole-expression template keeps its value's JSON type; an interpolation always yields a string.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from pairflow.errors import ExpressionError, ExpressionEvaluationError
from pairflow.expressions.ast import Interpolation, Node, Template, Text, Whole
from pairflow.expressions.compiler import Compiled, compile_node
from pairflow.expressions.limits import check_string_length
from pairflow.expressions.parser import parse_expression, parse_template
from pairflow.expressions.values import to_string
from pairflow.jsontypes import JSON

CACHE_SIZE = 8192  # distinct template strings kept compiled


@lru_cache(maxsize=CACHE_SIZE)
def parsed_template(text: str) -> Template:
    return parse_template(text)


@lru_cache(maxsize=CACHE_SIZE)
def compiled_template(text: str) -> Compiled:
    """The closure that evaluates `text` as written in a definition."""
    return compile_template(parsed_template(text), text)


@lru_cache(maxsize=CACHE_SIZE)
def compiled_expression(expression: str) -> Compiled:
    """The closure that evaluates a bare expression (no leading `@`)."""
    return compile_node(parse_expression(expression), expression)


def compile_template(template: Template, source: str) -> Compiled:
    if isinstance(template, Whole):
        return compile_node(template.expression, source)
    if isinstance(template, Text):
        value = template.value
        return lambda ctx: value
    return _compile_interpolation(template, source)


def _compile_interpolation(template: Interpolation, source: str) -> Compiled:
    pieces: list[Callable[[Any], str]] = []
    for part in template.parts:
        if isinstance(part, str):
            pieces.append(_constant(part))
        else:
            pieces.append(_stringified(compile_node(part, source), part, source))

    def interpolate(ctx: Any) -> JSON:
        texts = [piece(ctx) for piece in pieces]
        total = sum(map(len, texts))
        if total > 1_000_000:
            check_string_length(total, "interpolation")
        return "".join(texts)

    return interpolate


def _constant(text: str) -> Callable[[Any], str]:
    return lambda ctx: text


def _stringified(compiled: Compiled, node: Node, source: str) -> Callable[[Any], str]:
    def piece(ctx: Any) -> str:
        value = compiled(ctx)
        try:
            return to_string(value)
        except ExpressionError as error:
            raise ExpressionEvaluationError(error.cause, source, node.column) from None

    return piece
