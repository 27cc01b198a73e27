"""The `store` fixture, over every backend (`store_url` in tests/conftest.py): each one must pass the
same conformance suite."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from pairflow.store import open_store
from pairflow.store.base import Store

StoreFactory = Callable[[], Store]


@pytest.fixture
def store_factory(store_url: str) -> Iterator[StoreFactory]:
    """Opens stores on one fresh database: a second call is a second client (another process's view)."""
    opened: list[Store] = []

    def open_one() -> Store:
        store = open_store(store_url)
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        store.close()


@pytest.fixture
def store(store_factory: StoreFactory) -> Store:
    return store_factory()
