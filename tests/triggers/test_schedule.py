"""Recurrence occurrences: the documented examples, daylight saving, months, splitting, validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import islice, pairwise
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pairflow.errors import InputError
from pairflow.triggers.schedule import RecurrenceSchedule, occurrence_key


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def schedule(anchor: datetime | None = None, **recurrence: Any) -> RecurrenceSchedule:
    return RecurrenceSchedule.from_definition(recurrence, anchor=anchor)


def between(s: RecurrenceSchedule, start: datetime, end: datetime) -> list[datetime]:
    return list(s.occurrences_between(start, end))


# ------------------------------------------------------------------ start time patterns


def test_past_start_time_runs_at_next_future_run_time_on_the_start_grid() -> None:
    # The documented example: start 2017-09-07 14:00, now 2017-09-08 13:00, every two days.
    s = schedule(frequency="Day", interval=2, startTime="2017-09-07T14:00:00Z")
    now = utc(2017, 9, 8, 13)
    assert s.next_after(now) == utc(2017, 9, 9, 14)
    assert list(islice(s.occurrences_between(now, utc(2018, 1, 1)), 4)) == [
        utc(2017, 9, 9, 14),
        utc(2017, 9, 11, 14),
        utc(2017, 9, 13, 14),
        utc(2017, 9, 15, 14),
    ]


def test_far_past_start_time_still_lands_on_the_next_future_run_time() -> None:
    s = schedule(frequency="Day", interval=2, startTime="2017-09-01T14:00:00Z")
    assert s.next_after(utc(2017, 9, 8, 13)) == utc(2017, 9, 9, 14)


def test_future_start_time_is_the_first_occurrence() -> None:
    s = schedule(frequency="Minute", interval=15, startTime="2030-01-01T08:00:00Z")
    assert s.first_on_or_after(utc(2029, 6, 1)) == utc(2030, 1, 1, 8)
    assert s.next_after(utc(2030, 1, 1, 8)) == utc(2030, 1, 1, 8, 15)


def test_without_start_time_the_first_run_is_at_the_anchor_then_every_interval() -> None:
    deployed = datetime(2024, 5, 1, 9, 7, 31, 250_000, tzinfo=UTC)
    s = schedule(anchor=deployed, frequency="Minute", interval=15)
    assert s.first_on_or_after(deployed) == deployed
    assert s.next_after(deployed) == deployed + timedelta(minutes=15)


def test_start_time_without_offset_is_local_to_the_time_zone() -> None:
    s = schedule(
        frequency="Day", interval=1, startTime="2024-07-01T09:00:00", timeZone="Pacific Standard Time"
    )
    assert s.first_on_or_after(utc(2024, 7, 1)) == utc(2024, 7, 1, 16)


def test_start_time_with_z_ignores_the_time_zone_as_documented() -> None:
    s = schedule(
        frequency="Week",
        interval=1,
        startTime="2024-07-01T09:00:00Z",
        timeZone="Pacific Standard Time",
        schedule={"hours": [9], "minutes": [0], "weekDays": ["Monday"]},
    )
    assert s.time_zone == "UTC"
    assert s.first_on_or_after(utc(2024, 7, 1)) == utc(2024, 7, 1, 9)


def test_missed_occurrences_are_not_caught_up() -> None:
    s = schedule(frequency="Hour", interval=1, startTime="2024-01-01T00:00:00Z")
    # A scheduler that was down for two days asks once and gets only the next occurrence.
    assert s.next_after(utc(2024, 1, 3, 5, 30)) == utc(2024, 1, 3, 6)


def test_every_hour_at_fifteen_past_follows_the_start_time_minute() -> None:
    s = schedule(frequency="Hour", interval=1, startTime="2024-01-01T00:15:00Z")
    assert between(s, utc(2024, 1, 1), utc(2024, 1, 1, 3)) == [
        utc(2024, 1, 1, 0, 15),
        utc(2024, 1, 1, 1, 15),
        utc(2024, 1, 1, 2, 15),
    ]


# ------------------------------------------------------------------ the documented example table


def test_daily_at_the_hour_marks_with_minutes_fifteen_is_every_hour_at_quarter_past() -> None:
    s = schedule(
        frequency="Day",
        interval=1,
        startTime="2024-01-01T00:00:00Z",
        schedule={"hours": list(range(24)), "minutes": [15]},
    )
    found = between(s, utc(2024, 1, 2), utc(2024, 1, 3))
    assert found == [utc(2024, 1, 2, hour, 15) for hour in range(24)]


def test_every_fifteen_minutes_at_minute_marks_waits_for_the_next_mark() -> None:
    s = schedule(
        frequency="Day",
        interval=1,
        startTime="2024-01-01T10:07:00Z",
        schedule={"hours": list(range(24)), "minutes": [0, 15, 30, 45]},
    )
    assert s.first_on_or_after(utc(2024, 1, 1, 10, 7)) == utc(2024, 1, 1, 10, 15)


def test_daily_at_eight_plus_the_minute_mark_of_saving() -> None:
    deployed = utc(2024, 3, 5, 10, 17)
    s = schedule(anchor=deployed, frequency="Day", interval=1, schedule={"hours": [8]})
    assert s.first_on_or_after(deployed) == deployed  # runs the first workload instantly
    assert s.next_after(deployed) == utc(2024, 3, 6, 8, 17)
    assert s.next_after(utc(2024, 3, 6, 8, 17)) == utc(2024, 3, 7, 8, 17)


def test_daily_at_half_past_eight_and_half_past_four() -> None:
    s = schedule(
        frequency="Day",
        interval=1,
        startTime="2024-01-01T00:00:00Z",
        schedule={"hours": [8, 16], "minutes": [30, 45]},
    )
    assert between(s, utc(2024, 1, 1), utc(2024, 1, 2)) == [
        utc(2024, 1, 1, 8, 30),
        utc(2024, 1, 1, 8, 45),
        utc(2024, 1, 1, 16, 30),
        utc(2024, 1, 1, 16, 45),
    ]


def test_every_saturday_at_five_pm_from_the_start_date() -> None:
    s = schedule(
        frequency="Week",
        interval=1,
        startTime="2017-09-09T17:00:00Z",
        schedule={"weekDays": ["Saturday"]},
    )
    assert between(s, utc(2017, 9, 1), utc(2017, 9, 20)) == [utc(2017, 9, 9, 17), utc(2017, 9, 16, 17)]


def test_mondays_at_three_times_in_pacific_time_no_sooner_than_the_start() -> None:
    # The connector doc's example: start Friday 2020-09-18 08:00 Pacific, Mondays 10:30/12:30/14:30.
    s = schedule(
        frequency="Week",
        interval=1,
        startTime="2020-09-18T08:00:00",
        timeZone="Pacific Standard Time",
        schedule={"hours": [10, 12, 14], "minutes": [30], "weekDays": ["Monday"]},
    )
    assert between(s, utc(2020, 9, 4), utc(2020, 9, 22)) == [
        utc(2020, 9, 21, 17, 30),
        utc(2020, 9, 21, 19, 30),
        utc(2020, 9, 21, 21, 30),
    ]
    assert s.next_after(utc(2020, 9, 21, 21, 30)) == utc(2020, 9, 28, 17, 30)


def test_every_fifteen_minutes_biweekly_on_mondays_only() -> None:
    s = schedule(
        frequency="Week",
        interval=2,
        startTime="2024-01-01T00:00:00Z",  # a Monday
        schedule={"hours": list(range(24)), "minutes": [0, 15, 30, 45], "weekDays": ["Monday"]},
    )
    found = between(s, utc(2024, 1, 1), utc(2024, 1, 29))
    assert len(found) == 2 * 96
    assert {when.date().isoformat() for when in found} == {"2024-01-01", "2024-01-15"}


def test_working_hours_on_weekdays() -> None:
    s = schedule(
        frequency="Week",
        interval=1,
        startTime="2024-01-06T00:00:00Z",  # a Saturday
        schedule={
            "hours": list(range(8, 18)),
            "minutes": [0],
            "weekDays": ["monday", "TUESDAY", "Wednesday", "Thursday", "Friday"],
        },
    )
    found = between(s, utc(2024, 1, 6), utc(2024, 1, 13))
    assert len(found) == 50
    assert found[0] == utc(2024, 1, 8, 8)


def test_schedule_is_ignored_for_minute_frequency() -> None:
    s = schedule(
        frequency="Minute",
        interval=10,
        startTime="2024-01-01T00:00:00Z",
        schedule={"hours": [5], "minutes": [30]},
    )
    assert s.next_after(utc(2024, 1, 1)) == utc(2024, 1, 1, 0, 10)


# ------------------------------------------------------------------ months and leap years


def test_last_day_of_every_month_with_minus_one() -> None:
    s = schedule(
        frequency="Month",
        interval=1,
        startTime="2023-12-15T00:00:00Z",
        schedule={"monthDays": [-1], "hours": [6], "minutes": [0]},
    )
    assert between(s, utc(2024, 1, 1), utc(2024, 5, 1)) == [
        utc(2024, 1, 31, 6),
        utc(2024, 2, 29, 6),
        utc(2024, 3, 31, 6),
        utc(2024, 4, 30, 6),
    ]
    assert s.next_after(utc(2025, 2, 1)) == utc(2025, 2, 28, 6)


def test_first_and_last_day_of_month_at_the_start_time() -> None:
    s = schedule(
        frequency="Month", interval=1, startTime="2024-01-01T09:00:00Z", schedule={"monthDays": [1, -1]}
    )
    assert between(s, utc(2024, 1, 1), utc(2024, 3, 1)) == [
        utc(2024, 1, 1, 9),
        utc(2024, 1, 31, 9),
        utc(2024, 2, 1, 9),
        utc(2024, 2, 29, 9),
    ]


def test_month_day_thirty_skips_february() -> None:
    s = schedule(
        frequency="Month", interval=1, startTime="2024-01-01T00:00:00Z", schedule={"monthDays": [30]}
    )
    assert s.next_after(utc(2024, 1, 30)) == utc(2024, 3, 30)


def test_february_twenty_ninth_fires_only_in_leap_years() -> None:
    s = schedule(
        frequency="Month", interval=12, startTime="2021-02-01T00:00:00Z", schedule={"monthDays": [29]}
    )
    assert s.next_after(utc(2021, 1, 1)) == utc(2024, 2, 29)
    assert s.next_after(utc(2024, 2, 29)) == utc(2028, 2, 29)


def test_monthly_without_schedule_clamps_to_the_last_day_then_returns_to_the_start_day() -> None:
    s = schedule(frequency="Month", interval=1, startTime="2024-01-31T12:00:00Z")
    assert between(s, utc(2024, 1, 1), utc(2024, 5, 1)) == [
        utc(2024, 1, 31, 12),
        utc(2024, 2, 29, 12),
        utc(2024, 3, 31, 12),
        utc(2024, 4, 30, 12),
    ]


def test_daily_crosses_a_leap_day() -> None:
    s = schedule(frequency="Day", interval=1, startTime="2024-02-27T23:00:00Z")
    assert between(s, utc(2024, 2, 28), utc(2024, 3, 2)) == [
        utc(2024, 2, 28, 23),
        utc(2024, 2, 29, 23),
        utc(2024, 3, 1, 23),
    ]


def test_first_and_last_friday_of_each_month() -> None:
    s = schedule(
        frequency="Month",
        interval=1,
        startTime="2024-01-01T00:00:00Z",
        schedule={
            "hours": [5],
            "minutes": [15],
            "monthlyOccurrences": [{"day": "Friday", "occurrence": 1}, {"day": "friday", "occurrence": -1}],
        },
    )
    assert between(s, utc(2024, 3, 1), utc(2024, 4, 1)) == [utc(2024, 3, 1, 5, 15), utc(2024, 3, 29, 5, 15)]


def test_a_schedule_whose_days_never_exist_ends_instead_of_looping() -> None:
    s = schedule(
        frequency="Month", interval=12, startTime="2024-02-01T00:00:00Z", schedule={"monthDays": [31]}
    )
    assert s.next_after(utc(2024, 1, 1)) is None


# ------------------------------------------------------------------ daylight saving time


def central_daily(start: str) -> RecurrenceSchedule:
    return schedule(frequency="Day", interval=1, startTime=start, timeZone="Central Standard Time")


def test_documented_central_time_table_when_dst_starts() -> None:
    app1 = central_daily("2019-03-01T01:30:00")
    app2 = central_daily("2019-03-01T02:30:00")
    window = (utc(2019, 3, 9), utc(2019, 3, 12))
    assert between(app1, *window) == [
        utc(2019, 3, 9, 7, 30),
        utc(2019, 3, 10, 7, 30),
        utc(2019, 3, 11, 6, 30),
    ]
    # 02:30 does not exist on 2019-03-10: it runs at 08:30 UTC, 03:30 CDT, as documented.
    assert between(app2, *window) == [
        utc(2019, 3, 9, 8, 30),
        utc(2019, 3, 10, 8, 30),
        utc(2019, 3, 11, 7, 30),
    ]


def test_documented_central_time_table_when_dst_ends() -> None:
    app1 = central_daily("2019-10-01T01:30:00")
    app2 = central_daily("2019-10-01T02:30:00")
    window = (utc(2019, 11, 2), utc(2019, 11, 5))
    # 01:30 happens twice on 2019-11-03; it fires once, at the first.
    assert between(app1, *window) == [
        utc(2019, 11, 2, 6, 30),
        utc(2019, 11, 3, 6, 30),
        utc(2019, 11, 4, 7, 30),
    ]
    assert between(app2, *window) == [
        utc(2019, 11, 2, 7, 30),
        utc(2019, 11, 3, 8, 30),
        utc(2019, 11, 4, 8, 30),
    ]


def test_pacific_spring_forward_shifts_a_nonexistent_time_forward() -> None:
    s = schedule(
        frequency="Day", interval=1, startTime="2024-03-01T02:30:00", timeZone="Pacific Standard Time"
    )
    assert s.next_after(utc(2024, 3, 9, 12)) == utc(2024, 3, 10, 10, 30)  # 03:30 PDT
    assert s.next_after(utc(2024, 3, 10, 10, 30)) == utc(2024, 3, 11, 9, 30)  # 02:30 PDT


def test_pacific_fall_back_fires_an_ambiguous_time_once() -> None:
    s = schedule(
        frequency="Day",
        interval=1,
        startTime="2024-10-01T00:00:00",
        timeZone="Pacific Standard Time",
        schedule={"hours": [0, 1, 2], "minutes": [30]},
    )
    assert between(s, utc(2024, 11, 3, 7), utc(2024, 11, 3, 11)) == [
        utc(2024, 11, 3, 7, 30),  # 00:30 PDT
        utc(2024, 11, 3, 8, 30),  # 01:30 PDT, the first of the two
        utc(2024, 11, 3, 10, 30),  # 02:30 PST
    ]


def test_west_europe_spring_forward_merges_a_shifted_slot_with_the_next() -> None:
    s = schedule(
        frequency="Day",
        interval=1,
        startTime="2024-03-01T00:00:00",
        timeZone="W. Europe Standard Time",
        schedule={"hours": [1, 2, 3], "minutes": [30]},
    )
    # 02:30 does not exist on 2024-03-31; shifted to 03:30 CEST it coincides with 03:30: one run.
    assert between(s, utc(2024, 3, 30, 23), utc(2024, 3, 31, 3)) == [
        utc(2024, 3, 31, 0, 30),
        utc(2024, 3, 31, 1, 30),
    ]


def test_west_europe_fall_back_fires_each_local_time_once() -> None:
    s = schedule(
        frequency="Day", interval=1, startTime="2024-10-01T02:30:00", timeZone="W. Europe Standard Time"
    )
    assert between(s, utc(2024, 10, 26), utc(2024, 10, 29)) == [
        utc(2024, 10, 26, 0, 30),  # CEST
        utc(2024, 10, 27, 0, 30),  # the first 02:30 (CEST)
        utc(2024, 10, 28, 1, 30),  # CET
    ]


def test_hourly_stays_sixty_minutes_apart_across_dst() -> None:
    s = schedule(
        frequency="Hour", interval=1, startTime="2024-03-31T00:00:00", timeZone="W. Europe Standard Time"
    )
    found = between(s, utc(2024, 3, 30, 22), utc(2024, 3, 31, 4))
    assert [b - a for a, b in pairwise(found)] == [timedelta(hours=1)] * (len(found) - 1)
    assert found[0] == utc(2024, 3, 30, 23)  # local midnight CET
    assert len(found) == 5


def test_weekly_keeps_local_time_across_dst() -> None:
    s = schedule(
        frequency="Week", interval=1, startTime="2024-03-04T09:00:00", timeZone="Pacific Standard Time"
    )
    assert between(s, utc(2024, 3, 4), utc(2024, 3, 12)) == [utc(2024, 3, 4, 17), utc(2024, 3, 11, 16)]


def test_iana_time_zone_names_are_accepted() -> None:
    s = schedule(frequency="Day", interval=1, startTime="2024-07-01T09:00:00", timeZone="Europe/Berlin")
    assert s.first_on_or_after(utc(2024, 7, 1)) == utc(2024, 7, 1, 7)


def test_windows_fixed_offset_zone_from_a_real_definition() -> None:
    s = schedule(frequency="Hour", interval=3, startTime="2024-01-01T00:00:00", timeZone="UTC-11")
    assert s.first_on_or_after(utc(2024, 1, 1)) == utc(2024, 1, 1, 11)


# ------------------------------------------------------------------ endTime


def test_end_time_stops_the_schedule() -> None:
    s = schedule(
        frequency="Hour", interval=1, startTime="2024-01-01T00:00:00Z", endTime="2024-01-01T02:00:00Z"
    )
    assert between(s, utc(2024, 1, 1), utc(2024, 2, 1)) == [
        utc(2024, 1, 1, 0),
        utc(2024, 1, 1, 1),
        utc(2024, 1, 1, 2),
    ]
    assert s.next_after(utc(2024, 1, 1, 2)) is None


# ------------------------------------------------------------------ splitting across locations


def test_split_ten_minutes_into_two_twenty_minute_halves_offset_by_ten() -> None:
    # The seed's example: every 10 minutes becomes 20 minutes from 9:00 here and from 9:10 there.
    s = schedule(frequency="Minute", interval=10, startTime="2024-01-01T09:00:00Z")
    primary, secondary = s.split(2, 0), s.split(2, 1)
    window = (utc(2024, 1, 1, 9), utc(2024, 1, 1, 10))
    assert between(primary, *window) == [utc(2024, 1, 1, 9, m) for m in (0, 20, 40)]
    assert between(secondary, *window) == [utc(2024, 1, 1, 9, m) for m in (10, 30, 50)]


def test_split_of_a_schedule_with_hours_alternates_occurrences() -> None:
    s = schedule(
        frequency="Week",
        interval=1,
        startTime="2024-01-01T00:00:00Z",
        schedule={"hours": [10, 12, 14], "minutes": [30], "weekDays": ["Monday", "Thursday"]},
    )
    window = (utc(2024, 1, 1), utc(2024, 3, 1))
    everything = between(s, *window)
    shares = [between(s.split(3, index), *window) for index in range(3)]
    for index, share in enumerate(shares):
        assert share == everything[index::3]


def test_splitting_a_share_again_partitions_it() -> None:
    s = schedule(frequency="Minute", interval=5, startTime="2024-01-01T00:00:00Z")
    half = s.split(2, 1)
    window = (utc(2024, 1, 1), utc(2024, 1, 2))
    quarters = [between(half.split(2, i), *window) for i in range(2)]
    assert sorted(quarters[0] + quarters[1]) == between(half, *window)
    assert not set(quarters[0]) & set(quarters[1])


@pytest.mark.parametrize(("parts", "index"), [(0, 0), (2, 2), (2, -1)])
def test_split_rejects_bad_parts(parts: int, index: int) -> None:
    s = schedule(frequency="Minute", interval=5, startTime="2024-01-01T00:00:00Z")
    with pytest.raises(InputError, match="split"):
        s.split(parts, index)


# ------------------------------------------------------------------ keys


def test_occurrence_key_is_stable_and_names_the_instant_in_utc() -> None:
    when = datetime(2024, 1, 1, 10, 0, tzinfo=UTC)
    same = when.astimezone(datetime(2024, 1, 1, tzinfo=UTC).astimezone().tzinfo)
    assert occurrence_key("wf", "Recurrence", when) == occurrence_key("wf", "Recurrence", same)
    assert occurrence_key("wf", "Recurrence", when) == "recurrence/wf/Recurrence/2024-01-01T10:00:00.000000Z"


def test_occurrence_keys_cannot_collide_through_names() -> None:
    when = utc(2024, 1, 1)
    assert occurrence_key("a/b", "c", when) != occurrence_key("a", "b/c", when)


def test_naive_instants_are_refused() -> None:
    s = schedule(frequency="Minute", interval=5, startTime="2024-01-01T00:00:00Z")
    with pytest.raises(InputError, match="timezone-aware"):
        s.next_after(datetime(2024, 1, 1))


# ------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    ("recurrence", "message"),
    [
        ({"frequency": "Day", "interval": 0}, "/recurrence/interval: expected a positive integer"),
        ({"frequency": "Day", "interval": "1"}, "/recurrence/interval: expected a positive integer"),
        ({"frequency": "Day", "interval": True}, "/recurrence/interval: expected a positive integer"),
        ({"frequency": "Week", "interval": 72}, "/recurrence/interval: at most 71"),
        ({"frequency": "Year", "interval": 1}, "/recurrence/frequency: expected one of"),
        ({"interval": 1}, "/recurrence/frequency: expected one of"),
        (
            {"frequency": "Day", "interval": 1, "timeZone": "Mars Standard Time"},
            "/recurrence/timeZone: unknown",
        ),
        (
            {"frequency": "Day", "interval": 1, "startTime": "tomorrow"},
            "/recurrence/startTime: 'tomorrow' is not",
        ),
        (
            {"frequency": "Day", "interval": 1, "schedule": {"hours": [24]}},
            "/recurrence/schedule/hours/0: expected",
        ),
        (
            {"frequency": "Day", "interval": 1, "schedule": {"minutes": 60}},
            "/recurrence/schedule/minutes: expected",
        ),
        (
            {"frequency": "Week", "interval": 1, "schedule": {"weekDays": ["Funday"]}},
            "/schedule/weekDays/0: expected",
        ),
        (
            {"frequency": "Month", "interval": 1, "schedule": {"monthDays": [0]}},
            "/schedule/monthDays/0: expected",
        ),
        (
            {"frequency": "Day", "interval": 1, "schedule": {"hour": [1]}},
            "/schedule/hour: unknown schedule property",
        ),
        ({"frequency": "Day", "interval": 1, "schedule": []}, "/recurrence/schedule: expected an object"),
        (
            {
                "frequency": "Month",
                "interval": 1,
                "schedule": {"monthlyOccurrences": [{"day": "Friday", "occurrence": 6}]},
            },
            "/schedule/monthlyOccurrences/0/occurrence: expected",
        ),
        (
            {
                "frequency": "Day",
                "interval": 1,
                "startTime": "2024-01-02T00:00:00Z",
                "endTime": "2024-01-01T00:00:00Z",
            },
            "/recurrence/endTime: must not be before",
        ),
        ("daily", "/recurrence: expected an object"),
    ],
)
def test_bad_recurrence_values_name_their_json_pointer(recurrence: Any, message: str) -> None:
    with pytest.raises(InputError, match=r"^/recurrence") as caught:
        RecurrenceSchedule.from_definition(recurrence, anchor=utc(2024, 1, 1))
    assert message in caught.value.message


def test_missing_start_time_and_anchor_is_an_input_error() -> None:
    with pytest.raises(InputError, match="/recurrence/startTime: required"):
        RecurrenceSchedule.from_definition({"frequency": "Day", "interval": 1})


def test_frequency_is_case_insensitive_and_pointer_is_configurable() -> None:
    s = RecurrenceSchedule.from_definition(
        {"frequency": "dAY", "interval": 1}, anchor=utc(2024, 1, 1), pointer="/triggers/Recurrence/recurrence"
    )
    assert s.next_after(utc(2024, 1, 1)) == utc(2024, 1, 2)
    with pytest.raises(InputError, match=r"^/triggers/Recurrence/recurrence/interval"):
        RecurrenceSchedule.from_definition(
            {"frequency": "Day", "interval": -1},
            anchor=utc(2024, 1, 1),
            pointer="/triggers/Recurrence/recurrence",
        )


# ------------------------------------------------------------------ properties

ZONES = ["UTC", "Pacific Standard Time", "W. Europe Standard Time", "Australia/Sydney"]

recurrences = st.one_of(
    st.builds(
        lambda frequency, interval: {"frequency": frequency, "interval": interval},
        st.sampled_from(["Second", "Minute", "Hour", "Day", "Week", "Month"]),
        st.integers(1, 16),
    ),
    st.builds(
        lambda frequency, interval, hours, minutes, days: {
            "frequency": frequency,
            "interval": interval,
            "schedule": {"hours": hours, "minutes": minutes, "weekDays": days, "monthDays": [-1, 1, 15, 31]},
        },
        st.sampled_from(["Day", "Week", "Month"]),
        st.integers(1, 3),
        st.lists(st.integers(0, 23), min_size=1, max_size=4),
        st.lists(st.integers(0, 59), min_size=1, max_size=3),
        st.lists(st.sampled_from(["Monday", "Wednesday", "Sunday"]), min_size=1, max_size=3),
    ),
)
instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)


def build(recurrence: dict[str, Any], zone: str, start: datetime, explicit: bool) -> RecurrenceSchedule:
    definition = dict(recurrence, timeZone=zone)
    if explicit:
        definition["startTime"] = start.astimezone(UTC).replace(tzinfo=None).isoformat()
        return RecurrenceSchedule.from_definition(definition)
    return RecurrenceSchedule.from_definition(definition, anchor=start)


@settings(max_examples=80, deadline=None)
@given(recurrences, st.sampled_from(ZONES), instants, instants, st.booleans())
def test_occurrences_strictly_increase_and_next_after_is_later(
    recurrence: dict[str, Any], zone: str, start: datetime, probe: datetime, explicit: bool
) -> None:
    s = build(recurrence, zone, start, explicit)
    following = s.next_after(probe)
    assert following is not None and following > probe
    assert s.first_on_or_after(probe) is not None
    assert s.first_on_or_after(probe) <= following  # type: ignore[operator]
    found = list(islice(s.occurrences_between(probe, datetime.max.replace(tzinfo=UTC)), 30))
    assert all(a < b for a, b in pairwise(found))
    assert all(s.next_after(a) == b for a, b in pairwise(found))


@settings(max_examples=60, deadline=None)
@given(recurrences, st.sampled_from(ZONES), instants, st.integers(2, 3), st.booleans())
def test_split_shares_are_disjoint_and_together_are_the_original(
    recurrence: dict[str, Any], zone: str, start: datetime, parts: int, explicit: bool
) -> None:
    s = build(recurrence, zone, start, explicit)
    origin = start - timedelta(seconds=1)
    everything = list(islice(s.occurrences_between(origin, datetime.max.replace(tzinfo=UTC)), 24))
    horizon = everything[-1] + timedelta(microseconds=1)
    shares = [set(s.split(parts, index).occurrences_between(origin, horizon)) for index in range(parts)]
    assert sum(len(share) for share in shares) == len(everything)
    assert set().union(*shares) == set(everything)
