"""Tokens of one `@` expression: strings in single quotes (`''` escapes a quote), numbers,
names, and the punctuation `( ) [ ] , . ?`.

Positions are 0-based offsets into the text the expression was taken from, so a template's
expression reports columns relative to the whole string as written in the definition.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from pairflow.errors import ExpressionSyntaxError
from pairflow.jsontypes import JSON

STRING: Final = "string"
NUMBER: Final = "number"
NAME: Final = "name"
PUNCT: Final = "punct"
END: Final = "end"

_PUNCT = frozenset("()[],.?")
_NAME_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_$")
_NAME_REST = _NAME_START | frozenset("0123456789-")
_DIGITS = frozenset("0123456789")
_WHITESPACE = frozenset(" \t\r\n")
_VALUE_END = frozenset({STRING, NUMBER, NAME})


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    value: JSON  # the string's value, the number, the name, or the punctuation character
    pos: int  # 0-based offset in the source text


def tokenize(source: str, start: int, end: int) -> list[Token]:
    """Split `source[start:end]` into tokens, ending with an END token at `end`."""
    tokens: list[Token] = []
    i = start
    while i < end:
        ch = source[i]
        if ch in _WHITESPACE:
            i += 1
        elif ch == "'":
            i = _string(source, i, end, tokens)
        elif ch in _DIGITS or (
            ch in "-."
            and i + 1 < end
            and (source[i + 1] in _DIGITS or source[i + 1] == ".")
            and not (ch == "." and tokens and _ends_value(tokens[-1]))
        ):
            i = _number(source, i, end, tokens)
        elif ch in _NAME_START:
            j = i + 1
            while j < end and source[j] in _NAME_REST:
                j += 1
            tokens.append(Token(NAME, source[i:j], i))
            i = j
        elif ch in _PUNCT:
            tokens.append(Token(PUNCT, ch, i))
            i += 1
        else:
            raise ExpressionSyntaxError(f"Unexpected character '{ch}'", source, i + 1)
    tokens.append(Token(END, None, end))
    return tokens


def _ends_value(token: Token) -> bool:
    return token.kind in _VALUE_END or (token.kind == PUNCT and token.value in ")]")


def _string(source: str, i: int, end: int, tokens: list[Token]) -> int:
    begin = i
    i += 1
    pieces: list[str] = []
    while True:
        close = source.find("'", i, end)
        if close < 0:
            raise ExpressionSyntaxError("Unterminated string literal", source, begin + 1)
        pieces.append(source[i:close])
        if close + 1 < end and source[close + 1] == "'":
            pieces.append("'")
            i = close + 2
            continue
        tokens.append(Token(STRING, "".join(pieces), begin))
        return close + 1


def _number(source: str, i: int, end: int, tokens: list[Token]) -> int:
    begin = i
    if source[i] == "-":
        i += 1
    while i < end and source[i] in _DIGITS:
        i += 1
    is_float = False
    if i < end and source[i] == ".":
        is_float = True
        i += 1
        while i < end and source[i] in _DIGITS:
            i += 1
    if i < end and source[i] in "eE":
        j = i + 1
        if j < end and source[j] in "+-":
            j += 1
        if j < end and source[j] in _DIGITS:
            is_float = True
            i = j
            while i < end and source[i] in _DIGITS:
                i += 1
    text = source[begin:i]
    if text in ("-", ".", "-.") or (text.endswith(".") and len(text.strip("-.")) == 0):
        raise ExpressionSyntaxError(f"Invalid number '{text}'", source, begin + 1)
    if i < end and source[i] in _NAME_START:
        raise ExpressionSyntaxError(f"Invalid number '{source[begin : i + 1]}'", source, begin + 1)
    try:
        value: JSON = float(text) if is_float else int(text)
    except ValueError:
        raise ExpressionSyntaxError(f"Invalid number '{text}'", source, begin + 1) from None
    if isinstance(value, float) and not math.isfinite(value):
        raise ExpressionSyntaxError(f"Number out of range '{text}'", source, begin + 1)
    tokens.append(Token(NUMBER, value, begin))
    return i
