from __future__ import annotations

import pytest

from pairflow.actions.common import parse_duration, status_name, to_text


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("PT30S", 30),
        ("PT0.5S", 0.5),
        ("PT1M", 60),
        ("PT2H", 7200),
        ("P1D", 86400),
        ("P1W", 604800),
        ("P1DT1H", 90000),
        ("pt5s", 5),
    ],
)
def test_parse_duration_reads_iso_8601_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "P", "PT", "30S", "PT-1S", "soon", None, 30])
def test_parse_duration_refuses_what_is_not_a_duration(text: object) -> None:
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("status", "name"),
    [(200, "OK"), (404, "NotFound"), (500, "InternalServerError"), (429, "TooManyRequests"), (799, "799")],
)
def test_status_name_spells_status_codes_as_logic_apps_does(status: int, name: str) -> None:
    assert status_name(status) == name


@pytest.mark.parametrize(
    ("value", "text"), [(None, ""), ("a", "a"), (True, "True"), (1.5, "1.5"), ({"a": [1]}, '{"a":[1]}')]
)
def test_to_text_writes_values_as_strings(value: object, text: str) -> None:
    assert to_text(value) == text
