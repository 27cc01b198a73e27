"""`pairflow frontdoor`: run the front door (an HTTP router in front of pairflow locations), or with
`--emit haproxy|nginx` print an equivalent load-balancer configuration and exit.

Locations are given in priority order (`--location west=http://10.0.0.1:8080 --location east=...`);
each workflow's mode comes from `--mode NAME=active-active|active-passive` or a template's
`workflows.{name}.mode`, else `--default-mode`. SIGTERM or Ctrl-C stops it (exit 0).
"""

from __future__ import annotations

import signal
import socket
import sys
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from pairflow.cli.common import EXIT_BAD_INPUT, fail
from pairflow.errors import InputError

if TYPE_CHECKING:
    from pairflow.frontdoor.config import FrontDoorConfig
    from pairflow.frontdoor.proxy import FrontDoor


@click.command("frontdoor")
@click.option(
    "--location",
    "locations",
    multiple=True,
    required=True,
    metavar="NAME=URL",
    help="A location, e.g. west=http://127.0.0.1:8001 (repeatable; first = highest priority).",
)
@click.option(
    "--mode", "modes", multiple=True, metavar="WORKFLOW=MODE", help="active-active or active-passive."
)
@click.option(
    "--template",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Deployment template (docs/templates.md) whose workflows set the modes.",
)
@click.option(
    "--default-mode",
    type=click.Choice(["active-passive", "active-active"]),
    default="active-passive",
    show_default=True,
    help="Mode of workflows not named by --mode or the template.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=0, type=int, show_default=True, help="Port (0: pick a free one).")
@click.option("--probe-interval", default=1.0, type=float, show_default=True, help="Seconds between probes.")
@click.option(
    "--probe-timeout", default=2.0, type=float, show_default=True, help="Seconds one probe may take."
)
@click.option(
    "--probe-failures",
    default=2,
    type=int,
    show_default=True,
    help="Failed probes that mark a location down.",
)
@click.option(
    "--probe-rises", default=1, type=int, show_default=True, help="Good probes that mark a location up again."
)
@click.option(
    "--timeout", default=30.0, type=float, show_default=True, help="Seconds a location may take to answer."
)
@click.option(
    "--connect-timeout", default=3.0, type=float, show_default=True, help="Seconds to connect to a location."
)
@click.option(
    "--max-body-bytes", default=10 * 1024 * 1024, type=int, show_default=True, help="Largest request body."
)
@click.option(
    "--api-key",
    envvar="PAIRFLOW_FRONTDOOR_API_KEY",
    default=None,
    help="Management API key for GET /api/continuity/status. $PAIRFLOW_FRONTDOOR_API_KEY.",
)
@click.option(
    "--emit",
    type=click.Choice(["haproxy", "nginx"]),
    default=None,
    help="Print an equivalent load-balancer configuration instead of serving.",
)
def frontdoor_command(
    locations: tuple[str, ...],
    modes: tuple[str, ...],
    template: Path | None,
    emit: str | None,
    **settings: object,
) -> None:
    """Route Request-trigger calls to healthy pairflow locations."""
    from pairflow.frontdoor.config import build_config

    try:
        config = build_config(locations, modes, template, **settings)
    except InputError as error:
        fail(error.message, EXIT_BAD_INPUT)
    if emit is not None:
        if config.port == 0:
            fail(f"--port: --emit {emit} needs the port the load balancer listens on", EXIT_BAD_INPUT)
        click.echo(_emitted(config, emit), nl=False)
        return
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((config.host, config.port))
    except OSError as error:
        sock.close()
        fail(f"cannot listen on {config.host}:{config.port}: {error.strerror or error}", EXIT_BAD_INPUT)
    sock.listen(2048)
    port = int(sock.getsockname()[1])
    host = f"[{config.host}]" if ":" in config.host else config.host
    sys.exit(_serve(config, sock, f"http://{host}:{port}"))


def _emitted(config: FrontDoorConfig, kind: str) -> str:
    if kind == "nginx":
        from pairflow.frontdoor import nginx

        return nginx.emit(config)
    from pairflow.frontdoor import haproxy

    return haproxy.emit(config)


def _graceful(signum: int, frame: FrameType | None) -> None:
    """Nothing to do: uvicorn has shut down gracefully already."""


def _serve(config: FrontDoorConfig, sock: socket.socket, url: str) -> int:
    import uvicorn

    from pairflow.frontdoor.proxy import create_app

    def announce(door: FrontDoor) -> None:
        up = [health.name for health in door.monitor.ordered() if health.up]
        click.echo(f"pairflow frontdoor at {url} (healthy: {', '.join(up) or 'none'})")
        sys.stdout.flush()

    app = create_app(config, on_ready=announce)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            loop="uvloop",
            http="httptools",
            lifespan="on",
            access_log=False,
            log_level="warning",
            timeout_graceful_shutdown=5,
            server_header=False,
        )
    )
    for handled in (signal.SIGTERM, signal.SIGINT):
        signal.signal(handled, _graceful)
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":  # `python -m pairflow.cli.frontdoor_command`, before it is registered
    frontdoor_command()
