"""The front door's pure decisions: which locations a call tries in which order, when a failed
attempt may go to another location, and how probes move a location up and down."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import httpx

from pairflow.frontdoor import health as rules
from pairflow.frontdoor.health import LocationHealth, ProbeResult
from pairflow.frontdoor.router import candidates, may_retry_answer, may_retry_error

T0 = datetime(2024, 1, 1, tzinfo=UTC)
PASSIVE = b'{"error": {"code": "LocationPassive", "message": "passive"}}'


def up(name: str, **fields: object) -> LocationHealth:
    return LocationHealth(name, up=True, **fields)  # type: ignore[arg-type]


def test_active_passive_picks_the_first_healthy_location_by_priority() -> None:
    west, east = up("west"), up("east")
    assert candidates("active-passive", [west, east], "orders") == ["west", "east"]
    down = LocationHealth("west", up=False)
    assert candidates("active-passive", [down, east], "orders") == ["east"]


def test_active_passive_prefers_the_location_reporting_itself_active() -> None:
    west, east = up("west", active=False, epoch=1), up("east", active=True, epoch=2)
    assert candidates("active-passive", [west, east], "orders") == ["east", "west"]


def test_active_passive_prefers_the_higher_epoch_when_two_claim_to_be_active() -> None:
    west, east = up("west", active=True, epoch=3), up("east", active=True, epoch=4)
    assert candidates("active-passive", [west, east], "orders") == ["east", "west"]


def test_a_location_that_answered_location_passive_goes_last_for_that_workflow_only() -> None:
    west, east = up("west", passive_for=frozenset({"orders"})), up("east")
    assert candidates("active-passive", [west, east], "orders") == ["east", "west"]
    assert candidates("active-passive", [west, east], "billing") == ["west", "east"]


def test_active_active_round_robin_is_even_and_keeps_the_others_as_fallbacks() -> None:
    locations = [up("west"), up("east"), up("north")]
    firsts = Counter(candidates("active-active", locations, "orders", turn)[0] for turn in range(300))
    assert firsts == {"west": 100, "east": 100, "north": 100}
    assert candidates("active-active", locations, "orders", 1) == ["east", "north", "west"]


def test_active_active_skips_unhealthy_locations() -> None:
    locations = [up("west"), LocationHealth("east", up=False), LocationHealth("north")]
    assert {candidates("active-active", locations, "orders", turn)[0] for turn in range(4)} == {"west"}


def test_only_failures_before_the_request_was_sent_may_be_retried() -> None:
    request = httpx.Request("POST", "http://127.0.0.1:1/workflows/x/triggers/t/invoke")
    assert may_retry_error(httpx.ConnectError("refused", request=request))
    assert may_retry_error(httpx.ConnectTimeout("slow connect", request=request))
    assert not may_retry_error(httpx.ReadTimeout("no answer", request=request))
    assert not may_retry_error(httpx.RemoteProtocolError("server disconnected", request=request))
    assert not may_retry_error(httpx.ReadError("reset", request=request))


def test_only_refusals_given_before_a_run_exists_may_be_retried() -> None:
    assert may_retry_answer(503, {}, PASSIVE)
    assert may_retry_answer(409, {}, PASSIVE)
    assert may_retry_answer(503, {}, b'{"error": {"code": "ServiceUnavailable", "message": "stopping"}}')
    assert not may_retry_answer(503, {}, b'{"error": {"code": "StoreUnavailable", "message": "db"}}')
    assert not may_retry_answer(502, {"X-Ms-Workflow-Run-Id": "r1"}, PASSIVE)
    assert not may_retry_answer(200, {}, PASSIVE)
    assert not may_retry_answer(503, {}, b"<html>bad gateway</html>")


def probe(ok: bool, active: bool | None = None, epoch: int | None = None) -> ProbeResult:
    return ProbeResult(ok=ok, at=T0, active=active, epoch=epoch)


def test_a_location_goes_down_after_fall_failures_and_up_after_rise_successes() -> None:
    state = rules.after_probe(LocationHealth("west"), probe(True), failures=2, rises=2)
    assert state.up is True
    state = rules.after_probe(state, probe(False), failures=2, rises=2)
    assert state.up is True
    state = rules.after_probe(state, probe(False), failures=2, rises=2)
    assert state.up is False
    state = rules.after_probe(state, probe(True), failures=2, rises=2)
    assert state.up is False
    state = rules.after_probe(state, probe(True), failures=2, rises=2)
    assert state.up is True


def test_a_refused_connection_marks_a_location_down_at_once() -> None:
    state = rules.after_refused(up("west"))
    assert state.up is False
    assert rules.after_probe(state, probe(True), failures=2, rises=1).up is True


def test_the_epoch_only_grows_and_a_role_change_clears_passive_marks() -> None:
    state = rules.after_probe(LocationHealth("west"), probe(True, active=True, epoch=5), 2, 1)
    state = rules.after_passive_answer(state, "orders", None)
    assert state.passive_for == {"orders"}
    state = rules.after_probe(state, probe(True, active=True, epoch=3), 2, 1)
    assert state.epoch == 5
    assert state.passive_for == {"orders"}
    state = rules.after_probe(state, probe(True, active=False, epoch=6), 2, 1)
    assert (state.epoch, state.active, state.passive_for) == (6, False, frozenset())
    assert rules.highest_epoch([state, up("east", epoch=2), up("north")]) == 6


def test_continuity_state_is_read_from_either_health_shape() -> None:
    assert rules.parse_continuity({"continuity": {"location": "w", "active": True, "epoch": 2}}) == (True, 2)
    assert rules.parse_continuity({"active": False, "epoch": 7}) == (False, 7)
    assert rules.parse_continuity({"status": "ready"}) == (None, None)
    assert rules.parse_continuity({"active": "yes", "epoch": True}) == (None, None)
