"""Commands that talk to a running location over its management API: `deploy`, `workflows`,
`enable`, `disable` and `trigger-state export|import`, plus `remote_runs`/`remote_show` for
`runs`/`show --location-url`.

Exit codes: 0 success, 1 the location refused (its error code and message are printed), 2 bad input,
3 the location cannot be reached.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
import httpx

from pairflow.cli.common import EXIT_BAD_INPUT, fail, handle_errors
from pairflow.definition.loader import load_workflow
from pairflow.definition.parameters import load_parameter_file
from pairflow.jsontypes import JSON

EXIT_REFUSED = 1
EXIT_UNREACHABLE = 3
TIMEOUT = 30.0  # seconds for one API call

F = TypeVar("F", bound=Callable[..., Any])


def location_options(fn: F) -> F:
    fn = click.option(
        "--api-key", envvar="PAIRFLOW_API_KEY", default=None, help="Management API key. $PAIRFLOW_API_KEY."
    )(fn)
    fn = click.option(
        "--location-url",
        envvar="PAIRFLOW_LOCATION_URL",
        required=True,
        metavar="URL",
        help="The location, e.g. http://127.0.0.1:8080. $PAIRFLOW_LOCATION_URL.",
    )(fn)
    return fn


def call(
    method: str, url: str, path: str, api_key: str | None, body: JSON = None, has_body: bool = False
) -> JSON:
    """One API call; exits with a one-line message when refused or unreachable."""
    headers = {"x-api-key": api_key} if api_key else {}
    try:
        with httpx.Client(base_url=url.rstrip("/"), timeout=TIMEOUT) as client:
            answer = client.request(method, path, headers=headers, json=body if has_body else None)
    except httpx.InvalidURL as error:
        fail(f"--location-url {url!r}: {error}", EXIT_BAD_INPUT)
    except httpx.UnsupportedProtocol:
        fail(f"--location-url {url!r}: expected an http:// or https:// URL", EXIT_BAD_INPUT)
    except httpx.HTTPError as error:
        fail(f"cannot reach {url}: {error}", EXIT_UNREACHABLE)
    if answer.status_code >= 400:
        _refused(answer)
    if not answer.content:
        return None
    try:
        return answer.json()
    except ValueError:
        return answer.text


def _refused(answer: httpx.Response) -> NoReturn:
    try:
        error = answer.json()["error"]
        message = f"{answer.status_code} {error['code']}: {error['message']}"
        for detail in error.get("details", [])[1:]:
            click.echo(f"pairflow: error: {detail['pointer']}: {detail['message']}", err=True)
    except (ValueError, KeyError, TypeError):
        message = f"{answer.status_code}: {answer.text[:200]}"
    fail(message, EXIT_REFUSED)


def _print(value: JSON) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


@click.command("deploy")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--name", default=None, help="Workflow name (default: the file's name).")
@click.option(
    "--parameters", "parameters_file", default=None, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option("--location", default=None, help="Template only: the location to deploy, as named there.")
@click.option("--what-if", "what_if", is_flag=True, help="Template only: print the changes; change nothing.")
@click.option(
    "--api-key", envvar="PAIRFLOW_API_KEY", default=None, help="Management API key. $PAIRFLOW_API_KEY."
)
@click.option(
    "--location-url",
    envvar="PAIRFLOW_LOCATION_URL",
    default=None,
    metavar="URL",
    help="The location, e.g. http://127.0.0.1:8080 (a template may name it). $PAIRFLOW_LOCATION_URL.",
)
@handle_errors
def deploy_command(
    file: Path,
    name: str | None,
    parameters_file: Path | None,
    location: str | None,
    what_if: bool,
    api_key: str | None,
    location_url: str | None,
) -> None:
    """Deploy the workflow in FILE to a running location (a new version when it changed).

    When FILE is a deployment template (it has "workflows" and "locations"), deploy its workflows to
    the location named by --location with the values of the --parameters file (docs/templates.md).
    """
    from pairflow.cli import template_commands
    from pairflow.continuity.template import is_template, read_document
    from pairflow.errors import DefinitionError

    try:
        document = read_document(file)
    except DefinitionError:
        document = None  # load_workflow below reports the problem in its own words
    if is_template(document):
        template_commands.deploy_template(file, parameters_file, location, location_url, api_key, what_if)
        return
    if location_url is None:
        fail("missing option '--location-url'", EXIT_BAD_INPUT)
    loaded = load_workflow(file, name)
    parameters: dict[str, JSON] = dict(loaded.parameters)
    if parameters_file is not None:
        parameters.update(load_parameter_file(parameters_file))
    body = {"definition": loaded.definition, "parameters": parameters}
    result = call("PUT", location_url, f"/api/workflows/{loaded.name}", api_key, body, has_body=True)
    if isinstance(result, dict):
        click.echo(f"deployed {result['name']} version {result['version']}")


@click.command("workflows")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@location_options
def workflows_command(as_json: bool, location_url: str, api_key: str | None) -> None:
    """List the workflows deployed to a location."""
    result = call("GET", location_url, "/api/workflows", api_key)
    rows = result.get("value", []) if isinstance(result, dict) else []
    if as_json:
        _print(rows)
        return
    for row in rows:
        triggers = ",".join(f"{t['name']}({t['type']})" for t in row.get("triggers", []))
        click.echo(f"{row['name']}\tv{row['version']}\t{row['state']}\t{triggers}")


def _state_command(enabled: bool) -> click.Command:
    verb = "enable" if enabled else "disable"

    @click.command(verb)
    @click.argument("name")
    @location_options
    def command(name: str, location_url: str, api_key: str | None) -> None:
        call("POST", location_url, f"/api/workflows/{name}/{verb}", api_key)
        click.echo(f"{name}: {verb}d")

    command.help = f"{verb.capitalize()} a workflow on a location."
    return command


enable_command = _state_command(True)
disable_command = _state_command(False)


@click.group("trigger-state")
def trigger_state_group() -> None:
    """Export or import a trigger's state (polling cursor, schedule position) as JSON."""


@trigger_state_group.command("export")
@click.argument("workflow")
@click.argument("trigger")
@location_options
def export_command(workflow: str, trigger: str, location_url: str, api_key: str | None) -> None:
    """Print the trigger's state as JSON."""
    _print(call("GET", location_url, f"/api/workflows/{workflow}/triggers/{trigger}/state", api_key))


@trigger_state_group.command("import")
@click.argument("workflow")
@click.argument("trigger")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@location_options
def import_command(workflow: str, trigger: str, file: Path, location_url: str, api_key: str | None) -> None:
    """Replace the trigger's state with the JSON in FILE."""
    try:
        state = json.loads(file.read_text(encoding="utf-8"))
    except OSError as error:
        fail(f"{file}: cannot read: {error.strerror or error}", EXIT_BAD_INPUT)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        fail(f"{file}: not valid JSON: {error}", EXIT_BAD_INPUT)
    call("PUT", location_url, f"/api/workflows/{workflow}/triggers/{trigger}/state", api_key, state, True)
    click.echo(f"imported the state of {workflow}/{trigger}")


def remote_runs(
    location_url: str, api_key: str | None, workflow: str | None, status: str | None, limit: int
) -> JSON:
    """For `pairflow runs --location-url`: the location's runs, newest first."""
    query = httpx.QueryParams({k: v for k, v in {"workflow": workflow, "status": status}.items() if v})
    query = query.set("limit", str(limit))
    result = call("GET", location_url, f"/api/runs?{query}", api_key)
    return result.get("value", []) if isinstance(result, dict) else []


def remote_show(location_url: str, api_key: str | None, run_id: str) -> JSON:
    """For `pairflow show RUN_ID --location-url`: the run view (the same JSON as `show --json`)."""
    return call("GET", location_url, f"/api/runs/{run_id}", api_key)


COMMANDS: list[click.Command] = [
    deploy_command,
    workflows_command,
    enable_command,
    disable_command,
    trigger_state_group,
]
