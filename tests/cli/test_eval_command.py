"""`pairflow eval`: one template or a JSON-lines stream, printed as {"value"} or {"error"} lines."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from pairflow.cli.eval_command import eval_command


def _run(args: list[str], stdin: str | None = None) -> tuple[int, list[object]]:
    result = CliRunner().invoke(eval_command, args, input=stdin)
    lines = [json.loads(line) for line in result.output.splitlines()]
    return result.exit_code, lines


def test_eval_prints_the_value_of_an_expression() -> None:
    assert _run(["@div(11, 5)"]) == (0, [{"value": 2}])


def test_eval_treats_text_without_at_as_a_plain_template() -> None:
    assert _run(["add(1,2)"]) == (0, [{"value": "add(1,2)"}])
    assert _run(["Hi @{add(1,2)}"]) == (0, [{"value": "Hi 3"}])


def test_eval_prints_an_error_line_and_exits_2() -> None:
    code, lines = _run(["@add(1"])
    assert code == 2
    assert lines == [{"error": "Expected ')' but found the end of the expression at column 7 in '@add(1'"}]


def test_eval_reads_a_context_file(tmp_path: Path) -> None:
    context = tmp_path / "context.json"
    context.write_text(json.dumps({"variables": {"x": [1, 2]}}), encoding="utf-8")
    assert _run(["--context", str(context), "@variables('x')[1]"]) == (0, [{"value": 2}])


def test_eval_reports_an_unreadable_context_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{nope", encoding="utf-8")
    code, lines = _run(["--context", str(bad), "@add(1, 2)"])
    assert code == 2
    assert "invalid JSON at line 1" in str(lines[0])


def test_jsonl_evaluates_every_line_in_order_and_names_bad_lines() -> None:
    stdin = '"@add(1, 2)"\n42\n"@nope()"\n"x @{true}"\n'
    code, lines = _run(["--jsonl"], stdin)
    assert code == 2
    assert lines[0] == {"value": 3}
    assert lines[1] == {"error": "line 2: expected a JSON string, got int"}
    assert "'nope' is not defined" in str(lines[2])
    assert lines[3] == {"value": "x True"}


def test_jsonl_exits_0_when_all_lines_evaluate() -> None:
    assert _run(["--jsonl"], '"@createArray(1)"\n"plain"\n') == (0, [{"value": [1]}, {"value": "plain"}])


def test_eval_runs_as_a_real_process() -> None:
    program = "from pairflow.cli.eval_command import eval_command; eval_command()"
    done = subprocess.run(
        [sys.executable, "-c", program, "@concat('a', 'b')"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, '{"value": "ab"}\n')
