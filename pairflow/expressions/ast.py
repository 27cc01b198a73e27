"""Typed, frozen syntax-tree nodes of the `@` expression language.

An expression is a literal, a function call, or a property/index access on another node. Every node
keeps the 1-based column of the token that produced it so errors can point at it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from pairflow.jsontypes import JSON


@dataclass(frozen=True, slots=True)
class Literal:
    """A string, number, boolean or null written in the expression."""

    value: JSON
    column: int


@dataclass(frozen=True, slots=True)
class Call:
    """`name(args…)`; `name` is the documented spelling of a registered function."""

    name: str
    args: tuple[Node, ...]
    column: int


@dataclass(frozen=True, slots=True)
class Access:
    """`target.name`, `target['name']`, `target[expr]`; `null_safe` for the `?` forms."""

    target: Node
    key: Node
    null_safe: bool
    column: int


Node: TypeAlias = Literal | Call | Access


@dataclass(frozen=True, slots=True)
class Whole:
    """A template that is one expression (`"@add(1, 2)"`): its value keeps its JSON type."""

    expression: Node


@dataclass(frozen=True, slots=True)
class Interpolation:
    """A string with `@{…}` parts: literal text and expressions, always evaluated to a string."""

    parts: tuple[str | Node, ...]


@dataclass(frozen=True, slots=True)
class Text:
    """A string without expressions (or with the `@@` escape): evaluates to `value`."""

    value: str


Template: TypeAlias = Whole | Interpolation | Text
