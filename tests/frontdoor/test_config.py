"""The front door's configuration: flags and templates, and the HAProxy and nginx configurations it
writes (checked for their routing rules here; HAProxy's own `-c` and a live run are in
test_failover.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pairflow.frontdoor import haproxy, nginx
from pairflow.frontdoor.config import FrontDoorConfigError, build_config

LOCATIONS = ["west=http://127.0.0.1:8001", "east=http://127.0.0.1:8002"]
REQUEST = {"triggers": {"manual": {"type": "Request", "kind": "Http"}}, "actions": {}}
RECURRENCE = {
    "triggers": {"tick": {"type": "Recurrence", "recurrence": {"frequency": "Minute", "interval": 5}}},
    "actions": {},
}


def test_locations_keep_their_priority_order_and_modes_come_from_flags() -> None:
    config = build_config(LOCATIONS, ["orders=active-active"])
    assert [t.name for t in config.locations] == ["west", "east"]
    assert config.mode_of("orders") == "active-active"
    assert config.mode_of("other") == "active-passive"


@pytest.mark.parametrize(
    ("locations", "modes", "message"),
    [
        (["west"], [], "--location: expected NAME=URL, got 'west'"),
        (["west=ftp://x"], [], "--location west: expected an http:// or https:// URL, got 'ftp://x'"),
        (["west=http://h:1/api"], [], "--location west: the URL must not have a path or query"),
        ([*LOCATIONS, "west=http://h:3"], [], "--location: 'west' is given more than once"),
        (
            LOCATIONS,
            ["orders=both"],
            "--mode orders: expected one of active-active, active-passive, got 'both'",
        ),
        ([], [], "--location: at least one location is required"),
    ],
)
def test_bad_flags_are_refused_with_one_line_naming_the_flag(
    locations: list[str], modes: list[str], message: str
) -> None:
    with pytest.raises(FrontDoorConfigError) as raised:
        build_config(locations, modes)
    assert raised.value.message.startswith(message)


def test_template_modes_are_read_and_flags_override_them(tmp_path: Path) -> None:
    template = tmp_path / "template.json"
    template.write_text(
        json.dumps(
            {
                "locations": {"west": {"role": "primary"}, "east": {"role": "secondary"}},
                "workflows": {
                    "orders": {"definition": REQUEST},  # a Request trigger: active-active by default
                    "nightly": {"definition": RECURRENCE},  # a schedule: active-passive
                    "billing": {"definition": REQUEST, "mode": "active-passive"},
                    "audit": {"definition": REQUEST, "mode": "active-passive"},
                },
            }
        ),
        encoding="utf-8",
    )
    config = build_config(LOCATIONS, ["audit=active-active"], template)
    assert dict(config.modes) == {
        "orders": "active-active",
        "nightly": "active-passive",
        "billing": "active-passive",
        "audit": "active-active",
    }


def test_a_bad_template_mode_names_the_file_and_pointer(tmp_path: Path) -> None:
    template = tmp_path / "t.json"
    template.write_text(json.dumps({"workflows": {"orders": {"mode": "sideways"}}}), encoding="utf-8")
    with pytest.raises(FrontDoorConfigError, match=r"/workflows/orders/mode: expected one of"):
        build_config(LOCATIONS, [], template)


def test_haproxy_config_has_primary_and_backups_and_a_round_robin_backend_for_active_active() -> None:
    config = build_config(
        [*LOCATIONS, "north=http://127.0.0.1:8003"], ["orders=active-active"], probe_interval=0.5
    )
    text = haproxy.emit(config, 9000)
    passive = text.split("\nbackend pairflow_active_passive\n", 1)[1].split("\nbackend ", 1)[0]
    active = text.split("\nbackend pairflow_active_active\n", 1)[1]
    assert "    server west 127.0.0.1:8001 check\n" in passive
    assert "    server east 127.0.0.1:8002 check backup\n" in passive
    assert "    server north 127.0.0.1:8003 check backup\n" in passive
    assert "balance roundrobin" in active and "backup" not in active
    assert "    acl active_active_workflow path_beg /workflows/orders/\n" in text
    assert "    bind 127.0.0.1:9000\n" in text
    for backend in (passive, active):
        assert "option httpchk GET /health/ready" in backend
        assert "http-check expect status 200" in backend
        assert "default-server inter 500ms fall 2 rise 1" in backend
    assert "retry-on conn-failure" in text
    assert "timeout server 30000ms" in text


def test_nginx_config_keeps_backups_in_priority_order_and_never_retries_timeouts() -> None:
    config = build_config(LOCATIONS, ["orders=active-active"])
    text = nginx.emit(config, 9000)
    assert "server 127.0.0.1:8002 max_fails=2 fail_timeout=2000ms backup;" in text
    assert "location ~ ^/workflows/(orders)/ {" in text
    assert "proxy_next_upstream error;" in text
    assert "timeout;" not in text.split("proxy_next_upstream", 1)[1].split("\n", 1)[0]


def test_emit_needs_a_port_and_prints_the_config() -> None:
    base = [sys.executable, "-m", "pairflow.cli.frontdoor_command"]
    flags = [arg for location in LOCATIONS for arg in ("--location", location)]
    refused = subprocess.run([*base, *flags, "--emit", "haproxy"], capture_output=True, text=True, timeout=30)
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "pairflow: error: --port: --emit haproxy needs the port the load balancer listens on"
    )
    printed = subprocess.run(
        [*base, *flags, "--emit", "nginx", "--port", "8080"], capture_output=True, text=True, timeout=30
    )
    assert printed.returncode == 0
    assert "listen 127.0.0.1:8080;" in printed.stdout
