"""Sliding Window: contiguous windows from the start time, each due after its end plus the delay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pairflow.errors import InputError
from pairflow.triggers.sliding_window import SlidingWindowSchedule, Window, parse_duration


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def hourly(**extra: Any) -> SlidingWindowSchedule:
    return SlidingWindowSchedule.from_definition(
        {"frequency": "Hour", "interval": 1, "startTime": "2019-05-13T14:00:00Z", **extra}
    )


def test_past_start_time_processes_every_missed_window_from_the_start() -> None:
    s = hourly()
    windows = s.windows_between(None, utc(2019, 5, 13, 17, 30))
    assert [(w.start, w.end) for w in windows] == [
        (utc(2019, 5, 13, 14), utc(2019, 5, 13, 15)),
        (utc(2019, 5, 13, 15), utc(2019, 5, 13, 16)),
        (utc(2019, 5, 13, 16), utc(2019, 5, 13, 17)),
    ]


def test_a_window_is_due_only_after_its_end_plus_the_delay() -> None:
    s = hourly(delay="PT5S")
    assert s.windows_between(None, utc(2019, 5, 13, 15, 0, 4)) == []
    assert s.windows_between(None, utc(2019, 5, 13, 15, 0, 5)) == [
        Window(start=utc(2019, 5, 13, 14), end=utc(2019, 5, 13, 15), due=utc(2019, 5, 13, 15, 0, 5))
    ]


def test_the_next_call_continues_from_the_last_completed_window() -> None:
    s = hourly()
    first = s.windows_between(None, utc(2019, 5, 13, 16))
    later = s.windows_between(first[-1].end, utc(2019, 5, 13, 18, 59))
    assert [w.start for w in first + later] == [utc(2019, 5, 13, h) for h in range(14, 18)]
    assert s.windows_between(later[-1].end, utc(2019, 5, 13, 18, 59)) == []


def test_next_window_tells_a_scheduler_when_to_wake() -> None:
    s = hourly(delay="PT1M")
    assert s.next_window(None).due == utc(2019, 5, 13, 15, 1)
    assert s.next_window(utc(2019, 5, 13, 16)).start == utc(2019, 5, 13, 16)


def test_a_last_window_end_off_the_grid_is_refused_rather_than_overlapping() -> None:
    s = hourly()
    with pytest.raises(InputError, match="not the end of a window"):
        s.windows_between(utc(2019, 5, 13, 15, 30), utc(2019, 5, 14))
    with pytest.raises(InputError, match="not the end of a window"):
        s.windows_between(utc(2019, 5, 13, 14), utc(2019, 5, 14))


def test_limit_bounds_the_catch_up_and_the_rest_follows_next_call() -> None:
    s = SlidingWindowSchedule.from_definition(
        {"frequency": "Second", "interval": 1, "startTime": "2024-01-01T00:00:00Z"}
    )
    first = s.windows_between(None, utc(2024, 1, 2), limit=100)
    assert len(first) == 100
    second = s.windows_between(first[-1].end, utc(2024, 1, 2), limit=100)
    assert second[0].start == first[-1].end


def test_without_start_time_windows_start_at_the_anchor() -> None:
    deployed = utc(2024, 1, 1, 9, 7)
    s = SlidingWindowSchedule.from_definition({"frequency": "Minute", "interval": 15}, anchor=deployed)
    assert s.next_window(None).start == deployed


def test_start_time_is_local_to_the_time_zone_and_windows_are_elapsed_hours_across_dst() -> None:
    s = SlidingWindowSchedule.from_definition(
        {
            "frequency": "Hour",
            "interval": 1,
            "startTime": "2024-03-10T00:00:00",
            "timeZone": "Pacific Standard Time",
        }
    )
    windows = s.windows_between(None, utc(2024, 3, 10, 12))
    assert windows[0].start == utc(2024, 3, 10, 8)
    assert all(w.end - w.start == timedelta(hours=1) for w in windows)
    assert all(a.end == b.start for a, b in pairwise(windows))


def test_from_trigger_reads_the_delay_from_inputs() -> None:
    trigger = {
        "type": "SlidingWindow",
        "inputs": {"delay": "PT5S"},
        "recurrence": {"frequency": "Hour", "interval": 1, "startTime": "2019-05-13T14:00:00Z"},
    }
    s = SlidingWindowSchedule.from_trigger(trigger, pointer="/triggers/Sliding_Window")
    assert s.delay == timedelta(seconds=5)
    with pytest.raises(InputError, match=r"^/triggers/Sliding_Window/inputs/delay: 'soon'"):
        SlidingWindowSchedule.from_trigger(
            dict(trigger, inputs={"delay": "soon"}), pointer="/triggers/Sliding_Window"
        )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT5S", timedelta(seconds=5)),
        ("PT1H30M", timedelta(hours=1, minutes=30)),
        ("P1DT2H", timedelta(days=1, hours=2)),
        ("P2W", timedelta(weeks=2)),
        ("PT0.5S", timedelta(milliseconds=500)),
    ],
)
def test_delay_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text, "/inputs/delay") == expected


@pytest.mark.parametrize("text", ["P1M", "P1Y", "P", "PT", "5 seconds", "PT5"])
def test_delay_durations_without_fixed_length_or_malformed_are_refused(text: str) -> None:
    with pytest.raises(InputError, match=r"^/inputs/delay: "):
        parse_duration(text, "/inputs/delay")


@pytest.mark.parametrize(
    ("recurrence", "message"),
    [
        ({"frequency": "Day", "interval": 1}, "/recurrence/frequency: expected one of Second, Minute, Hour"),
        ({"frequency": "Hour", "interval": 0}, "/recurrence/interval: expected a positive integer"),
        ({"frequency": "Hour", "interval": 1, "startTime": 5}, "/recurrence/startTime: expected"),
        (
            {"frequency": "Hour", "interval": 1, "delay": 5},
            "/recurrence/delay: expected an ISO 8601 duration",
        ),
    ],
)
def test_bad_values_name_their_json_pointer(recurrence: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError) as caught:
        SlidingWindowSchedule.from_definition(recurrence, anchor=utc(2024, 1, 1))
    assert caught.value.message.startswith(message)


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from(["Second", "Minute", "Hour"]),
    st.integers(1, 90),
    st.integers(0, 600),
    st.lists(st.integers(0, 30_000), min_size=1, max_size=6),
)
def test_polling_at_any_moments_yields_each_window_exactly_once_in_order(
    frequency: str, interval: int, delay_seconds: int, offsets: list[int]
) -> None:
    start = utc(2024, 3, 1)
    s = SlidingWindowSchedule.from_definition(
        {
            "frequency": frequency,
            "interval": interval,
            "startTime": "2024-03-01T00:00:00Z",
            "delay": f"PT{delay_seconds}S",
        }
    )
    moments = sorted(start + timedelta(seconds=offset) for offset in offsets)
    collected: list[Window] = []
    last_end: datetime | None = None
    for moment in moments:
        fresh = s.windows_between(last_end, moment, limit=10**9)
        assert all(window.due <= moment for window in fresh)
        collected += fresh
        if fresh:
            last_end = fresh[-1].end
    once = s.windows_between(None, moments[-1], limit=10**9)
    assert collected == once
    assert all(a.end == b.start for a, b in pairwise(once))
    assert s.next_window(last_end).due > moments[-1]
