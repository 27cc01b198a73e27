"""`pairflow validate FILE [--name WORKFLOW]`: report every problem in a workflow file, or that it is valid.

Exit 0 when valid; exit 2 with one `FILE: /json/pointer: message` line per problem on stderr otherwise.
Whatever the file holds (a directory, binary, JSON nested too deep), the answer is a message, never a
traceback.
"""

from __future__ import annotations

import sys

import click

from pairflow.definition.validate import load_and_validate
from pairflow.errors import DefinitionError, InputError

EXIT_OK = 0
EXIT_BAD_INPUT = 2


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


@click.command("validate")
@click.argument("file", type=click.Path(dir_okay=True, path_type=str))
@click.option("--name", "name", default=None, metavar="WORKFLOW", help="Which workflow of an ARM template.")
def validate_command(file: str, name: str | None) -> None:
    """Check a workflow definition, workflow.json, resource or ARM template, and list every problem."""
    try:
        _, model = load_and_validate(file, name)
    except DefinitionError as error:
        for pointer, message in error.issues:
            click.echo(f"{file}: {pointer}: {message}" if pointer else f"{file}: {message}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except InputError as error:
        message = error.message
        if not message.startswith(file):
            message = f"{file}: {message}"
        click.echo(message, err=True)
        sys.exit(EXIT_BAD_INPUT)
    trigger = model.trigger
    described = f"trigger {trigger.name} ({trigger.type})" if trigger is not None else "no trigger"
    click.echo(f"{file}: valid ({_plural(len(model.all_actions), 'action')}, {described})")
    sys.exit(EXIT_OK)
