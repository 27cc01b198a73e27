"""`pairflow deploy TEMPLATE` against real `pairflow serve` processes: each location gets its own
values and split share, a second deploy changes nothing, --what-if reports without changing, and a
refused template leaves the location untouched. Also the passive location's answer to a Request."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from pairflow.cli import remote_commands
from pairflow.continuity import state
from pairflow.server.config import Settings
from tests.server.conftest import AUTH, callback, deploy, make_settings, request_response_workflow, serve

EXAMPLES = Path(__file__).parents[2] / "examples" / "continuity"
API_KEY = "template-test-key-1234"
HEADERS = {"x-api-key": API_KEY}


def _start(store: Path, location: str) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PAIRFLOW_API_KEYS": API_KEY}
    command = [sys.executable, "-m", "pairflow.cli.serve_command", "--store", str(store)]
    process = subprocess.Popen(
        [*command, "--location", location, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith(f"pairflow serving location {location} at "):
        process.kill()
        raise AssertionError(f"unexpected first line {line!r}; stderr: {process.communicate()[1]}")
    return process, line.rsplit(" ", 1)[1].strip()


@pytest.fixture
def locations(tmp_path: Path) -> Iterator[dict[str, str]]:
    started = {name: _start(tmp_path / f"{name}.db", name) for name in ("west", "east")}
    try:
        yield {name: url for name, (_, url) in started.items()}
    finally:
        for process, _ in started.values():
            process.terminate()
            process.communicate(timeout=20)


def _deploy(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(remote_commands.deploy_command, list(args), env={"PAIRFLOW_API_KEY": API_KEY})
    return result.exit_code, result.stdout, result.stderr


def _template_args(location: str, url: str, parameters: Path | None = None) -> list[str]:
    chosen = parameters or EXAMPLES / f"parameters.{location}.json"
    return [str(EXAMPLES / "template.json"), "--parameters", str(chosen), "--location", location]


def _get(url: str, path: str) -> Any:
    answer = httpx.get(f"{url}{path}", headers=HEADERS)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_each_location_gets_its_values_and_share_and_a_second_deploy_changes_nothing(
    locations: dict[str, str],
) -> None:
    for name, url in locations.items():
        code, out, err = _deploy(*_template_args(name, url), "--location-url", url)
        assert code == 0, err
        assert out.splitlines() == [
            "orders: created, version 1 [active-active]",
            "report: created, version 1 [active-passive]",
            "inbox: created, version 1 [active-passive]",
            "rows: created, version 1 [active-active]",
        ]
    west = _get(locations["west"], "/api/workflows/report")["deployment"]
    east = _get(locations["east"], "/api/workflows/report")["deployment"]
    assert (west["split"], east["split"]) == ({"parts": 2, "index": 0}, {"parts": 2, "index": 1})
    assert (west["locationRole"], east["locationRole"]) == ("primary", "secondary")
    orders = _get(locations["east"], "/api/workflows/orders")
    assert orders["deployment"]["connections"]["ordersDb"] == {"shared": False, "secure": True}
    assert "east-secret" not in json.dumps(orders)

    code, out, _ = _deploy(*_template_args("west", locations["west"]), "--location-url", locations["west"])
    assert code == 0
    assert all(", version 1 " in line and "unchanged" in line for line in out.splitlines())
    assert len(_get(locations["west"], "/api/workflows/orders/versions")["value"]) == 1


def test_what_if_reports_each_change_and_changes_nothing(locations: dict[str, str], tmp_path: Path) -> None:
    url = locations["west"]
    assert _deploy(*_template_args("west", url), "--location-url", url)[0] == 0
    other = {"definition": {"triggers": {"manual": {"type": "Request", "kind": "Http"}}, "actions": {}}}
    assert httpx.put(f"{url}/api/workflows/legacy", json=other, headers=HEADERS).status_code == 201
    changed = json.loads((EXAMPLES / "parameters.west.json").read_text())
    changed["parameters"]["rowsUrl"]["value"] = "http://127.0.0.1:9999/rows"
    changed["parameters"]["ordersDb"]["value"] = "Server=sql-west-2.example.com;Password=rotated"
    parameters = tmp_path / "parameters.west.json"
    parameters.write_text(json.dumps(changed))

    code, out, err = _deploy(*_template_args("west", url, parameters), "--location-url", url, "--what-if")
    assert code == 0, err
    assert out.splitlines() == [
        f"what-if for location 'west' ({url}); nothing changed:",
        "~ orders: update (parameters changed) [active-active]",
        "= report: unchanged [active-passive]",
        "= inbox: unchanged [active-passive]",
        "~ rows: update (parameters changed) [active-active]",
        "- legacy: not in template (left alone)",
    ]
    assert "rotated" not in out
    assert len(_get(url, "/api/workflows/rows/versions")["value"]) == 1


def test_an_invalid_template_deploys_nothing_and_names_file_and_pointer(
    locations: dict[str, str], tmp_path: Path
) -> None:
    url = locations["west"]
    broken = json.loads((EXAMPLES / "parameters.west.json").read_text())
    del broken["parameters"]["inboxUrl"]
    broken["parameters"]["ordersDb"]["value"] = 7
    parameters = tmp_path / "parameters.west.json"
    parameters.write_text(json.dumps(broken))
    code, _, err = _deploy(*_template_args("west", url, parameters), "--location-url", url)
    assert code == 2
    assert err.splitlines() == [
        "pairflow: error: parameters.west.json: /parameters/ordersDb/value: expected a string, "
        "got an integer (value hidden)",
        "pairflow: error: parameters.west.json: /parameters/inboxUrl/value: missing value for template "
        "parameter 'inboxUrl' (string with no defaultValue)",
    ]
    assert _get(url, "/api/workflows")["value"] == []


def test_a_workflow_the_location_refuses_leaves_every_workflow_undeployed(
    locations: dict[str, str], tmp_path: Path
) -> None:
    url = locations["west"]
    template = json.loads((EXAMPLES / "template.json").read_text())
    template["workflows"]["rows"]["definition"]["triggers"]["When_rows_are_unread"]["inputs"]["schema"] = {
        "type": 12
    }
    template["workflows"]["orders"]["file"] = str(EXAMPLES / "orders.json")
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template))
    args = [str(path), "--parameters", str(EXAMPLES / "parameters.west.json"), "--location", "west"]
    code, _, err = _deploy(*args, "--location-url", url)
    assert code == 1
    assert "rows: 400 InvalidDefinition" in err
    assert err.strip().endswith("nothing was deployed to location 'west'")
    assert _get(url, "/api/workflows")["value"] == []


def test_a_passive_location_answers_a_request_with_503_naming_the_active_one(tmp_path: Path) -> None:
    settings: Settings = make_settings(tmp_path, role="secondary")

    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        body = {**request_response_workflow(), "mode": "active-passive"}
        await deploy(client, "orders", body)
        url = await callback(client, "orders")
        location = app.state.location
        leader = state.Doc(epoch=3, leader=state.Leader("east", "http://east.test:8081", 3))
        _, version = state.load(location.store)
        state.save(location.store, leader, version, None)
        answer = await client.post(url, json={})
        assert answer.status_code == 503
        assert answer.json()["error"]["code"] == "LocationPassive"
        assert answer.json()["error"]["message"] == (
            "workflow 'orders' is passive in location 'west'; the active location is 'east' "
            "(http://east.test:8081)"
        )
        assert answer.headers["x-pairflow-active-location-url"] == "http://east.test:8081"
        runs = await client.get("/api/runs", headers=AUTH)
        assert runs.json()["value"] == []

    serve(settings, scenario)


def test_a_template_access_key_makes_one_signed_url_valid_in_every_location(
    locations: dict[str, str],
) -> None:
    for name, url in locations.items():
        code, _, err = _deploy(*_template_args(name, url), "--location-url", url)
        assert code == 0, err
    auth = {"x-api-key": API_KEY}
    west_url = httpx.post(
        f"{locations['west']}/api/workflows/orders/triggers/manual/listCallbackUrl", headers=auth
    ).json()["value"]
    east_url = httpx.post(
        f"{locations['east']}/api/workflows/orders/triggers/manual/listCallbackUrl", headers=auth
    ).json()["value"]
    # the same path and signature, only the host differs: a front door can send either anywhere
    assert west_url.split("/workflows/", 1)[1] == east_url.split("/workflows/", 1)[1]
    moved = locations["east"] + "/workflows/" + west_url.split("/workflows/", 1)[1]
    assert httpx.post(moved, json={"id": 1}).status_code < 400
