"""`pairflow drill`: a failover drill — two locations (started here, or running ones by URL), a front
door, Request traffic and a Recurrence, a fault on the primary, the watchdog's failover, and a report
(printed, and written as JSON).

Exit codes: 0 the drill ran and every target was met, 1 it ran and a target was missed, 2 bad input,
3 the drill could not be set up (a process did not start, a location refused the deploy).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from pairflow.cli.common import EXIT_BAD_INPUT, EXIT_STORE_UNAVAILABLE, fail
from pairflow.errors import InputError, PairflowError

EXIT_TARGET_MISSED = 1


def _locations(text: str | None) -> tuple[tuple[str, str], ...]:
    if not text:
        return ()
    pairs: list[tuple[str, str]] = []
    for item in (part.strip() for part in text.split(",") if part.strip()):
        name, sep, url = item.partition("=")
        if not sep or not name.strip() or not url.strip().startswith(("http://", "https://")):
            raise InputError(f"--locations: expected NAME=URL,NAME=URL (primary first), got {item!r}")
        pairs.append((name.strip(), url.strip().rstrip("/")))
    return tuple(pairs)


@click.command("drill")
@click.option(
    "--fault",
    type=click.Choice(["kill", "stop", "isolate"]),
    default="kill",
    show_default=True,
    help="kill: SIGKILL the primary; stop: SIGSTOP it (SIGCONT once the secondary serves); "
    "isolate: cut its links to the secondary (local locations only).",
)
@click.option(
    "--duration",
    default=10.0,
    type=float,
    show_default=True,
    help="Seconds of traffic after the fault (longer if the secondary has not served yet).",
)
@click.option(
    "--warmup", default=4.0, type=float, show_default=True, help="Seconds of traffic before the fault."
)
@click.option("--rate", default=50.0, type=float, show_default=True, help="Requests per second.")
@click.option(
    "--probe-interval", default=1.0, type=float, show_default=True, help="Watchdog probe interval (local)."
)
@click.option(
    "--failures", default=3, type=int, show_default=True, help="Failed probes to fail over (local)."
)
@click.option("--lease-seconds", default=3.0, type=float, show_default=True, help="Active lease (local).")
@click.option(
    "--locations",
    default=None,
    metavar="NAME=URL,NAME=URL",
    help="Running locations, primary first, instead of starting two here (needs --api-key).",
)
@click.option(
    "--api-key", envvar="PAIRFLOW_API_KEY", default=None, help="Their management key. $PAIRFLOW_API_KEY."
)
@click.option(
    "--primary-pid", type=int, default=None, help="With --locations: the primary's process id here."
)
@click.option(
    "--template",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Deployment template (default examples/continuity/drill-template.json).",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("drill-report.json"),
    show_default=True,
    help="Where the JSON report is written.",
)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep the stores and logs here (default: a temporary directory, removed).",
)
@click.option("--live", is_flag=True, help="Print a timeline as the failover happens.")
def drill_command(
    fault: str,
    duration: float,
    warmup: float,
    rate: float,
    probe_interval: float,
    failures: int,
    lease_seconds: float,
    locations: str | None,
    api_key: str | None,
    primary_pid: int | None,
    template: Path | None,
    report_path: Path,
    workdir: Path | None,
    live: bool,
) -> None:
    """Fail the primary under load and report detection time, RTO, RPO and recurrence gaps."""
    from pairflow.continuity import drill, drill_report

    try:
        given = _locations(locations)
        if given and not api_key:
            raise InputError("--locations: give --api-key (or $PAIRFLOW_API_KEY) of the running locations")
        settings = drill.DrillSettings(
            fault=fault,
            duration=duration,
            warmup=warmup,
            rate=rate,
            probe_interval=probe_interval,
            failures=failures,
            lease_seconds=lease_seconds,
            locations=given,
            api_key=api_key,
            primary_pid=primary_pid,
            template=template or drill.DEFAULT_TEMPLATE,
            workdir=workdir,
        )
        if not settings.template.is_file():
            raise InputError(f"--template: {settings.template} not found; give a drill template")
        runner = drill.Drill(settings, say=_say if live else None)
    except InputError as error:
        fail(error.message, EXIT_BAD_INPUT)
    try:
        report = asyncio.run(runner.run())
    except InputError as error:
        fail(error.message, EXIT_BAD_INPUT)
    except PairflowError as error:
        fail(error.message, EXIT_STORE_UNAVAILABLE)
    drill.write_report(report, report_path)
    click.echo("")
    for line in drill_report.render(report):
        click.echo(line)
    click.echo(f"  report written to {report_path}")
    sys.exit(0 if report.get("targetsMet") is True else EXIT_TARGET_MISSED)


def _say(line: str) -> None:
    click.echo(line)
    sys.stdout.flush()


if __name__ == "__main__":  # `python -m pairflow.cli.drill_command`, before it is registered
    drill_command()
