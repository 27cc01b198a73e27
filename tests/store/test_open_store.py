"""`open_store`: which store a URL names, and the errors for URLs it cannot serve."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from pairflow.errors import InputError, StoreUnavailableError
from pairflow.store import open_store
from pairflow.store.settings import Durability
from pairflow.store.sqlite import SqliteStore


def opened_path(url: str | None) -> Path:
    store = open_store(url)
    try:
        assert isinstance(store, SqliteStore)
        return store.path
    finally:
        store.close()


def test_no_url_opens_pairflow_db_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert opened_path(None) == Path("pairflow.db")
    assert (tmp_path / "pairflow.db").is_file()


def test_a_sqlite_url_with_three_slashes_is_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    assert opened_path("sqlite:///data/runs.db") == Path("data/runs.db")
    assert (tmp_path / "data" / "runs.db").is_file()


def test_a_sqlite_url_with_four_slashes_is_absolute(tmp_path: Path) -> None:
    target = tmp_path / "abs.db"
    assert opened_path(f"sqlite:///{target}") == target
    assert target.is_file()


def test_a_bare_path_opens_a_sqlite_file(tmp_path: Path) -> None:
    target = tmp_path / "bare.db"
    assert opened_path(str(target)) == target
    assert target.is_file()


@pytest.mark.parametrize(
    ("query", "expected"),
    [("", Durability.FULL), ("?durability=normal", Durability.NORMAL), ("?durability=full", Durability.FULL)],
)
def test_durability_comes_from_the_url(tmp_path: Path, query: str, expected: Durability) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'runs.db'}{query}")
    assert isinstance(store, SqliteStore) and store.durability is expected
    assert store.path == tmp_path / "runs.db"
    store.close()


def test_an_explicit_durability_wins_over_the_url(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'runs.db'}?durability=normal", Durability.FULL)
    assert isinstance(store, SqliteStore) and store.durability is Durability.FULL
    store.close()


@pytest.mark.parametrize("query", ["?durability=sometimes", "?cache=shared"])
def test_an_unknown_url_option_is_an_input_error_naming_it(tmp_path: Path, query: str) -> None:
    with pytest.raises(InputError, match=query.strip("?").split("=")[-1]):
        open_store(f"sqlite:///{tmp_path / 'runs.db'}{query}")


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_a_postgresql_url_that_cannot_be_reached_is_unavailable_naming_host_and_cause(scheme: str) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(StoreUnavailableError) as caught:
        open_store(f"{scheme}://user:s3cret@127.0.0.1:{port}/pairflow")
    assert caught.value.message == (
        f"cannot connect to the PostgreSQL store at 127.0.0.1:{port}/pairflow: Connection refused"
    )


@pytest.mark.parametrize("query", ["?durability=sometimes", "?pool_max_size=0", "?nonsense=1"])
def test_a_bad_postgresql_url_option_is_an_input_error_without_the_password(query: str) -> None:
    with pytest.raises(InputError) as caught:
        open_store(f"postgresql://user:s3cret@127.0.0.1:1/pairflow{query}")
    assert "s3cret" not in caught.value.message
    assert query.strip("?").split("=")[0] in caught.value.message


@pytest.mark.parametrize("url", ["mysql://localhost/db", "sqlite://relative.db", "sqlite:///"])
def test_an_unknown_url_is_an_input_error_naming_it(url: str) -> None:
    with pytest.raises(InputError, match=repr(url)):
        open_store(url)


def test_a_file_in_a_missing_directory_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailableError, match="nowhere"):
        open_store(f"sqlite:///{tmp_path / 'nowhere' / 'runs.db'}")
