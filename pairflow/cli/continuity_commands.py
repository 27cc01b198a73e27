"""Continuity commands: `watchdog`, `failover`, `failback`, `status` and `witness`.

Each is the management API anyone could call (docs/continuity.md): `failover --force` activates a
location alone after waiting out the lease it confirmed, `failback` asks the active location to
stop, hand its trigger state over and let the other activate, `status` prints a location's epoch,
role and lease. `watchdog` and `witness` run until interrupted.
Exit codes as for the other remote commands: 0, 1 refused, 2 bad input, 3 unreachable.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import sys

import click
import httpx

from pairflow.cli.common import EXIT_BAD_INPUT, fail
from pairflow.cli.remote_commands import call, location_options

api_key_option = click.option(
    "--api-key", envvar="PAIRFLOW_API_KEY", default=None, help="Management API key. $PAIRFLOW_API_KEY."
)


def _print(value: object) -> None:
    click.echo(json.dumps(value, indent=2))


@click.command("status")
@location_options
def status_command(location_url: str, api_key: str | None) -> None:
    """Show a location's continuity: epoch, active or passive, lease, peers."""
    _print(call("GET", location_url, "/api/continuity/status", api_key))


@click.command("failover")
@location_options
@click.option(
    "--force", is_flag=True, help="Activate alone: the operator's decision that the primary is gone."
)
def failover_command(location_url: str, api_key: str | None, force: bool) -> None:
    """Activate the location under a new epoch (with --force, even without a majority)."""
    _print(call("POST", location_url, "/api/continuity/failover", api_key, {"force": force}, has_body=True))


@click.command("failback")
@click.option("--from", "origin", required=True, metavar="URL", help="The active location.")
@click.option("--to", "target", required=True, metavar="URL|NAME", help="The location to activate.")
@api_key_option
def failback_command(origin: str, target: str, api_key: str | None) -> None:
    """Planned: the active location stops new work, hands over trigger state, then the other activates."""
    _print(call("POST", origin, "/api/continuity/failback", api_key, {"to": target}, has_body=True))


@click.command("watchdog")
@click.option("--watch", required=True, metavar="URL", help="The location probed (its /health/ready).")
@click.option("--activate", "target", required=True, metavar="URL", help="The location activated.")
@click.option("--probe-interval", default=1.0, type=float, show_default=True, help="Seconds between probes.")
@click.option("--failures", default=3, type=int, show_default=True, help="Consecutive failures to act.")
@click.option("--alert-url", default=None, metavar="URL", help="Where the alert is POSTed as JSON.")
@api_key_option
def watchdog_command(
    watch: str, target: str, probe_interval: float, failures: int, alert_url: str | None, api_key: str | None
) -> None:
    """Probe a location; after N consecutive failures alert and activate another location."""
    from pairflow.continuity.watchdog import Watchdog, WatchdogSettings

    if probe_interval <= 0 or failures <= 0:
        fail("--probe-interval and --failures must be positive", EXIT_BAD_INPUT)
    settings = WatchdogSettings(watch, target, probe_interval, failures, alert_url, api_key)

    async def run() -> None:
        async with httpx.AsyncClient() as http:
            await Watchdog(settings, http).run()

    click.echo(f"pairflow watchdog watching {watch}, activating {target}")
    sys.stdout.flush()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


@click.command("witness")
@click.option("--store", required=True, metavar="URL", help="Where the witness keeps its votes.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=0, type=int, help="Port (default 0: pick a free one).")
@click.option("--name", default="witness", show_default=True, help="The witness's name in lease answers.")
@click.option("--api-key", "api_keys", multiple=True, envvar="PAIRFLOW_API_KEYS", help="Accepted API key.")
def witness_command(store: str, host: str, port: int, name: str, api_keys: tuple[str, ...]) -> None:
    """Run a lease voter that never becomes active (a third vote for two locations)."""
    import uvicorn

    from pairflow.continuity.witness import create_witness_app

    keys = tuple(k for item in api_keys for k in item.split(",") if k)
    if not keys:
        fail(
            "--api-key (or $PAIRFLOW_API_KEYS) is required: peers authenticate their lease calls",
            EXIT_BAD_INPUT,
        )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        fail(f"cannot listen on {host}:{port}: {error.strerror or error}", EXIT_BAD_INPUT)
    sock.listen(128)
    click.echo(f"pairflow witness {name} at http://{host}:{sock.getsockname()[1]}")
    sys.stdout.flush()
    config = uvicorn.Config(create_witness_app(store, name, keys), lifespan="on", log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])


COMMANDS = (status_command, failover_command, failback_command, watchdog_command, witness_command)


@click.group()
def _standalone() -> None:
    """For `python -m pairflow.cli.continuity_commands` before the commands are registered."""


for _command in COMMANDS:
    _standalone.add_command(_command)

if __name__ == "__main__":
    _standalone()
