"""Conformance: versioned documents (compare-and-set) and the location's continuity history.

The epoch of a location lives in such a document: compare-and-set is what keeps two processes of one
location from both raising it, and the history entry is written in the same transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pairflow.errors import MetaConflictError
from pairflow.store.base import Store
from pairflow.store.records import LocationEvent
from tests.store.conftest import StoreFactory

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def event(n: int, kind: str = "activated", epoch: int = 1) -> LocationEvent:
    return LocationEvent(
        id=f"e{n}", kind=kind, epoch=epoch, at=T0 + timedelta(seconds=n), location="west", detail={"n": n}
    )


def test_a_missing_document_reads_as_none(store: Store) -> None:
    assert store.get_meta("continuity") is None


def test_put_without_expectation_creates_then_bumps_the_version(store: Store) -> None:
    assert store.put_meta("continuity", {"epoch": 1}) == 1
    assert store.put_meta("continuity", {"epoch": 2}) == 2
    assert store.get_meta("continuity") == ({"epoch": 2}, 2)


def test_expected_version_zero_creates_only_when_absent(store: Store) -> None:
    assert store.put_meta("continuity", {"epoch": 1}, expected_version=0) == 1
    with pytest.raises(MetaConflictError, match="exists already"):
        store.put_meta("continuity", {"epoch": 9}, expected_version=0)
    assert store.get_meta("continuity") == ({"epoch": 1}, 1)


def test_compare_and_set_refuses_a_stale_version_and_writes_nothing(store_factory: StoreFactory) -> None:
    first, second = store_factory(), store_factory()
    first.put_meta("continuity", {"epoch": 1})
    _, version = second.get_meta("continuity") or ({}, 0)
    assert first.put_meta("continuity", {"epoch": 2}, expected_version=version) == 2
    with pytest.raises(MetaConflictError, match="changed since version 1"):
        second.put_meta("continuity", {"epoch": 2}, expected_version=version, event=event(1))
    assert second.get_meta("continuity") == ({"epoch": 2}, 2)
    assert second.list_location_events() == [], "a refused write must not leave its event behind"


def test_the_event_is_written_with_the_document(store: Store) -> None:
    store.put_meta("continuity", {"epoch": 1}, expected_version=0, event=event(1))
    store.put_meta("continuity", {"epoch": 2}, expected_version=1, event=event(2, "failover", 2))
    events = store.list_location_events()
    assert [(e.id, e.kind, e.epoch, e.detail) for e in events] == [
        ("e2", "failover", 2, {"n": 2}),
        ("e1", "activated", 1, {"n": 1}),
    ]
    assert events[0].at == T0 + timedelta(seconds=2)
    assert [e.id for e in store.list_location_events(limit=1)] == ["e2"]


def test_documents_are_independent_by_key(store: Store) -> None:
    store.put_meta("continuity", {"epoch": 3})
    store.put_meta("mode:orders", {"mode": "active-active"})
    assert store.get_meta("mode:orders") == ({"mode": "active-active"}, 1)
    assert store.get_meta("continuity") == ({"epoch": 3}, 1)
