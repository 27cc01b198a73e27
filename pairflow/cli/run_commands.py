"""`pairflow run`, `runs`, `show` and `resume`: run definitions from files and look at their history.

Every command that opens the store first resumes runs that an earlier process left unfinished (a
crash, kill -9), so an interrupted run continues without anyone asking.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from pairflow.cli.common import (
    EXIT_OK,
    EXIT_RUN_FAILED,
    handle_errors,
    load_app_settings,
    read_json_argument,
    store_option,
)
from pairflow.cli.remote_commands import remote_runs, remote_show
from pairflow.cli.render import render_run, render_runs
from pairflow.definition.parameters import load_parameter_file, resolve_parameters
from pairflow.definition.validate import load_and_validate
from pairflow.engine.runner import Engine
from pairflow.engine.view import run_summary, run_view
from pairflow.errors import InputError, RunNotFoundError
from pairflow.store import open_store
from pairflow.store.base import Store

_LOCATION_OPTIONS = (
    click.option(
        "--location-url",
        envvar="PAIRFLOW_LOCATION_URL",
        default=None,
        metavar="URL",
        help="Ask a running location (pairflow serve) instead of the local store.",
    ),
    click.option("--api-key", envvar="PAIRFLOW_API_KEY", default=None, help="The location's API key."),
)


def location_options(fn: Any) -> Any:
    """--location-url and --api-key, for commands that can read a running location."""
    return _LOCATION_OPTIONS[0](_LOCATION_OPTIONS[1](fn))


def _print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def _exit_for(status: str) -> int:
    return EXIT_OK if status == "Succeeded" else EXIT_RUN_FAILED


async def _resume_quietly(engine: Engine) -> int:
    resumed = await engine.resume_unfinished()
    for record in resumed:
        click.echo(f"resumed run {record.id} of {record.workflow}: {record.status}", err=True)
    return len(resumed)


@click.command("run")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--name",
    "workflow_name",
    default=None,
    help="Workflow name (default: the file's name), or which workflow of an ARM template.",
)
@click.option(
    "--trigger-body", default=None, metavar="JSON|@FILE", help="The trigger's body, as JSON or @file."
)
@click.option(
    "--trigger-headers",
    default=None,
    metavar="JSON|@FILE",
    help="The trigger's headers, as a JSON object or @file.",
)
@click.option(
    "--parameters",
    "parameters_file",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A parameter file (ARM shape or a plain object).",
)
@click.option(
    "--workflow",
    "other_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Another workflow to deploy alongside (repeatable), so Workflow actions can call it by name.",
)
@click.option(
    "--settings",
    "settings_file",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help='App settings read by appsetting(): a local.settings.json ({"Values": {...}}) or a plain object.',
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the run as one JSON object (stable; see docs/run-json.md)."
)
@store_option
@handle_errors
def run_command(
    file: Path,
    workflow_name: str | None,
    trigger_body: str | None,
    trigger_headers: str | None,
    parameters_file: Path | None,
    other_files: tuple[Path, ...],
    settings_file: Path | None,
    as_json: bool,
    store_url: str | None,
) -> None:
    """Run the workflow definition in FILE once and print the run.

    Exit status: 0 the run succeeded, 1 it failed or was cancelled, 2 bad input, 3 the store cannot be opened.
    """
    loaded, model = load_and_validate(file, workflow_name)
    # Values embedded beside the definition that it does not declare are Logic Apps Standard's
    # app-level parameters (parameters.json): usable through parameters() without a declaration.
    supplied: dict[str, Any] = {k: v for k, v in loaded.parameters.items() if k in model.parameters}
    app_level = {k: v for k, v in loaded.parameters.items() if k not in model.parameters}
    source = str(file)
    if parameters_file is not None:
        supplied.update(load_parameter_file(parameters_file))
        source = str(parameters_file)
    values = {**app_level, **resolve_parameters(model, supplied, source)}
    body = read_json_argument(trigger_body, "--trigger-body") if trigger_body is not None else None
    headers = read_json_argument(trigger_headers, "--trigger-headers") if trigger_headers is not None else {}
    if not isinstance(headers, dict):
        raise InputError("--trigger-headers: expected a JSON object")
    settings = load_app_settings(settings_file) if settings_file is not None else {}
    others = [_deployable(path) for path in other_files]

    store = open_store(store_url)
    try:
        status, view = asyncio.run(
            _run_once(store, loaded.name, loaded.definition, values, body, headers, settings, others)
        )
    finally:
        store.close()
    if as_json:
        _print_json(view)
    else:
        click.echo(render_run(view))
    sys.exit(_exit_for(status))


def _deployable(path: Path) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """A validated workflow from a file, with its declared defaults, ready to store."""
    loaded, model = load_and_validate(path)
    embedded = {k: v for k, v in loaded.parameters.items() if k in model.parameters}
    return loaded.name, loaded.definition, resolve_parameters(model, embedded, str(path))


async def _run_once(
    store: Store,
    name: str,
    definition: dict[str, Any],
    parameters: dict[str, Any],
    body: Any,
    headers: dict[str, Any],
    settings: dict[str, str],
    others: list[tuple[str, dict[str, Any], dict[str, Any]]],
) -> tuple[str, dict[str, Any]]:
    engine = Engine(store, app_settings=settings)
    try:
        await _resume_quietly(engine)
        for other_name, other_definition, other_parameters in others:
            store.put_workflow(other_name, other_definition, other_parameters, datetime.now(UTC))
        store.put_workflow(name, definition, parameters, datetime.now(UTC))
        record = await engine.run(name, trigger_outputs={"headers": headers, "body": body})
        return record.status, run_view(store, record.id)
    finally:
        await engine.aclose()


@click.command("runs")
@click.option("--workflow", default=None, help="Only runs of this workflow.")
@click.option("--status", default=None, type=click.Choice(["Running", "Succeeded", "Failed", "Cancelled"]))
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@location_options
@store_option
@handle_errors
def runs_command(
    workflow: str | None,
    status: str | None,
    limit: int,
    as_json: bool,
    location_url: str | None,
    api_key: str | None,
    store_url: str | None,
) -> None:
    """List runs, newest first (of the local store, or of a running location with --location-url)."""
    if location_url:
        summaries = remote_runs(location_url, api_key, workflow, status, limit)
    else:
        store = open_store(store_url)
        try:
            asyncio.run(_resume_only(store))
            summaries = [
                run_summary(r) for r in store.list_runs(workflow=workflow, status=status, limit=limit)
            ]
        finally:
            store.close()
    if as_json:
        _print_json(summaries)
    else:
        click.echo(render_runs(summaries))


@click.command("show")
@click.argument("run_id")
@click.option(
    "--json", "as_json", is_flag=True, help="Print the run as one JSON object (the same as `run --json`)."
)
@location_options
@store_option
@handle_errors
def show_command(
    run_id: str, as_json: bool, location_url: str | None, api_key: str | None, store_url: str | None
) -> None:
    """Show one run: every action with its status, duration, attempts and a short view of its outputs."""
    if location_url:
        view = remote_show(location_url, api_key, run_id)
    else:
        store = open_store(store_url)
        try:
            asyncio.run(_resume_only(store))
            if store.get_run(run_id) is None:
                raise RunNotFoundError(f"no run with id '{run_id}'")
            view = run_view(store, run_id)
        finally:
            store.close()
    if as_json:
        _print_json(view)
    else:
        click.echo(render_run(view))
    sys.exit(_exit_for(view["status"]) if view["status"] != "Running" else EXIT_OK)


@click.command("resume")
@store_option
@handle_errors
def resume_command(store_url: str | None) -> None:
    """Continue every run that an earlier process left unfinished (after a crash or kill -9)."""
    store = open_store(store_url)
    try:
        count = asyncio.run(_resume_only(store))
    finally:
        store.close()
    click.echo(f"resumed {count} run(s)")


async def _resume_only(store: Store) -> int:
    engine = Engine(store)
    try:
        return await _resume_quietly(engine)
    finally:
        await engine.aclose()


COMMANDS = [run_command, runs_command, show_command, resume_command]
