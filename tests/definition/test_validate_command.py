"""`pairflow validate`: one line when valid, every problem on stderr with exit 2, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pairflow.cli.validate_command import validate_command

VALID = {
    "definition": {
        "triggers": {"manual": {"type": "Request", "kind": "Http"}},
        "actions": {
            "Scope": {"type": "Scope", "actions": {"Inner": {"type": "Compose", "inputs": 1}}},
            "Reply": {
                "type": "Response",
                "inputs": {"statusCode": 200},
                "runAfter": {"Scope": ["Succeeded"]},
            },
        },
    },
    "kind": "Stateful",
}


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(validate_command, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_valid_file_prints_summary_and_exits_0(tmp_path: Path) -> None:
    path = tmp_path / "workflow.json"
    path.write_text(json.dumps(VALID))
    assert _run(str(path)) == (0, f"{path}: valid (3 actions, trigger manual (Request))\n", "")


def test_invalid_file_prints_every_problem_with_pointer_into_the_file(tmp_path: Path) -> None:
    broken = json.loads(json.dumps(VALID))
    broken["definition"]["actions"]["Reply"]["inputs"] = {}
    broken["definition"]["actions"]["Scope"]["actions"]["Inner"]["runAfter"] = {"Reply": ["Succeeded"]}
    path = tmp_path / "workflow.json"
    path.write_text(json.dumps(broken))
    code, out, err = _run(str(path))
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f"{path}: /definition/actions/Reply/inputs: a Response action needs 'statusCode' "
        "(the HTTP status code to return)",
        f"{path}: /definition/actions/Scope/actions/Inner/runAfter/Reply: runAfter names 'Reply', which is "
        "defined at /actions/Reply, not in the same action list; runAfter may only name sibling actions",
    ]


def test_arm_template_workflow_is_chosen_with_name(tmp_path: Path) -> None:
    template = {
        "resources": [
            {
                "type": "Microsoft.Logic/workflows",
                "name": name,
                "properties": {"definition": VALID["definition"]},
            }
            for name in ("one", "two")
        ]
    }
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template))
    code, _, err = _run(str(path))
    assert code == 2
    assert "holds 2 workflows ('one', 'two'); choose one by name" in err
    assert _run(str(path), "--name", "two")[0] == 0


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "is a directory, not a workflow file"),
        (b"\x7fELF\x02\x01\x01\x00\x00\xff\xfe", "not UTF-8 text"),
        (b"[" * 200_000, "JSON nested deeper than 200 levels"),
        (b'{"definition": ', "invalid JSON at line 1 column 16"),
        (b'"just a string"', "expected a JSON object, got a string"),
    ],
)
def test_unusable_input_is_one_clean_message(tmp_path: Path, content: bytes | None, expected: str) -> None:
    path = tmp_path / "input"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    code, out, err = _run(str(path))
    assert (code, out) == (2, "")
    assert err == f"{path}: {expected}\n" or (err.startswith(f"{path}: ") and expected in err)
    assert "Traceback" not in err


def test_missing_file_is_one_clean_message(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    assert _run(str(missing)) == (2, "", f"{missing}: no such file\n")
