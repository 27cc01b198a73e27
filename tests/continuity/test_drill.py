"""A real drill: `pairflow drill --fault kill` with two `pairflow serve` locations, the front door and
traffic, all on loopback with SQLite stores under tmp_path; the report's structure and the targets
that hold on a loaded machine (nothing acknowledged lost, nothing doubled, at most one occurrence
missed, an RTO measured and under 10 s)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pairflow.continuity.drill import DrillSettings
from pairflow.errors import InputError


def test_a_kill_drill_fails_over_and_loses_no_acknowledged_run(tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    result = subprocess.run(
        [
            sys.executable, "-m", "pairflow.cli.drill_command",
            "--fault", "kill", "--warmup", "3", "--duration", "6", "--rate", "25",
            "--report", str(report_path), "--workdir", str(tmp_path / "work"), "--live",
        ],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stdout + result.stderr
    report = json.loads(report_path.read_text())
    assert set(report) >= {"detection", "rtoSeconds", "requests", "runs", "recurrence", "targets", "timeline"}
    assert (report["fault"], report["primary"], report["secondary"]) == ("kill", "west", "east")

    detection, runs, recurrence, requests = (
        report["detection"], report["runs"], report["recurrence"], report["requests"]
    )  # fmt: skip
    assert detection["epoch"] == 2 and detection["reason"] == "watchdog"
    assert 0 < detection["detectSeconds"] < 10
    assert report["rtoSeconds"] is not None and 0 < report["rtoSeconds"] < 10
    assert requests["answeredBy"].get("west", 0) > 0 and requests["answeredBy"].get("east", 0) > 0
    assert requests["failedAfterRecovery"] == 0
    assert runs["acknowledged"] > 0 and runs["lost"] == 0 and runs["unverified"] == 0
    assert recurrence["doubled"] == 0
    assert recurrence["missed"] <= 1
    assert recurrence["firedBy"].get("east", 0) > 0

    texts = [entry["text"] for entry in report["timeline"]]
    assert any(text.startswith("west killed") for text in texts)
    assert any(text.startswith("east activated at epoch 2") for text in texts)
    assert any(text.startswith("first request served by east") for text in texts)
    assert "west killed (SIGKILL)" in result.stdout  # --live printed the timeline
    assert "RTO" in result.stdout and f"report written to {report_path}" in result.stdout
    assert (tmp_path / "work" / "west.db").exists()  # a given workdir is kept


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (DrillSettings(fault="explode"), "--fault"),
        (DrillSettings(rate=0), "--rate"),
        (DrillSettings(locations=(("west", "http://127.0.0.1:1"),)), "--locations"),
        (
            DrillSettings(
                fault="isolate", locations=(("west", "http://127.0.0.1:1"), ("east", "http://127.0.0.1:2"))
            ),
            "--fault isolate",
        ),
        (
            DrillSettings(locations=(("west", "http://127.0.0.1:1"), ("east", "http://127.0.0.1:2"))),
            "--fault kill with --locations: give --primary-pid",
        ),
    ],
)
def test_settings_the_drill_cannot_carry_out_are_refused_naming_the_option(
    settings: DrillSettings, message: str
) -> None:
    with pytest.raises(InputError) as raised:
        settings.check()
    assert raised.value.message.startswith(message)
