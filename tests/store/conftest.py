"""The `store` fixture, parametrised over every backend: each one must pass the same conformance suite.

A PostgreSQL backend joins by adding a "postgresql" param that opens a store on a fresh database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pairflow.store.base import Store
from pairflow.store.sqlite import SqliteStore

StoreFactory = Callable[[], Store]

BACKENDS = ["sqlite"]


@pytest.fixture(params=BACKENDS)
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """Opens stores on one fresh database: a second call is a second client (another process's view)."""
    opened: list[Store] = []

    def open_one() -> Store:
        if request.param == "sqlite":
            store: Store = SqliteStore(tmp_path / "store.db")
        else:  # pragma: no cover - a backend listed without a way to open it
            raise AssertionError(f"unknown backend {request.param}")
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        store.close()


@pytest.fixture
def store(store_factory: StoreFactory) -> Store:
    return store_factory()
