"""`pairflow eval`: evaluate one template (or a stream of them) and print the result as JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from pairflow.errors import ExpressionError, InputError
from pairflow.expressions import evaluate_template
from pairflow.expressions.context import MappingContext
from pairflow.jsontypes import JSON

EXIT_OK = 0
EXIT_BAD_INPUT = 2


def _line(payload: dict[str, JSON]) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(", ", ": "))


def _evaluate(text: str, context: MappingContext) -> tuple[bool, str]:
    try:
        value = evaluate_template(text, context)
    except ExpressionError as error:
        return False, _line({"error": error.message})
    try:
        return True, _line({"value": value})
    except (TypeError, ValueError) as error:
        return False, _line({"error": f"The result cannot be written as JSON: {error}"})


def _load_context(path: Path | None) -> MappingContext:
    if path is None:
        return MappingContext()
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InputError(f"context file {path}: cannot read: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise InputError(f"context file {path}: not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise InputError(
            f"context file {path}: invalid JSON at line {error.lineno} column {error.colno}: {error.msg}"
        ) from None
    if not isinstance(document, dict):
        raise InputError(f"context file {path}: expected a JSON object")
    try:
        return MappingContext(document)
    except ValueError as error:
        raise InputError(f"context file {path}: {error}") from None


@click.command("eval")
@click.argument("template", required=False)
@click.option(
    "--jsonl", is_flag=True, help="Read one JSON string per line on stdin; write one result per line."
)
@click.option(
    "--context",
    "context_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help='JSON document that workflow functions read: {"trigger", "actions", "variables", …}.',
)
def eval_command(template: str | None, jsonl: bool, context_file: Path | None) -> None:
    """Evaluate TEMPLATE exactly as written in a definition and print {"value": …} or {"error": …}.

    An argument starting with '@' is an expression ('@add(1, 2)' prints 3); any other argument
    follows the template rules for plain strings: '@{…}' parts are interpolated and the rest is
    text ('Hi @{add(1,2)}' prints "Hi 3", 'add(1,2)' prints the string "add(1,2)").
    Exit code 0 when every template evaluated, 2 otherwise.
    """
    try:
        context = _load_context(context_file)
    except InputError as error:
        click.echo(_line({"error": error.message}))
        sys.exit(EXIT_BAD_INPUT)
    if jsonl:
        if template is not None:
            click.echo(_line({"error": "give either TEMPLATE or --jsonl, not both"}))
            sys.exit(EXIT_BAD_INPUT)
        sys.exit(_run_lines(context))
    if template is None:
        click.echo(_line({"error": "missing TEMPLATE (or use --jsonl)"}))
        sys.exit(EXIT_BAD_INPUT)
    ok, line = _evaluate(template, context)
    click.echo(line)
    sys.exit(EXIT_OK if ok else EXIT_BAD_INPUT)


def _run_lines(context: MappingContext) -> int:
    code = EXIT_OK
    for number, raw in enumerate(sys.stdin, start=1):
        try:
            text = json.loads(raw)
        except json.JSONDecodeError as error:
            text = None
            message = f"line {number}: not JSON: {error.msg}"
        else:
            message = f"line {number}: expected a JSON string, got {type(text).__name__}"
        if not isinstance(text, str):
            click.echo(_line({"error": message}))
            code = EXIT_BAD_INPUT
            continue
        ok, line = _evaluate(text, context)
        click.echo(line)
        if not ok:
            code = EXIT_BAD_INPUT
    return code
