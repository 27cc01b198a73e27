"""Settings of `pairflow serve`: where they come from and what values are allowed.

Every setting can be given on the command line, in an environment variable `PAIRFLOW_*`, or in a
config file (`--config FILE` / `PAIRFLOW_CONFIG`: TOML, or JSON when the name ends in `.json`), with
the precedence command line > environment > file > default.

| setting            | env                            | file key             | default          |
|--------------------|--------------------------------|----------------------|------------------|
| store              | PAIRFLOW_STORE                 | store                | ./pairflow.db    |
| host               | PAIRFLOW_HOST                  | host                 | 127.0.0.1        |
| port               | PAIRFLOW_PORT                  | port                 | 0 (pick a free one) |
| location           | PAIRFLOW_LOCATION              | location             | local            |
| api keys           | PAIRFLOW_API_KEYS (a,b)        | api_keys (list)      | one generated    |
| max body bytes     | PAIRFLOW_MAX_BODY_BYTES        | max_body_bytes       | 10485760 (10 MiB)|
| response timeout   | PAIRFLOW_RESPONSE_TIMEOUT      | response_timeout     | 120 (seconds)    |
| shutdown grace     | PAIRFLOW_SHUTDOWN_GRACE        | shutdown_grace       | 10 (seconds)     |
| missed occurrences | PAIRFLOW_MISSED_OCCURRENCES    | missed_occurrences   | skip             |
| max concurrent runs| PAIRFLOW_MAX_CONCURRENT_RUNS   | max_concurrent_runs  | 200              |
| public URL         | PAIRFLOW_PUBLIC_URL            | public_url           | http://HOST:PORT |
| peers (NAME=URL)   | PAIRFLOW_PEERS (a=u,b=v)       | peers (table/list)   | none             |
| witnesses          | PAIRFLOW_WITNESSES (u,v)       | witnesses (list)     | none             |
| initial role       | PAIRFLOW_ROLE                  | role                 | none (passive)   |
| lease seconds      | PAIRFLOW_LEASE_SECONDS         | lease_seconds        | 5                |
| run lease seconds  | PAIRFLOW_RUN_LEASE_SECONDS     | run_lease_seconds    | 15               |
| watched location   | PAIRFLOW_WATCH                 | watch                | none             |
| probe interval     | PAIRFLOW_PROBE_INTERVAL        | probe_interval       | 1 (seconds)      |
| failures to act    | PAIRFLOW_FAILURES              | failures             | 3                |
| alert URL          | PAIRFLOW_ALERT_URL             | alert_url            | none             |
| replication        | PAIRFLOW_REPLICATION           | replication          | async            |

The continuity settings are described in docs/continuity.md: `peers` and `witnesses` vote on the
active location's lease, `role` is used only when the store has no continuity state yet, and
`watch` runs a watchdog in this location that activates it after `failures` failed probes.

`run_lease_seconds` is another lease: how long a process holds a run (and a polling or webhook
trigger) it executes without renewing it, renewed every third of it. When the process dies, another
`pairflow serve` on the same store continues its work within about 1⅓ of it.

`replication` (`async`, `sync` or `off`; used only with peers) is how runs reach the peers
(docs/continuity.md, "Replication"): `async` ships them in the background; `sync` also makes a
Request call wait (at most 2 s) until a peer stored its new run; `off` ships nothing.

Pure: the caller passes the environment and the file's text; bad values raise `ConfigError` with one
line naming the setting and where it came from.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pairflow.errors import InputError

MISSED_POLICIES = ("skip", "fire-latest", "fire-all")
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024  # 10 MiB; Logic Apps allows 100 MB, too much for one process
DEFAULT_RESPONSE_TIMEOUT = 120.0  # seconds: Logic Apps' synchronous response limit
DEFAULT_SHUTDOWN_GRACE = 10.0  # seconds runs may take to reach a commit point on SIGTERM
DEFAULT_MAX_CONCURRENT_RUNS = 200
DEFAULT_LEASE_SECONDS = 5.0  # with 1 s probes and 3 failures, a failover takes under 10 s
DEFAULT_PROBE_INTERVAL = 1.0
DEFAULT_RUN_LEASE_SECONDS = 15.0  # pairflow.engine.runner.LEASE_SECONDS
MAX_RUN_LEASE_SECONDS = 3600.0
DEFAULT_FAILURES = 3
ROLES = ("primary", "secondary")
REPLICATION_MODES = ("async", "sync", "off")
_LOCATION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


class ConfigError(InputError):
    """A setting of `pairflow serve` is not valid."""


@dataclass(frozen=True, slots=True)
class Settings:
    store: str | None = None
    host: str = "127.0.0.1"
    port: int = 0
    location: str = "local"
    api_keys: tuple[str, ...] = ()
    api_key_generated: bool = False  # True when no key was configured and one was made up
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    response_timeout: float = DEFAULT_RESPONSE_TIMEOUT
    shutdown_grace: float = DEFAULT_SHUTDOWN_GRACE
    missed_occurrences: str = "skip"
    max_concurrent_runs: int = DEFAULT_MAX_CONCURRENT_RUNS
    public_url: str | None = None
    peers: tuple[tuple[str, str], ...] = ()  # (name, URL) of the other locations
    witnesses: tuple[str, ...] = ()  # URLs of lease voters that never become active
    role: str | None = None  # the initial role, used only while the store has no continuity state
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    run_lease_seconds: float = DEFAULT_RUN_LEASE_SECONDS
    watch: str | None = None  # a location this one's watchdog probes
    probe_interval: float = DEFAULT_PROBE_INTERVAL
    failures: int = DEFAULT_FAILURES
    alert_url: str | None = None
    replication: str = "async"  # how runs reach the peers: async, sync or off
    extra: Mapping[str, Any] = field(default_factory=dict)

    def base_url(self, port: int | None = None) -> str:
        """Where callers reach this location: the public URL if set, else http://host:port."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{port if port is not None else self.port}"


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: expected a non-empty string, got {value!r}")
    return value.strip()


def _port(value: Any, where: str) -> int:
    number = _integer(value, where)
    if not 0 <= number <= 65535:
        raise ConfigError(f"{where}: expected a port number 0-65535, got {value!r}")
    return number


def _integer(value: Any, where: str) -> int:
    if isinstance(value, bool):
        raise ConfigError(f"{where}: expected an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value):
        return int(value)
    raise ConfigError(f"{where}: expected an integer, got {value!r}")


def _positive_integer(value: Any, where: str) -> int:
    number = _integer(value, where)
    if number <= 0:
        raise ConfigError(f"{where}: expected a positive integer, got {value!r}")
    return number


def _seconds(value: Any, where: str) -> float:
    if isinstance(value, bool):
        raise ConfigError(f"{where}: expected a number of seconds, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: expected a number of seconds, got {value!r}") from None
    if not 0 < number < float("inf"):
        raise ConfigError(f"{where}: expected a positive number of seconds, got {value!r}")
    return number


def _run_lease(value: Any, where: str) -> float:
    """A run lease renewed every third of it: under a second would be renewals all the time."""
    number = _seconds(value, where)
    if not 1.0 <= number <= MAX_RUN_LEASE_SECONDS:
        raise ConfigError(f"{where}: expected 1 to {MAX_RUN_LEASE_SECONDS:g} seconds, got {value!r}")
    return number


def _replication(value: Any, where: str) -> str:
    text = _text(value, where).lower()
    if text not in REPLICATION_MODES:
        raise ConfigError(f"{where}: expected one of {', '.join(REPLICATION_MODES)}, got {value!r}")
    return text


def _location(value: Any, where: str) -> str:
    name = _text(value, where)
    if not _LOCATION_NAME.match(name):
        raise ConfigError(f"{where}: expected letters, digits, '-', '_' or '.', got {value!r}")
    return name


def _missed(value: Any, where: str) -> str:
    text = _text(value, where).lower()
    if text not in MISSED_POLICIES:
        raise ConfigError(f"{where}: expected one of {', '.join(MISSED_POLICIES)}, got {value!r}")
    return text


def _keys(value: Any, where: str) -> tuple[str, ...]:
    items: list[Any]
    if isinstance(value, str):
        items = [part for part in value.split(",") if part.strip()]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise ConfigError(f"{where}: expected a list of keys, got {value!r}")
    keys = tuple(_text(item, where) for item in items)
    for key in keys:
        if len(key) < 8:
            raise ConfigError(f"{where}: an API key must have at least 8 characters")
    return keys


def _url(value: Any, where: str) -> str:
    text = _text(value, where)
    if not re.match(r"^https?://[^/\s]+", text):
        raise ConfigError(f"{where}: expected an http:// or https:// URL, got {value!r}")
    return text.rstrip("/")


def _store(value: Any, where: str) -> str:
    return _text(value, where)


def _items(value: Any, where: str) -> list[Any]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list | tuple):
        return list(value)
    raise ConfigError(f"{where}: expected a list, got {value!r}")


def _peers(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    """NAME=URL items (a comma-separated string, a list, or a table of name to URL)."""
    pairs: list[tuple[Any, Any]]
    if isinstance(value, dict):
        pairs = list(value.items())
    else:
        pairs = []
        for item in _items(value, where):
            text = _text(item, where)
            name, sep, url = text.partition("=")
            if not sep:
                raise ConfigError(f"{where}: expected NAME=URL, got {item!r}")
            pairs.append((name.strip(), url.strip()))
    peers = tuple((_location(name, where), _url(url, where)) for name, url in pairs)
    names = [name for name, _ in peers]
    if len(set(names)) != len(names):
        raise ConfigError(f"{where}: a peer name is given twice")
    return peers


def _urls(value: Any, where: str) -> tuple[str, ...]:
    return tuple(_url(item, where) for item in _items(value, where))


def _role(value: Any, where: str) -> str:
    text = _text(value, where).lower()
    if text not in ROLES:
        raise ConfigError(f"{where}: expected one of {', '.join(ROLES)}, got {value!r}")
    return text


_PARSERS: dict[str, Callable[[Any, str], Any]] = {
    "store": _store,
    "host": _text,
    "port": _port,
    "location": _location,
    "api_keys": _keys,
    "max_body_bytes": _positive_integer,
    "response_timeout": _seconds,
    "shutdown_grace": _seconds,
    "missed_occurrences": _missed,
    "max_concurrent_runs": _positive_integer,
    "public_url": _url,
    "peers": _peers,
    "witnesses": _urls,
    "role": _role,
    "lease_seconds": _seconds,
    "run_lease_seconds": _run_lease,
    "watch": _url,
    "probe_interval": _seconds,
    "failures": _positive_integer,
    "alert_url": _url,
    "replication": _replication,
}
_REPEATABLE = frozenset({"api_keys", "peers", "witnesses"})
_CLI_NAMES = {name: "--" + name.replace("_", "-") for name in _PARSERS}
_CLI_NAMES["api_keys"] = "--api-key"
_CLI_NAMES["peers"] = "--peer"
_CLI_NAMES["witnesses"] = "--witness"


def env_name(setting: str) -> str:
    return "PAIRFLOW_" + setting.upper()


def parse_config_file(text: str, path: str) -> dict[str, Any]:
    """The settings in a config file's text: TOML, or JSON when `path` ends in .json."""
    try:
        document = json.loads(text) if path.lower().endswith(".json") else tomllib.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(
            f"{path}: invalid JSON at line {error.lineno} column {error.colno}: {error.msg}"
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: expected an object of settings")
    if isinstance(document.get("serve"), dict):  # allow a [serve] table
        document = document["serve"]
    settings: dict[str, Any] = {}
    for key, given in document.items():
        name = str(key).replace("-", "_")
        value = given
        if name == "api_key":
            name = "api_keys"
            value = [given] if isinstance(given, str) else given
        if name not in _PARSERS:
            known = ", ".join(sorted(_PARSERS))
            raise ConfigError(f"{path}: unknown setting '{key}' (known: {known})")
        settings[name] = value
    return settings


def read_config_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"--config {path}: cannot read: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"--config {path}: not UTF-8 text") from None
    return parse_config_file(text, str(path))


def load_settings(
    cli: Mapping[str, Any],
    env: Mapping[str, str],
    file_settings: Mapping[str, Any] | None = None,
    file_name: str = "config file",
    make_key: Callable[[], str] | None = None,
) -> Settings:
    """Merge the sources (CLI > env > file > defaults) and check every value.

    `cli` holds values by setting name; None (or an empty tuple for api_keys) means "not given".
    """
    values: dict[str, Any] = {}
    for name, parse in _PARSERS.items():
        given = cli.get(name)
        if given is not None and given != ():
            values[name] = parse(list(given) if name in _REPEATABLE else given, _CLI_NAMES[name])
        elif env.get(env_name(name), "").strip():
            values[name] = parse(env[env_name(name)], f"${env_name(name)}")
        elif file_settings is not None and name in file_settings:
            values[name] = parse(file_settings[name], f"{file_name}: {name}")
    generated = False
    if not values.get("api_keys"):
        if make_key is None:
            from pairflow.server.signing import new_access_key

            make_key = new_access_key
        values["api_keys"] = (make_key(),)
        generated = True
    for name, _ in values.get("peers", ()):
        if name == values.get("location", "local"):
            raise ConfigError(f"{_CLI_NAMES['peers']} {name}: a location cannot be its own peer")
    return Settings(api_key_generated=generated, **values)
