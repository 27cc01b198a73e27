"""The `pairflow` command: a thin layer over the public API.

Exit codes: 0 success (a run that Succeeded), 1 a run that Failed or was Cancelled, 2 bad input
(definition, expression, parameter file, arguments), 3 the store could not be opened.
"""

from __future__ import annotations

import click

from pairflow import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pairflow")
def cli() -> None:
    """pairflow: run Logic Apps workflow definitions durably."""


def _register() -> None:
    from pairflow.cli import (
        continuity_commands,
        drill_command,
        eval_command,
        frontdoor_command,
        remote_commands,
        run_commands,
        serve_command,
        template_commands,
        validate_command,
    )

    cli.add_command(eval_command.eval_command)
    cli.add_command(validate_command.validate_command)
    cli.add_command(serve_command.serve_command)
    cli.add_command(frontdoor_command.frontdoor_command)
    cli.add_command(drill_command.drill_command)
    commands = (
        *run_commands.COMMANDS,
        *remote_commands.COMMANDS,
        *template_commands.COMMANDS,
        *continuity_commands.COMMANDS,
    )
    for command in commands:
        cli.add_command(command)


def main() -> None:
    _register()
    cli(prog_name="pairflow")
