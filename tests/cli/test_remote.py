"""The remote commands against a real `pairflow serve`: deploy, list, disable/enable, trigger state,
runs and show; refusals exit 1, an unreachable location exits 3."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from pairflow.cli import remote_commands, run_commands
from tests.cli.test_serve import API_KEY, _start


@pytest.fixture
def location(tmp_path: Path) -> Iterator[str]:
    served = _start(tmp_path / "p.db")
    try:
        yield served.url
    finally:
        served.process.terminate()
        served.process.communicate(timeout=20)


def _invoke(command: object, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(command, list(args), env={"PAIRFLOW_API_KEY": API_KEY})  # type: ignore[arg-type]
    return result.exit_code, result.stdout, result.stderr


def test_deploy_list_disable_enable_and_state_round_trip(location: str, tmp_path: Path) -> None:
    workflow = tmp_path / "hello.json"
    workflow.write_text(
        json.dumps(
            {
                "definition": {
                    "triggers": {"manual": {"type": "Request", "kind": "Http"}},
                    "actions": {"C": {"type": "Compose", "inputs": "@triggerBody()", "runAfter": {}}},
                }
            }
        )
    )
    code, out, _ = _invoke(remote_commands.deploy_command, str(workflow), "--location-url", location)
    assert (code, out.strip()) == (0, "deployed hello version 1")
    code, out, _ = _invoke(remote_commands.workflows_command, "--location-url", location)
    assert out.strip() == "hello\tv1\tEnabled\tmanual(Request)"
    assert _invoke(remote_commands.disable_command, "hello", "--location-url", location)[0] == 0
    code, out, _ = _invoke(remote_commands.workflows_command, "--location-url", location, "--json")
    assert json.loads(out)[0]["enabled"] is False
    assert _invoke(remote_commands.enable_command, "hello", "--location-url", location)[0] == 0

    state = tmp_path / "state.json"
    state.write_text('{"cursor": 7}')
    group = remote_commands.trigger_state_group
    assert _invoke(group, "import", "hello", "manual", str(state), "--location-url", location)[0] == 0
    code, out, _ = _invoke(group, "export", "hello", "manual", "--location-url", location)
    assert json.loads(out) == {"cursor": 7}

    url = httpx.post(
        f"{location}/api/workflows/hello/triggers/manual/listCallbackUrl", headers={"x-api-key": API_KEY}
    ).json()["value"]
    run_id = httpx.post(url, json={"a": 1}).headers["x-ms-workflow-run-id"]
    runs = remote_commands.remote_runs(location, API_KEY, "hello", None, 10)
    assert [run["id"] for run in runs] == [run_id]
    assert remote_commands.remote_show(location, API_KEY, run_id)["id"] == run_id

    code, out, _ = _invoke(run_commands.runs_command, "--location-url", location, "--json")
    assert code == 0
    assert [run["id"] for run in json.loads(out)] == [run_id]
    code, out, _ = _invoke(run_commands.show_command, run_id, "--location-url", location)
    assert run_id in out
    assert "C " in out


def test_refused_and_unreachable_calls_exit_with_one_line(location: str, tmp_path: Path) -> None:
    code, _, err = _invoke(remote_commands.enable_command, "nosuch", "--location-url", location)
    assert code == 1
    assert err.strip() == "pairflow: error: 404 WorkflowNotFound: The workflow 'nosuch' could not be found."
    with socket_free_port() as port:
        code, _, err = _invoke(
            remote_commands.workflows_command, "--location-url", f"http://127.0.0.1:{port}"
        )
    assert code == 3
    assert err.startswith("pairflow: error: cannot reach")
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    code, _, err = _invoke(remote_commands.deploy_command, str(bad), "--location-url", location)
    assert code == 2


class socket_free_port:  # noqa: N801 - used as a context manager
    """A port nobody listens on (bound, then released on exit)."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        port: int = self.sock.getsockname()[1]
        return port

    def __exit__(self, *exc: object) -> None:
        self.sock.close()
