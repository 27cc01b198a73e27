"""What every CLI command shares: the store option, JSON input arguments, and turning errors into
one-line messages with documented exit codes instead of tracebacks."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from pairflow.errors import DefinitionError, InputError, PairflowError, StoreUnavailableError
from pairflow.jsontypes import JSON

EXIT_OK = 0
EXIT_RUN_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_STORE_UNAVAILABLE = 3

F = TypeVar("F", bound=Callable[..., Any])

store_option = click.option(
    "--store",
    "store_url",
    envvar="PAIRFLOW_STORE",
    default=None,
    metavar="URL",
    help="Where runs are kept: sqlite:///path.db (default ./pairflow.db). Also $PAIRFLOW_STORE.",
)


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    click.echo(f"pairflow: error: {message}", err=True)
    sys.exit(code)


def handle_errors(fn: F) -> F:
    """Turn pairflow's errors into one line on stderr and the documented exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DefinitionError as error:
            for line in error.lines():
                click.echo(f"pairflow: error: {line}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except StoreUnavailableError as error:
            fail(error.message, EXIT_STORE_UNAVAILABLE)
        except InputError as error:
            lines = getattr(error, "lines", None)
            for line in lines() if callable(lines) else error.message.splitlines() or [error.message]:
                click.echo(f"pairflow: error: {line}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except PairflowError as error:
            fail(error.message, error.exit_code if error.exit_code != 0 else 1)

    return wrapper  # type: ignore[return-value]


def read_json_argument(value: str, what: str) -> JSON:
    """Parse `value` as JSON, or read the file it names when it starts with '@'."""
    source = what
    text = value
    if value.startswith("@"):
        path = Path(value[1:])
        source = f"{what} file {path}"
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise InputError(f"{source}: cannot read: {error.strerror or error}") from None
        except UnicodeDecodeError:
            raise InputError(f"{source}: not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(
            f"{source}: invalid JSON at line {error.lineno} column {error.colno}: {error.msg}"
        ) from None
    except RecursionError:
        raise InputError(f"{source}: JSON nested too deeply") from None


def store_url_or_default(url: str | None) -> str | None:
    return url or os.environ.get("PAIRFLOW_STORE") or None


def load_app_settings(path: Path) -> dict[str, str]:
    """App settings for `appsetting()`: Azure Functions' local.settings.json shape or a plain object.

    Values must be strings, as app settings are; anything else is refused with its JSON pointer."""
    document = read_json_argument(f"@{path}", "--settings")
    values, prefix = document, ""
    if isinstance(document, dict) and isinstance(document.get("Values"), dict):
        values, prefix = document["Values"], "/Values"
    if not isinstance(values, dict):
        raise InputError(f"--settings file {path}: {prefix or '/'}: expected an object of app settings")
    for name, value in values.items():
        if not isinstance(value, str):
            raise InputError(f"--settings file {path}: {prefix}/{name}: expected a string app setting")
    return dict(values)
