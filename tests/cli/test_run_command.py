"""`pairflow run`, `runs` and `show` as a user calls them: real processes, real SQLite files."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "order-approval.json"
ORDER = REPO / "examples" / "order.json"


def pairflow(
    *args: str, store: Path | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pairflow", *args]
    if store is not None:
        command += ["--store", f"sqlite:///{store}"]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, input=stdin)


def write(tmp_path: Path, name: str, document: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def run_count(store: Path) -> int:
    if not store.exists():
        return 0
    with sqlite3.connect(store) as db:
        tables = {row[0] for row in db.execute("select name from sqlite_master where type='table'")}
        return db.execute("select count(*) from runs").fetchone()[0] if "runs" in tables else 0


def test_example_order_runs_to_success_and_prints_a_table(tmp_path: Path) -> None:
    store = tmp_path / "runs.db"
    result = pairflow("run", str(EXAMPLE), "--trigger-body", f"@{ORDER}", store=store)
    assert result.returncode == 0, result.stderr
    assert "Succeeded" in result.stdout
    assert "Sum_lines" in result.stdout
    assert "response: 200" in result.stdout


def test_run_json_has_the_documented_fields(tmp_path: Path) -> None:
    store = tmp_path / "runs.db"
    result = pairflow("run", str(EXAMPLE), "--trigger-body", f"@{ORDER}", "--json", store=store)
    assert result.returncode == 0, result.stderr
    view = json.loads(result.stdout)
    assert view["status"] == "Succeeded"
    assert view["outputs"] == {"total": 525.0, "decision": "Order of 525 EUR waits for a manager"}
    assert view["response"]["statusCode"] == 200
    assert view["response"]["body"]["order"]["customer"] == "ADA"
    assert view["actions"]["Sum_lines"]["status"] == "Succeeded"
    assert view["actions"]["Needs_approval"]["actions"]["Approve_automatically"]["status"] == "Skipped"
    assert view["actions"]["Describe_order"]["attempts"] == 1
    shown = pairflow("show", view["id"], "--json", store=store)
    assert shown.returncode == 0
    assert json.loads(shown.stdout) == view


def test_parameters_file_overrides_defaults(tmp_path: Path) -> None:
    store = tmp_path / "runs.db"
    params = write(
        tmp_path,
        "parameters.west.json",
        {"parameters": {"approvalLimit": {"value": 1000}, "currency": {"value": "USD"}}},
    )
    result = pairflow(
        "run", str(EXAMPLE), "--trigger-body", f"@{ORDER}", "--parameters", str(params), "--json", store=store
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["outputs"]["decision"] == "approved automatically"


def test_failed_run_exits_1_and_reports_the_error(tmp_path: Path) -> None:
    store = tmp_path / "runs.db"
    workflow = write(
        tmp_path,
        "fails.json",
        {
            "triggers": {},
            "actions": {
                "Stop": {
                    "type": "Terminate",
                    "inputs": {
                        "runStatus": "Failed",
                        "runError": {"code": "Nope", "message": "stopped on purpose"},
                    },
                    "runAfter": {},
                }
            },
        },
    )
    result = pairflow("run", str(workflow), "--json", store=store)
    assert result.returncode == 1, result.stderr
    view = json.loads(result.stdout)
    assert view["status"] == "Failed"
    assert view["error"]["code"] == "Nope"


@pytest.mark.parametrize(
    ("args", "cause"),
    [
        (["--trigger-body", "{not json"], "--trigger-body: invalid JSON at line 1 column 2"),
        (["--trigger-body", "@/nonexistent/body.json"], "cannot read"),
        (["--parameters", "/nonexistent/params.json"], "params.json"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    tmp_path: Path, args: list[str], cause: str
) -> None:
    store = tmp_path / "runs.db"
    result = pairflow("run", str(EXAMPLE), *args, store=store)
    assert result.returncode == 2
    assert cause in result.stderr
    assert "Traceback" not in result.stderr
    assert run_count(store) == 0


def test_invalid_definition_exits_2_naming_the_pointer(tmp_path: Path) -> None:
    store = tmp_path / "runs.db"
    workflow = write(
        tmp_path,
        "bad.json",
        {
            "triggers": {},
            "actions": {"A": {"type": "Compose", "inputs": 1, "runAfter": {"Missing": ["Succeeded"]}}},
        },
    )
    result = pairflow("run", str(workflow), store=store)
    assert result.returncode == 2
    assert "/actions/A/runAfter/Missing" in result.stderr
    assert "Traceback" not in result.stderr
    assert run_count(store) == 0


def test_unopenable_store_exits_3(tmp_path: Path) -> None:
    result = pairflow("runs", "--store", f"sqlite:///{tmp_path}/missing-dir/runs.db")
    assert result.returncode == 3
    assert "missing-dir" in result.stderr
    assert "Traceback" not in result.stderr


def test_show_unknown_run_exits_2(tmp_path: Path) -> None:
    result = pairflow("show", "no-such-run", store=tmp_path / "runs.db")
    assert result.returncode == 2
    assert "no-such-run" in result.stderr


def test_runs_lists_newest_first(tmp_path: Path) -> None:
    store = tmp_path / "runs.db"
    for _ in range(2):
        assert pairflow("run", str(EXAMPLE), "--trigger-body", f"@{ORDER}", store=store).returncode == 0
    listing = pairflow("runs", "--json", store=store)
    runs = json.loads(listing.stdout)
    assert len(runs) == 2
    assert runs[0]["startTime"] >= runs[1]["startTime"]
    table = pairflow("runs", store=store)
    assert "order-approval" in table.stdout


APPSETTING_WORKFLOW = {
    "triggers": {},
    "actions": {
        "Read": {"type": "Compose", "inputs": "@appsetting('Region')", "runAfter": {}},
    },
    "outputs": {"region": {"type": "String", "value": "@outputs('Read')"}},
}


def test_appsetting_reads_the_settings_file_not_the_environment(tmp_path: Path) -> None:
    store = tmp_path / "runs.db"
    workflow = write(tmp_path, "settings.json", APPSETTING_WORKFLOW)
    settings = write(tmp_path, "local.settings.json", {"IsEncrypted": False, "Values": {"Region": "west"}})
    result = pairflow("run", str(workflow), "--settings", str(settings), "--json", store=store)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["outputs"] == {"region": "west"}

    without = pairflow("run", str(workflow), "--json", store=store)
    assert without.returncode == 1
    assert (
        "The app setting 'Region' is not defined"
        in json.loads(without.stdout)["actions"]["Read"]["error"]["message"]
    )


def test_settings_file_with_a_non_string_value_is_refused_with_its_pointer(tmp_path: Path) -> None:
    store = tmp_path / "runs.db"
    workflow = write(tmp_path, "settings.json", APPSETTING_WORKFLOW)
    settings = write(tmp_path, "local.settings.json", {"Values": {"Region": 3}})
    result = pairflow("run", str(workflow), "--settings", str(settings), store=store)
    assert result.returncode == 2
    assert "/Values/Region: expected a string app setting" in result.stderr
    assert run_count(store) == 0


CHILD = {
    "triggers": {"manual": {"type": "Request", "kind": "Http", "inputs": {}}},
    "actions": {
        "Reply": {
            "type": "Response",
            "inputs": {
                "statusCode": 201,
                "body": {"greeting": "@{concat('Hello ', triggerBody()?['name'])}"},
            },
            "runAfter": {},
        }
    },
}
PARENT = {
    "triggers": {},
    "actions": {
        "Call_child": {
            "type": "Workflow",
            "inputs": {
                "host": {"workflow": {"id": "/workflows/child"}, "triggerName": "manual"},
                "body": {"name": "Ada"},
            },
            "runAfter": {},
        }
    },
    "outputs": {"said": {"type": "Object", "value": "@body('Call_child')"}},
}


def test_workflow_action_calls_a_workflow_deployed_alongside(tmp_path: Path) -> None:
    store = tmp_path / "runs.db"
    child = write(tmp_path, "child.json", CHILD)
    parent = write(tmp_path, "parent.json", PARENT)
    result = pairflow("run", str(parent), "--workflow", str(child), "--json", store=store)
    assert result.returncode == 0, result.stderr
    view = json.loads(result.stdout)
    assert view["outputs"] == {"said": {"greeting": "Hello Ada"}}
    assert view["actions"]["Call_child"]["outputs"]["statusCode"] == 201


def test_workflow_action_without_the_child_fails_the_run(tmp_path: Path) -> None:
    store = tmp_path / "runs.db"
    parent = write(tmp_path, "parent.json", PARENT)
    result = pairflow("run", str(parent), "--json", store=store)
    assert result.returncode == 1
    assert "child" in json.loads(result.stdout)["actions"]["Call_child"]["error"]["message"]
