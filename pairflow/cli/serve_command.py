"""`pairflow serve`: run one location (HTTP API, trigger endpoints, triggers and runs) in this process.

Starlette on uvicorn with uvloop and httptools: one event loop carries the HTTP server, the trigger
service and every run. SIGTERM or Ctrl-C stops gracefully (exit 0); after kill -9 the next start
resumes every unfinished run.
"""

from __future__ import annotations

import gc
import os
import signal
import socket
import sys
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from pairflow.cli.common import EXIT_BAD_INPUT, EXIT_STORE_UNAVAILABLE, fail
from pairflow.errors import InputError, PairflowError, StoreUnavailableError

if TYPE_CHECKING:
    from pairflow.server.config import Settings
    from pairflow.server.location import Location


@click.command("serve")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    envvar="PAIRFLOW_CONFIG",
    help="Settings file (TOML, or JSON by extension). Also $PAIRFLOW_CONFIG.",
)
@click.option("--store", default=None, metavar="URL", help="Store URL (sqlite:///path.db). $PAIRFLOW_STORE.")
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1). $PAIRFLOW_HOST.")
@click.option("--port", default=None, type=str, help="Port (default 0: pick a free one). $PAIRFLOW_PORT.")
@click.option("--location", default=None, help="This location's name, e.g. west. $PAIRFLOW_LOCATION.")
@click.option(
    "--api-key",
    "api_keys",
    multiple=True,
    help="Management API key (repeatable). $PAIRFLOW_API_KEYS "
    "(comma-separated). Without any, one is generated and printed once.",
)
@click.option("--max-body-bytes", default=None, type=str, help="Largest request body (default 10 MiB).")
@click.option(
    "--response-timeout",
    default=None,
    type=str,
    help="Seconds a caller waits for a Response action (default 120).",
)
@click.option("--shutdown-grace", default=None, type=str, help="Seconds runs get on SIGTERM (default 10).")
@click.option(
    "--missed-occurrences",
    default=None,
    type=str,
    help="Recurrences missed while down: skip (default), fire-latest or fire-all.",
)
@click.option("--max-concurrent-runs", default=None, type=str, help="Runs executing at once (default 200).")
@click.option("--public-url", default=None, help="Base URL callers use, for callback and status URLs.")
@click.option(
    "--run-lease-seconds",
    default=None,
    type=str,
    help="How long a run's lease lasts before another process may take it over (default 15).",
)
@click.option("--peer", "peers", multiple=True, metavar="NAME=URL", help="Another location (repeatable).")
@click.option("--witness", "witnesses", multiple=True, metavar="URL", help="A lease voter (repeatable).")
@click.option(
    "--role", default=None, help="primary or secondary, used until the store has a role. $PAIRFLOW_ROLE."
)
@click.option("--lease-seconds", default=None, type=str, help="The active location's lease (default 5).")
@click.option("--watch", default=None, metavar="URL", help="Run a watchdog here that probes this location.")
@click.option("--probe-interval", default=None, type=str, help="Seconds between watchdog probes (default 1).")
@click.option("--failures", default=None, type=str, help="Failed probes before activating (default 3).")
@click.option("--alert-url", default=None, metavar="URL", help="Where the watchdog sends its alert.")
@click.option(
    "--replication",
    default=None,
    help="How runs reach the peers: async (default), sync (Request calls wait for a peer) or off.",
)
def serve_command(config_file: Path | None, **cli: object) -> None:
    """Serve one location over HTTP until SIGTERM or Ctrl-C."""
    from pairflow.server.config import load_settings, read_config_file

    try:
        file_settings = read_config_file(config_file) if config_file is not None else None
        settings = load_settings(cli, os.environ, file_settings, str(config_file))
    except InputError as error:
        fail(error.message, EXIT_BAD_INPUT)
    _check_store(settings.store)

    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.host, settings.port))
    except OSError as error:
        sock.close()
        fail(f"cannot listen on {settings.host}:{settings.port}: {error.strerror or error}", EXIT_BAD_INPUT)
    sock.listen(2048)
    sock.set_inheritable(True)
    port = int(sock.getsockname()[1])
    base_url = settings.base_url(port)
    if settings.api_key_generated:
        click.echo(f"pairflow: generated API key (shown once): {settings.api_keys[0]}")
    sys.exit(_serve(settings, sock, base_url))


def _check_store(url: str | None) -> None:
    """Open the store once before serving: an unreachable or unreadable store is one line and exit 3,
    not a traceback from inside the server's start-up."""
    from pairflow.store import open_store

    try:
        open_store(url).close()
    except StoreUnavailableError as error:
        fail(error.message, EXIT_STORE_UNAVAILABLE)
    except PairflowError as error:
        fail(error.message, EXIT_BAD_INPUT if isinstance(error, InputError) else EXIT_STORE_UNAVAILABLE)


def _graceful(signum: int, frame: FrameType | None) -> None:
    """Nothing to do: uvicorn has shut down gracefully already."""


def _serve(settings: Settings, sock: socket.socket, base_url: str) -> int:
    import uvicorn

    from pairflow.server.app import create_app

    ready: list[bool] = []

    def announce(location: Location) -> None:
        ready.append(True)
        # What is alive once the location is ready (modules, the app, cached definitions) lives as
        # long as the process: frozen, the collector's full passes no longer scan it. Under load
        # those passes otherwise took up to 30 ms each, stalling every request in flight (the p99).
        gc.collect()
        gc.freeze()
        click.echo(f"pairflow serving location {location.name} at {base_url}")
        sys.stdout.flush()

    app = create_app(settings, base_url=base_url, on_ready=announce)
    config = uvicorn.Config(
        app,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        proxy_headers=False,  # nothing here reads the client's address or scheme
        log_level="warning",
        timeout_graceful_shutdown=int(settings.shutdown_grace) + 5,
        server_header=False,
    )
    server = uvicorn.Server(config)
    # uvicorn re-raises the signal that stopped it once shutdown is done; a graceful stop is a
    # success here, so the handlers it restores (and then calls) are no-ops.
    for handled in (signal.SIGTERM, signal.SIGINT):
        signal.signal(handled, _graceful)
    server.run(sockets=[sock])
    if not ready:
        return EXIT_STORE_UNAVAILABLE
    return 0


if __name__ == "__main__":  # `python -m pairflow.cli.serve_command`, before `serve` is registered
    serve_command()
