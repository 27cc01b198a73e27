"""Deploying a template to one location: `pairflow deploy TEMPLATE --parameters FILE --location NAME
[--what-if]` (routed here by `deploy` when FILE is a template) and `pairflow template check`.

Order of work, so that a refusal leaves the location as it was: the template, the parameter file and
every workflow are checked locally (all problems listed, exit 2); then the location checks every
workflow without storing anything (`PUT …?whatIf=true`; any refusal: all listed, exit 1); only
then is each workflow deployed. Deploying the same template twice changes nothing: the location
keeps a version only when definition or parameters changed, and the deployment record only when it
changed. Values of secure parameters are never printed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NoReturn

import click
import httpx

from pairflow.cli.common import EXIT_BAD_INPUT, fail, handle_errors
from pairflow.continuity import template, whatif
from pairflow.continuity.template import LocationPlan
from pairflow.jsontypes import JSON, JSONObject

EXIT_REFUSED = 1
EXIT_UNREACHABLE = 3
TIMEOUT = 30.0  # seconds for one API call


class _Location:
    """The location's management API, answering (status, JSON) instead of exiting on a refusal."""

    def __init__(self, url: str, api_key: str | None, plan: LocationPlan) -> None:
        self.url = url.rstrip("/")
        self.headers = {"x-api-key": api_key} if api_key else {}
        self.plan = plan
        self.client = httpx.Client(base_url=self.url, timeout=TIMEOUT, headers=self.headers)

    def __enter__(self) -> _Location:
        return self

    def __exit__(self, *_: object) -> None:
        self.client.close()

    def request(self, method: str, path: str, body: JSON = None, **params: str) -> tuple[int, JSON]:
        try:
            answer = self.client.request(
                method, path, params=params or None, json=body if method == "PUT" else None
            )
        except httpx.InvalidURL as error:
            fail(f"location URL {self.url!r}: {error}", EXIT_BAD_INPUT)
        except httpx.UnsupportedProtocol:
            fail(f"location URL {self.url!r}: expected an http:// or https:// URL", EXIT_BAD_INPUT)
        except httpx.HTTPError as error:
            fail(f"cannot reach {self.url}: {error}", EXIT_UNREACHABLE)
        try:
            return answer.status_code, answer.json() if answer.content else None
        except ValueError:
            return answer.status_code, answer.text

    def refusal(self, name: str, status: int, body: JSON) -> list[str]:
        """The location's refusal of one workflow, one line per problem, secrets scrubbed."""
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            return [self.plan.scrub(f"{name}: {status}: {str(body)[:200]}")]
        lines = [f"{name}: {status} {error.get('code')}: {error.get('message')}"]
        details = error.get("details")
        if isinstance(details, list):
            lines += [
                f"{name}: {d.get('pointer')}: {d.get('message')}" for d in details[1:] if isinstance(d, dict)
            ]
        return [self.plan.scrub(line) for line in lines]


def _refused(lines: list[str]) -> NoReturn:
    for line in lines[:-1]:
        click.echo(f"pairflow: error: {line}", err=True)
    fail(lines[-1], EXIT_REFUSED)


def deploy_template(
    template_path: Path,
    parameters_path: Path | None,
    location: str | None,
    location_url: str | None,
    api_key: str | None,
    what_if: bool,
) -> None:
    """Plan, check with the location, then deploy (or, with `what_if`, only report)."""
    if not location:
        fail(f"{template_path.name} is a template: give --location NAME (one of its locations)")
    plan = template.plan_from_files(template_path, parameters_path, location)
    url = location_url or plan.url
    if not url:
        fail(f"{template_path.name}: /locations/{location}/url: no URL for the location; give --location-url")
    with _Location(url, api_key, plan) as api:
        status, listed = api.request("GET", "/api/workflows")
        if status >= 400:
            _refused(api.refusal("(list)", status, listed))
        rows = listed.get("value", []) if isinstance(listed, dict) else []
        deployed = [str(row.get("name")) for row in rows if isinstance(row, dict)]
        answers: list[tuple[str, JSONObject, str | None]] = []
        refusals: list[str] = []
        for workflow in plan.workflows:
            path = f"/api/workflows/{workflow.name}"
            status, answer = api.request("PUT", path, workflow.body(), whatIf="true")
            if status >= 400 or not isinstance(answer, dict):
                refusals += api.refusal(workflow.name, status, answer)
                continue
            answers.append((workflow.name, answer, workflow.deployment.mode))
        if refusals:
            _refused([*refusals, f"nothing was deployed to location '{location}'"])
        if what_if:
            click.echo(f"what-if for location '{location}' ({api.url}); nothing changed:")
            for line in whatif.report(answers, deployed):
                click.echo(line)
            return
        for (name, answer, mode), workflow in zip(answers, plan.workflows, strict=True):
            path = f"/api/workflows/{workflow.name}"
            status, result = api.request("PUT", path, workflow.body())
            if status >= 400 or not isinstance(result, dict):
                _refused(api.refusal(name, status, result))
            if workflow.access_key is not None:
                status, refused = api.request("PUT", f"{path}/accessKey", {"key": workflow.access_key})
                if status >= 400:
                    _refused(api.refusal(name, status, refused))
            change = answer.get("change")
            verb = {"create": "created", "update": "updated"}.get(str(change), "unchanged")
            click.echo(f"{name}: {verb}, version {result.get('version')} [{mode}]")


@click.group("template")
def template_group() -> None:
    """Deployment templates: check one against a location's parameter file."""


@template_group.command("check")
@click.argument("template_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--parameters", "parameters_file", default=None, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option("--location", required=True, help="The location to plan, as named in the template.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON (secure values hidden).")
@handle_errors
def check_command(template_file: Path, parameters_file: Path | None, location: str, as_json: bool) -> None:
    """Check TEMPLATE with a parameter file and show what the location would get; deploys nothing."""
    plan = template.plan_from_files(template_file, parameters_file, location)
    if as_json:
        view = {
            "location": plan.location,
            "role": plan.role,
            "url": plan.url,
            "workflows": {w.name: w.deployment.to_json() for w in plan.workflows},
        }
        click.echo(json.dumps(view, indent=2))
        return
    click.echo(f"location '{plan.location}' ({plan.role}) {plan.url or '(no URL in the template)'}")
    for workflow in plan.workflows:
        split = workflow.deployment.split
        shown = f", split {split.index + 1}/{split.parts}" if split else ""
        click.echo(f"  {workflow.name}: {workflow.deployment.mode}{shown}")


COMMANDS: list[click.Command] = [template_group]
