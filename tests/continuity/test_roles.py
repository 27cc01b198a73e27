"""The trigger-type rules for deployment modes (the seed's trigger type guidance), the deployment
record in a real SQLite store, and what fires where — including a split recurrence."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pairflow.continuity import roles
from pairflow.store.sqlite import SqliteStore
from pairflow.triggers.recurrence import Share

T0 = datetime(2024, 1, 1, tzinfo=UTC)
RECURRENCE = {"type": "Recurrence", "recurrence": {"frequency": "Minute", "interval": 10}}
SPLITTABLE = {
    "type": "Recurrence",
    "recurrence": {"frequency": "Minute", "interval": 10, "startTime": "2024-01-01T09:00:00Z"},
}
POLL = {
    "type": "Http",
    "inputs": {"method": "GET", "uri": "http://x"},
    "recurrence": RECURRENCE["recurrence"],
}


def definition(trigger: dict[str, Any] | None) -> dict[str, Any]:
    triggers = {"t": trigger} if trigger is not None else {}
    return {"triggers": triggers, "actions": {}}


# (trigger, triggerState, allowed modes, seed section named when refused)
CASES: list[tuple[dict[str, Any] | None, str | None, set[str], str]] = [
    ({"type": "Request", "kind": "Http"}, None, {"active-active", "active-passive"}, ""),
    (RECURRENCE, None, {"active-passive"}, "Recurrence trigger"),
    (
        {"type": "SlidingWindow", "recurrence": RECURRENCE["recurrence"]},
        None,
        {"active-passive"},
        "Recurrence",
    ),
    ({"type": "HttpWebhook", "inputs": {}}, None, {"active-passive"}, "Webhook trigger"),
    (POLL, None, {"active-passive"}, "Polling trigger"),
    (POLL, "client", {"active-passive"}, "Polling trigger"),
    (POLL, "server", {"active-active", "active-passive"}, ""),
    ({"type": "Queue"}, None, {"active-active", "active-passive"}, ""),
    (None, None, {"active-active", "active-passive"}, ""),
]


@pytest.mark.parametrize(
    ("trigger", "state", "allowed", "section", "mode"),
    [(*case, mode) for case, mode in itertools.product(CASES, roles.MODES)],
)
def test_each_trigger_type_allows_only_the_modes_the_seed_allows(
    trigger: dict[str, Any] | None, state: str | None, allowed: set[str], section: str, mode: str
) -> None:
    problem = roles.mode_issue("orders", definition(trigger), mode, state)
    if mode in allowed:
        assert problem is None
        return
    assert problem is not None
    assert trigger is not None
    assert "workflow 'orders'" in problem
    assert f"({trigger['type']}" in problem
    assert f"Seed rule ({section}" in problem


def test_refusal_of_active_active_recurrence_says_why_in_the_seeds_words() -> None:
    problem = roles.mode_issue("report", definition(RECURRENCE), "active-active")
    assert problem == (
        "workflow 'report' cannot be active-active: its trigger 't' (Recurrence) must be active-passive, "
        "else both locations would fire every occurrence. Seed rule (Recurrence trigger): if your logic "
        "app starts with a Recurrence trigger, you need to set up the primary and secondary instances as "
        "active-passive"
    )


def test_client_state_polling_refusal_names_the_polling_kind() -> None:
    problem = roles.mode_issue("inbox", definition(POLL), "active-active")
    assert problem is not None
    assert "(Http, client-state polling)" in problem
    assert "both locations would read the same data" in problem


@pytest.mark.parametrize(
    ("trigger", "state", "expected"),
    [
        ({"type": "Request"}, None, "active-active"),
        ({"type": "Manual"}, None, "active-active"),
        (RECURRENCE, None, "active-passive"),
        ({"type": "SlidingWindow"}, None, "active-passive"),
        ({"type": "HttpWebhook"}, None, "active-passive"),
        (POLL, None, "active-passive"),
        (POLL, "server", "active-active"),
        ({"type": "Queue"}, None, "active-active"),
        ({"type": "SomethingNew"}, None, "active-passive"),
        (None, None, "active-active"),
    ],
)
def test_default_mode_follows_the_trigger(
    trigger: dict[str, Any] | None, state: str | None, expected: str
) -> None:
    assert roles.default_mode(definition(trigger), state) == expected


def test_an_unknown_mode_is_refused() -> None:
    assert roles.mode_issue("x", definition(None), "active-standby") == (
        "expected 'active-active' or 'active-passive', got 'active-standby'"
    )


def test_split_needs_an_active_passive_recurrence_with_a_start_time_and_two_locations() -> None:
    assert roles.split_issue("r", definition(SPLITTABLE), "active-passive", 2) is None
    without_start = roles.split_issue("r", definition(RECURRENCE), "active-passive", 2)
    assert without_start is not None
    assert "startTime" in without_start
    assert "Recurrence" in (roles.split_issue("r", definition(POLL), "active-passive", 2) or "")
    assert "exactly 2 locations" in (
        roles.split_issue("r", definition(SPLITTABLE), "active-passive", 3) or ""
    )


@pytest.mark.parametrize(
    ("mode", "location_active", "split", "firing", "expected"),
    [
        ("active-active", True, None, "none", True),
        ("active-active", False, None, "none", True),
        ("active-passive", True, None, "none", True),
        ("active-passive", False, None, "share", False),
        ("active-passive", False, roles.Split(2, 1), "share", True),  # the passive half fires
        ("active-passive", True, roles.Split(2, 0), "full", True),  # the survivor fires in full
        ("active-passive", True, roles.Split(2, 0), "none", False),  # cut off: not before the bound
        ("active-passive", False, roles.Split(2, 0), "none", False),  # failed over away: nothing
    ],
)
def test_workflow_is_active(
    mode: str, location_active: bool, split: roles.Split | None, firing: roles.Firing, expected: bool
) -> None:
    assert roles.workflow_is_active(mode, location_active, split=split, firing=firing) is expected


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    opened = SqliteStore(str(tmp_path / "roles.db"))
    yield opened
    opened.close()


def _ids() -> Any:
    counter = itertools.count(1)
    return lambda: f"id{next(counter)}"


def test_deployment_mode_defaults_without_a_record_and_reads_it_back(store: SqliteStore) -> None:
    store.put_workflow("report", definition(SPLITTABLE), {}, T0)
    store.put_workflow("orders", definition({"type": "Request"}), {}, T0)
    assert roles.deployment_mode(store, "report") == "active-passive"
    assert roles.deployment_mode(store, "orders") == "active-active"
    record = roles.Deployment("active-passive", connections={"db": {"shared": False}})
    assert roles.record_deployment(store, "orders", record, location="west", now=T0, new_id=_ids())
    assert roles.deployment_mode(store, "orders") == "active-passive"
    assert roles.read_deployment(store, "orders") == record


def test_recording_the_same_deployment_twice_writes_once(store: SqliteStore) -> None:
    record = roles.Deployment("active-passive", split=roles.Split(2, 1))
    ids = _ids()
    assert roles.record_deployment(store, "report", record, location="east", now=T0, new_id=ids)
    assert not roles.record_deployment(store, "report", record, location="east", now=T0, new_id=ids)
    events = store.list_location_events()
    assert [e.kind for e in events] == ["deployment-changed"]
    assert events[0].detail["split"] == {"parts": 2, "index": 1}


def test_split_share_while_paired_and_full_schedule_for_the_survivor(store: SqliteStore) -> None:
    store.put_workflow("report", definition(SPLITTABLE), {}, T0)
    record = roles.Deployment("active-passive", split=roles.Split(2, 1))
    roles.record_deployment(store, "report", record, location="east", now=T0, new_id=_ids())
    assert roles.fires_here(store, "report", location_active=False, firing="share")
    assert roles.recurrence_share(store, "report", firing="share", since=T0) == Share(2, 1, T0)
    assert roles.fires_here(store, "report", location_active=True, firing="full")
    assert roles.recurrence_share(store, "report", firing="full") == Share(1, 0)
    assert not roles.fires_here(store, "report", location_active=False, firing="none")


def test_an_unsplit_workflow_has_no_share(store: SqliteStore) -> None:
    assert roles.recurrence_share(store, "nothing", firing="full") is None


def test_a_request_asking_for_active_active_recurrence_is_refused_naming_the_pointer(
    store: SqliteStore,
) -> None:
    wanted, problems = roles.planned_deployment(store, "r", definition(RECURRENCE), {"mode": "active-active"})
    assert wanted is None
    assert problems[0][0] == "/mode"
    assert "Seed rule (Recurrence trigger)" in problems[0][1]


def test_a_plain_deploy_keeps_the_record_unless_the_new_trigger_forbids_it(store: SqliteStore) -> None:
    roles.record_deployment(
        store, "w", roles.Deployment("active-active"), location="w", now=T0, new_id=_ids()
    )
    assert roles.planned_deployment(store, "w", definition({"type": "Request"}), {}) == (None, [])
    wanted, problems = roles.planned_deployment(store, "w", definition(RECURRENCE), {})
    assert wanted is None
    assert "redeploy with a 'mode'" in problems[0][1]
