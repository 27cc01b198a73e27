"""The lease rules (`state.decide_grant`), the quorum, the stored document and the active hint."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pairflow.continuity import state
from pairflow.continuity.state import Doc, Grant, Leader, LeaseRequest
from pairflow.errors import MetaConflictError
from pairflow.store.records import LocationEvent
from pairflow.store.sqlite import SqliteStore

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    opened = SqliteStore(tmp_path / "c.db")
    yield opened
    opened.close()


def test_a_lower_epoch_is_refused() -> None:
    decision = state.decide_grant(Doc(epoch=3), "east", LeaseRequest("west", 2, 5), NOW, acting=False)
    assert not decision.accepted and decision.doc is None


def test_a_higher_epoch_is_adopted_and_an_active_location_steps_down() -> None:
    doc = Doc(epoch=2, active=True, lease_until=NOW + timedelta(seconds=3))
    decision = state.decide_grant(doc, "east", LeaseRequest("west", 3, 5, "http://w"), NOW, acting=True)
    assert decision.accepted and decision.stepped_down
    assert decision.doc is not None
    assert (decision.doc.epoch, decision.doc.active) == (3, False)
    assert decision.doc.granted == Grant("west", 3, NOW + timedelta(seconds=5), "http://w")
    assert decision.doc.leader == Leader("west", "http://w", 3)


def test_the_same_epoch_is_refused_by_a_location_active_itself() -> None:
    decision = state.decide_grant(Doc(epoch=2, active=True), "east", LeaseRequest("west", 2, 5), NOW, True)
    assert not decision.accepted


def test_an_unexpired_grant_to_another_location_is_kept_unless_forced() -> None:
    doc = Doc(epoch=2, granted=Grant("west", 2, NOW + timedelta(seconds=2)))
    refused = state.decide_grant(doc, "east", LeaseRequest("north", 3, 5), NOW, acting=False)
    assert not refused.accepted and refused.doc is None
    forced = state.decide_grant(doc, "east", LeaseRequest("north", 3, 5, force=True), NOW, acting=False)
    assert forced.accepted and forced.doc is not None and forced.doc.epoch == 3
    expired = state.decide_grant(doc, "east", LeaseRequest("north", 3, 5), NOW + timedelta(seconds=3), False)
    assert expired.accepted


def test_a_release_clears_only_the_releasing_holders_grant() -> None:
    doc = Doc(epoch=2, granted=Grant("west", 2, NOW + timedelta(seconds=2)))
    released = state.decide_grant(doc, "east", LeaseRequest("west", 2, 0, release=True), NOW, False)
    assert released.doc is not None and released.doc.granted is None
    other = state.decide_grant(doc, "east", LeaseRequest("north", 2, 0, release=True), NOW, False)
    assert other.doc is None


@pytest.mark.parametrize(("voters", "needed"), [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3)])
def test_quorum_is_a_strict_majority(voters: int, needed: int) -> None:
    assert state.quorum(voters) == needed


def test_a_sole_location_acts_without_a_lease_a_lapsed_one_does_not() -> None:
    assert Doc(active=True, sole=True).lease_valid(NOW)
    assert not Doc(active=True, lease_until=NOW).lease_valid(NOW)
    assert Doc(active=True, lease_until=NOW + timedelta(seconds=1)).lease_valid(NOW)
    assert not Doc(active=False, sole=True).lease_valid(NOW)


def test_the_document_round_trips_with_compare_and_set_and_its_event(store: SqliteStore) -> None:
    doc = Doc(epoch=4, active=True, lease_until=NOW, leader=Leader("west", "http://w", 4), peers={"e": "u"})
    event = LocationEvent("1", "activated", 4, NOW, "west")
    version = state.save(store, doc, 0, event)
    assert state.load(store) == (doc, version)
    with pytest.raises(MetaConflictError):
        state.save(store, doc, 0, None)
    assert [e.kind for e in store.list_location_events()] == ["activated"]
    assert state.active_location_hint(store) == ("west", "http://w")


def test_no_hint_without_a_known_active_location(store: SqliteStore) -> None:
    assert state.active_location_hint(store) is None
