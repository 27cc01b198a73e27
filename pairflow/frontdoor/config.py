"""The front door's settings: the locations (in priority order), each workflow's continuity mode, and
the probe and forwarding limits. Pure: parsing raises `FrontDoorConfigError` with one line naming the
flag or file and the cause.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pairflow.errors import DefinitionError, InputError

Mode = Literal["active-active", "active-passive"]
MODES: tuple[Mode, ...] = ("active-active", "active-passive")

DEFAULT_PROBE_INTERVAL = 1.0  # seconds between health probes of one location
DEFAULT_PROBE_TIMEOUT = 2.0  # seconds one probe may take before it counts as a failure
DEFAULT_PROBE_FAILURES = 2  # consecutive failed probes that mark a location down
DEFAULT_PROBE_RISES = 1  # consecutive good probes that mark a down location up again
DEFAULT_TIMEOUT = 30.0  # seconds a location may take to answer a forwarded call
DEFAULT_CONNECT_TIMEOUT = 3.0  # seconds to open a connection to a location
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024  # 10 MiB, the same bound as a location's

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


class FrontDoorConfigError(InputError):
    """A setting of the front door is not valid."""


@dataclass(frozen=True, slots=True)
class Target:
    """One location the front door forwards to: its name and base URL (scheme://host:port)."""

    name: str
    url: str

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or (443 if parts.scheme == "https" else 80)

    @property
    def tls(self) -> bool:
        return urlsplit(self.url).scheme == "https"


@dataclass(frozen=True, slots=True)
class FrontDoorConfig:
    locations: tuple[Target, ...]
    modes: Mapping[str, Mode] = field(default_factory=dict)
    default_mode: Mode = "active-passive"
    host: str = "127.0.0.1"
    port: int = 0
    probe_interval: float = DEFAULT_PROBE_INTERVAL
    probe_timeout: float = DEFAULT_PROBE_TIMEOUT
    probe_failures: int = DEFAULT_PROBE_FAILURES
    probe_rises: int = DEFAULT_PROBE_RISES
    timeout: float = DEFAULT_TIMEOUT
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    api_key: str | None = None  # sent to GET /api/continuity/status when health has no continuity state

    def mode_of(self, workflow: str) -> Mode:
        return self.modes.get(workflow, self.default_mode)


def parse_location(text: str) -> Target:
    """`west=http://127.0.0.1:8001` → Target; the URL must be http(s)://host[:port] without a path."""
    name, sep, url = text.partition("=")
    name, url = name.strip(), url.strip().rstrip("/")
    if not sep or not name or not url:
        raise FrontDoorConfigError(f"--location: expected NAME=URL, got '{text}'")
    if not _NAME.match(name):
        raise FrontDoorConfigError(f"--location: '{name}' is not a valid location name")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise FrontDoorConfigError(f"--location {name}: invalid URL '{url}': {error}") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise FrontDoorConfigError(f"--location {name}: expected an http:// or https:// URL, got '{url}'")
    if parts.path or parts.query or parts.fragment:
        raise FrontDoorConfigError(f"--location {name}: the URL must not have a path or query: '{url}'")
    if port == 0:
        raise FrontDoorConfigError(f"--location {name}: port 0 is not a location's port")
    return Target(name, url)


def parse_mode(text: str) -> tuple[str, Mode]:
    """`orders=active-active` → ("orders", "active-active")."""
    name, sep, mode = text.partition("=")
    name, mode = name.strip(), mode.strip().lower()
    if not sep or not name:
        raise FrontDoorConfigError(f"--mode: expected WORKFLOW=MODE, got '{text}'")
    return name, checked_mode(mode, f"--mode {name}")


def checked_mode(mode: object, where: str) -> Mode:
    if mode not in MODES:
        raise FrontDoorConfigError(f"{where}: expected one of {', '.join(MODES)}, got '{mode}'")
    return mode


def template_modes(path: Path) -> dict[str, Mode]:
    """Each workflow's mode in a deployment template (pairflow.continuity.template, docs/templates.md).

    `workflows.{name}.mode` when given; otherwise the default the template itself applies, which
    depends on the workflow's trigger (a Request trigger is active-active). Workflows whose mode
    cannot be told are left to `--default-mode`.
    """
    from pairflow.continuity import roles
    from pairflow.continuity.template import read_document
    from pairflow.definition.loader import locate_workflow

    def problem(pointer: str, message: str) -> FrontDoorConfigError:
        return FrontDoorConfigError(f"--template {path}: {pointer or '/'}: {message}")

    try:
        document = read_document(path)
    except DefinitionError as error:
        raise problem(*(error.issues[0] if error.issues else ("", error.message))) from None
    workflows = document.get("workflows") if isinstance(document, dict) else None
    if workflows is None:
        return {}
    if not isinstance(workflows, dict):
        raise problem("/workflows", "expected an object of workflows by name")
    modes: dict[str, Mode] = {}
    for name, entry in workflows.items():
        if not isinstance(entry, dict):
            continue
        mode = entry.get("mode")
        if mode is not None:
            modes[name] = checked_mode(mode, f"--template {path}: /workflows/{name}/mode")
            continue
        definition = entry.get("definition")
        if isinstance(entry.get("file"), str):
            try:
                found = read_document(path.parent / entry["file"])
                definition = locate_workflow(found, source=entry["file"], default_name=name).definition
            except DefinitionError:
                continue  # the deploy reports it; routing falls back to the default mode
        if isinstance(definition, dict):
            state = entry.get("triggerState")
            modes[name] = roles.default_mode(definition, state if isinstance(state, str) else None)
    return modes


def build_config(
    locations: Iterable[str],
    modes: Iterable[str] = (),
    template: Path | None = None,
    **settings: object,
) -> FrontDoorConfig:
    """The config from CLI-style strings; `--mode` flags override the template's modes."""
    targets = tuple(parse_location(text) for text in locations)
    if not targets:
        raise FrontDoorConfigError("--location: at least one location is required")
    names = [target.name for target in targets]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise FrontDoorConfigError(f"--location: '{duplicates[0]}' is given more than once")
    chosen: dict[str, Mode] = template_modes(template) if template is not None else {}
    chosen.update(parse_mode(text) for text in modes)
    config = FrontDoorConfig(locations=targets, modes=chosen, **settings)  # type: ignore[arg-type]
    _check_limits(config)
    return config


def _check_limits(config: FrontDoorConfig) -> None:
    positive: Mapping[str, float] = {
        "--probe-interval": config.probe_interval,
        "--probe-timeout": config.probe_timeout,
        "--timeout": config.timeout,
        "--connect-timeout": config.connect_timeout,
    }
    for flag, value in positive.items():
        if not value > 0:
            raise FrontDoorConfigError(f"{flag}: expected a positive number of seconds, got {value:g}")
    counts: Mapping[str, int] = {
        "--probe-failures": config.probe_failures,
        "--probe-rises": config.probe_rises,
        "--max-body-bytes": config.max_body_bytes,
    }
    for flag, count in counts.items():
        if count < 1:
            raise FrontDoorConfigError(f"{flag}: expected a positive integer, got {count}")
    if not 0 <= config.port <= 65535:
        raise FrontDoorConfigError(f"--port: expected 0-65535, got {config.port}")
    checked_mode(config.default_mode, "--default-mode")
