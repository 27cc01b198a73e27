"""Recursive-descent parser: tokens → frozen AST nodes (`ast.py`), and template strings → `Template`.

Grammar of one expression:
    expr    := primary postfix*
    primary := STRING | NUMBER | 'true' | 'false' | 'null' | NAME '(' [expr (',' expr)*] ')'
    postfix := ['?'] '.' NAME | ['?'] '[' expr ']'

Function names resolve case-insensitively against the registry while parsing, so an unknown
function or a wrong number of arguments is a syntax error that definition validation can report.
"""

from __future__ import annotations

from pairflow.errors import ExpressionError, ExpressionSyntaxError
from pairflow.expressions import registry
from pairflow.expressions.ast import Access, Call, Interpolation, Literal, Node, Template, Text, Whole
from pairflow.expressions.lexer import END, NAME, NUMBER, PUNCT, STRING, Token, tokenize
from pairflow.expressions.limits import MAX_DEPTH, MAX_EXPRESSION_LENGTH

_KEYWORDS = {"true": True, "false": False, "null": None}


class _Parser:
    def __init__(self, source: str, tokens: list[Token]) -> None:
        self.source = source
        self.tokens = tokens
        self.index = 0

    def error(self, message: str, token: Token) -> ExpressionSyntaxError:
        return ExpressionSyntaxError(message, self.source, token.pos + 1)

    def peek(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect(self, char: str) -> Token:
        token = self.take()
        if token.kind != PUNCT or token.value != char:
            raise self.error(f"Expected '{char}' but found {_describe(token)}", token)
        return token

    def is_punct(self, char: str) -> bool:
        token = self.tokens[self.index]
        return token.kind == PUNCT and token.value == char

    def expression(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise self.error(f"The expression is nested more than {MAX_DEPTH} levels deep", self.peek())
        node = self.primary(depth)
        while True:
            token = self.peek()
            if token.kind != PUNCT:
                return node
            null_safe = False
            if token.value == "?":
                self.take()
                null_safe = True
                token = self.peek()
                if token.kind != PUNCT or token.value not in ".[":
                    raise self.error(f"Expected '.' or '[' after '?' but found {_describe(token)}", token)
            if token.value == ".":
                self.take()
                name = self.take()
                if name.kind != NAME:
                    raise self.error(f"Expected a property name after '.' but found {_describe(name)}", name)
                key: Node = Literal(name.value, name.pos + 1)
            elif token.value == "[":
                self.take()
                key = self.expression(depth + 1)
                self.expect("]")
            else:
                return node
            depth += 1
            if depth > MAX_DEPTH:
                raise self.error(f"The expression is nested more than {MAX_DEPTH} levels deep", token)
            node = Access(node, key, null_safe, token.pos + 1)

    def primary(self, depth: int) -> Node:
        token = self.take()
        if token.kind in (STRING, NUMBER):
            return Literal(token.value, token.pos + 1)
        if token.kind == NAME:
            if not self.is_punct("("):
                lowered = str(token.value).lower()
                if lowered in _KEYWORDS:
                    return Literal(_KEYWORDS[lowered], token.pos + 1)
                raise self.error(f"Unexpected name '{token.value}': a function call needs parentheses", token)
            return self.call(token, depth)
        raise self.error(f"Expected a value or a function call but found {_describe(token)}", token)

    def call(self, name: Token, depth: int) -> Call:
        spec = registry.lookup(str(name.value))
        if spec is None:
            raise self.error(f"The template function '{name.value}' is not defined or not valid", name)
        self.expect("(")
        args: list[Node] = []
        if not self.is_punct(")"):
            while True:
                args.append(self.expression(depth + 1))
                if self.is_punct(","):
                    self.take()
                    continue
                break
        self.expect(")")
        try:
            spec.check_arity(len(args))
        except ExpressionError as error:
            raise self.error(error.cause, name) from None
        return Call(spec.name, tuple(args), name.pos + 1)


def _describe(token: Token) -> str:
    if token.kind == END:
        return "the end of the expression"
    if token.kind == STRING:
        return f"string '{token.value}'"
    return f"'{token.value}'"


def parse_expression(source: str, start: int = 0, end: int | None = None) -> Node:
    """Parse the expression in `source[start:end]`; columns count from the start of `source`."""
    stop = len(source) if end is None else end
    if stop - start > MAX_EXPRESSION_LENGTH:
        raise ExpressionSyntaxError(
            f"The expression is longer than {MAX_EXPRESSION_LENGTH} characters", source, start + 1
        )
    parser = _Parser(source, tokenize(source, start, stop))
    if parser.peek().kind == END:
        raise parser.error("The expression is empty", parser.peek())
    node = parser.expression(1)
    token = parser.peek()
    if token.kind != END:
        raise parser.error(f"Unexpected {_describe(token)} after the end of the expression", token)
    return node


def parse_template(text: str) -> Template:
    """Classify and parse one string as written in a definition.

    `"@expr"` is a whole expression; `"@@…"` is literal text without its first `@`; a string with
    `@{expr}` parts is an interpolation (`@@{` writes a literal `@{`); anything else is text.
    """
    if text.startswith("@"):
        if text.startswith("@@"):
            return Text(text[1:])
        if not text.startswith("@{"):
            return Whole(parse_expression(text, 1))
    if "@{" not in text:
        return Text(text)
    return _interpolation(text)


def _interpolation(text: str) -> Template:
    parts: list[str | Node] = []
    literal: list[str] = []
    i = 0
    length = len(text)
    while True:
        at = text.find("@{", i)
        if at < 0:
            literal.append(text[i:])
            break
        if at > 0 and text[at - 1] == "@":
            literal.append(text[i : at - 1] + "@{")
            i = at + 2
            continue
        literal.append(text[i:at])
        close = _closing_brace(text, at + 2, length)
        if literal:
            joined = "".join(literal)
            if joined:
                parts.append(joined)
            literal = []
        parts.append(parse_expression(text, at + 2, close))
        i = close + 1
    joined = "".join(literal)
    if joined:
        parts.append(joined)
    if not any(not isinstance(part, str) for part in parts):
        return Text("".join(part for part in parts if isinstance(part, str)))
    return Interpolation(tuple(parts))


def _closing_brace(text: str, i: int, length: int) -> int:
    """The index of the `}` closing an `@{` whose expression starts at `i` (quotes are skipped)."""
    start = i
    while i < length:
        ch = text[i]
        if ch == "'":
            close = text.find("'", i + 1)
            while close >= 0 and close + 1 < length and text[close + 1] == "'":
                close = text.find("'", close + 2)
            if close < 0:
                raise ExpressionSyntaxError("Unterminated string literal", text, i + 1)
            i = close + 1
        elif ch == "}":
            return i
        else:
            i += 1
    raise ExpressionSyntaxError("Unterminated '@{': expected '}'", text, start - 1)
