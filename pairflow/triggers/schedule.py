"""When a Recurrence trigger fires: its occurrences as a pure function of time.

Owns reading and validating a trigger's `recurrence` object and computing its occurrences as
aware UTC datetimes. Calendar arithmetic (days, weeks, months, the hours and minutes of a
`schedule`) happens in the schedule's time zone, so daylight-saving changes behave as Logic Apps
documents: a local time that does not exist (spring forward) fires at the same UTC instant the
previous day's offset gives, i.e. one hour later on the wall clock; a local time that occurs twice
(fall back) fires once, at its first instant. Seconds, minutes and hours are elapsed time.

Also owns splitting a schedule across locations (active-passive disaster recovery: "a 20-minute
recurrence at 9:00 here, a 20-minute recurrence at 9:10 there") and the text key that makes each
occurrence fire once. Never reads the clock: the caller passes `now` and, when the definition has
no `startTime`, the deployment time as `anchor`.
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from itertools import takewhile
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from pairflow.errors import InputError
from pairflow.jsontypes import JSON

__all__ = [
    "Frequency",
    "RecurrenceSchedule",
    "occurrence_key",
    "parse_date_time",
    "parse_frequency",
    "parse_interval",
    "resolve_time_zone",
]


class Frequency(enum.Enum):
    """The unit of a recurrence's interval, spelled as in the definition."""

    SECOND = "Second"
    MINUTE = "Minute"
    HOUR = "Hour"
    DAY = "Day"
    WEEK = "Week"
    MONTH = "Month"

    @property
    def seconds(self) -> int | None:
        """Fixed length in seconds for elapsed-time units; None for calendar units."""
        return _UNIT_SECONDS.get(self)


_UNIT_SECONDS = {Frequency.SECOND: 1, Frequency.MINUTE: 60, Frequency.HOUR: 3600}

# The documented bounds of `interval` per frequency (Recurrence trigger reference).
MAX_INTERVAL = {
    Frequency.SECOND: 9_999_999,
    Frequency.MINUTE: 72_000,
    Frequency.HOUR: 12_000,
    Frequency.DAY: 500,
    Frequency.WEEK: 71,
    Frequency.MONTH: 16,
}

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# Which `schedule` properties each frequency honours; the rest are ignored, as documented
# ("applies only when frequency is Day or Week" for hours/minutes, "Week" for weekDays;
# monthDays/monthlyOccurrences and hours for Month per the examples "last day of month" and
# "every hour for one day per month").
_SCHEDULE_KEYS = ("hours", "minutes", "weekDays", "monthDays", "monthlyOccurrences")
_HONOURED = {
    Frequency.DAY: {"hours", "minutes"},
    Frequency.WEEK: {"hours", "minutes", "weekDays"},
    Frequency.MONTH: {"hours", "minutes", "monthDays", "monthlyOccurrences"},
}

# A schedule whose days never exist (monthDays [31] every 12 months from February) stops after
# this many consecutive periods without a slot instead of looping forever.
_MAX_EMPTY_PERIODS = 4_800  # periods: 400 years of months, one Gregorian cycle

_LAST_YEAR = 9_998  # stop before datetime's range ends
_LAST_ORDINAL = date(_LAST_YEAR, 12, 31).toordinal()


def resolve_time_zone(name: str, pointer: str) -> str:
    """The IANA key for a Windows zone id ("Pacific Standard Time") or an IANA name.

    Uses the shared Windows→IANA table of the expression functions, imported here rather than at
    the top because importing it loads the whole function library, which a schedule in UTC never
    needs.
    """
    from pairflow.expressions.functions.windows_zones import resolve_zone

    try:
        return resolve_zone(name).key
    except InputError:
        raise InputError(f"{pointer}: unknown time zone '{name}'") from None


def parse_date_time(value: JSON, zone: ZoneInfo, pointer: str) -> tuple[datetime, bool]:
    """An ISO 8601 date-time as an aware UTC instant, and whether it carried Z or an offset.

    Without Z or an offset the text is a wall time in `zone` (a nonexistent one shifts forward,
    an ambiguous one takes its first instant).
    """
    if not isinstance(value, str):
        raise InputError(f"{pointer}: expected an ISO 8601 date-time string")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"{pointer}: '{value}' is not an ISO 8601 date-time") from None
    if parsed.tzinfo is not None:
        return parsed.astimezone(UTC), True
    return _to_utc(parsed, zone), False


def _to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """A naive wall time in `zone` as a UTC instant, with fold=0.

    fold=0 applies the offset in force before a transition: in a spring-forward gap that moves
    the wall time forward by the gap (02:30 CST → 03:30 CDT, the same UTC instant as 02:30 CST,
    exactly the documented table), and in a fall-back overlap it picks the first instant only.
    """
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _require_aware(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise InputError(f"instant {instant.isoformat()} must be timezone-aware")
    return instant.astimezone(UTC)


def occurrence_key(workflow: str, trigger: str, when: datetime) -> str:
    """Stable text naming one occurrence, unique per (workflow, trigger, instant).

    Used as a unique key in the store so an occurrence fires once across restarts and locations.
    Names are percent-encoded so no name can forge another's key; the instant is UTC to the
    microsecond.
    """
    instant = _require_aware(when)
    stamp = instant.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return f"recurrence/{quote(workflow, safe='')}/{quote(trigger, safe='')}/{stamp}"


@dataclass(frozen=True)
class RecurrenceSchedule:
    """A validated recurrence and the arithmetic of its occurrences.

    `start` is the first possible occurrence (startTime, or the anchor when there is none).
    Without an advanced schedule the occurrences are start + k·interval. With one (`advanced`),
    each period of `interval` days/weeks/months offers the local slots date × hours × minutes, and
    an occurrence is every slot not before `start`; with no startTime the anchor itself also
    fires ("runs the first workload instantly"). `parts`/`part` keep occurrence k only when
    k ≡ part (mod parts): see `split`.
    """

    frequency: Frequency
    interval: int
    start: datetime
    time_zone: str = "UTC"
    immediate: bool = False
    advanced: bool = False
    hours: tuple[int, ...] = ()
    minutes: tuple[int, ...] = ()
    second: int = 0
    week_days: tuple[int, ...] = ()
    month_days: tuple[int, ...] = ()
    monthly_occurrences: tuple[tuple[int, int], ...] = ()
    end: datetime | None = None
    parts: int = 1
    part: int = 0

    # ---------------------------------------------------------------- construction

    @classmethod
    def from_definition(
        cls,
        recurrence: JSON,
        *,
        anchor: datetime | None = None,
        pointer: str = "/recurrence",
    ) -> RecurrenceSchedule:
        """Validate a `recurrence` object; `anchor` (deployment time) stands in for startTime."""
        if not isinstance(recurrence, dict):
            raise InputError(f"{pointer}: expected an object")
        frequency = parse_frequency(recurrence.get("frequency"), f"{pointer}/frequency")
        interval = parse_interval(recurrence.get("interval"), frequency, f"{pointer}/interval")
        zone_name = "UTC"
        raw_zone = recurrence.get("timeZone")
        if raw_zone is not None:
            if not isinstance(raw_zone, str) or not raw_zone.strip():
                raise InputError(f"{pointer}/timeZone: expected a time zone name")
            zone_name = resolve_time_zone(raw_zone, f"{pointer}/timeZone")
        raw_start = recurrence.get("startTime")
        if raw_start is not None and raw_start != "":
            start, absolute = parse_date_time(raw_start, ZoneInfo(zone_name), f"{pointer}/startTime")
            if absolute:
                # Documented: a startTime ending in Z (or any offset) makes Logic Apps ignore
                # the timeZone value; the whole recurrence is then computed in UTC.
                zone_name = "UTC"
            immediate = False
        elif anchor is None:
            raise InputError(f"{pointer}/startTime: required when no anchor (deployment time) is given")
        else:
            start, immediate = _require_aware(anchor), True
        zone = ZoneInfo(zone_name)
        end = None
        if recurrence.get("endTime") not in (None, ""):
            end, _ = parse_date_time(recurrence["endTime"], zone, f"{pointer}/endTime")
            if end < start:
                raise InputError(f"{pointer}/endTime: must not be before the start")
        schedule = _parse_schedule(recurrence.get("schedule"), f"{pointer}/schedule")
        honoured = _HONOURED.get(frequency, set())
        advanced = any(schedule[key] for key in honoured)
        local = start.astimezone(zone)
        return cls(
            frequency=frequency,
            interval=interval,
            start=start,
            time_zone=zone_name,
            immediate=immediate,
            advanced=advanced,
            # Documented: "if you don't specify hours or minutes for the schedule, future run
            # times are calculated using the hours or minutes from the first run time".
            hours=tuple(schedule["hours"]) or (local.hour,),
            minutes=tuple(schedule["minutes"]) or (local.minute,),
            second=local.second,
            week_days=tuple(schedule["weekDays"]) or (local.weekday(),),
            month_days=tuple(schedule["monthDays"])
            or (() if schedule["monthlyOccurrences"] else (local.day,)),
            monthly_occurrences=tuple(schedule["monthlyOccurrences"]),
            end=end,
        )

    def split(self, parts: int, index: int) -> RecurrenceSchedule:
        """The share of this schedule that location `index` of `parts` fires.

        Occurrence k (counted from the first) goes to location k mod parts, so the shares are
        disjoint and together give exactly the original occurrences. For a simple schedule this
        is "every parts·interval, offset by index·interval"; splitting a share splits it again.
        """
        if isinstance(parts, bool) or not isinstance(parts, int) or parts < 1:
            raise InputError(f"split: parts must be a positive integer, got {parts!r}")
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < parts:
            raise InputError(f"split: index must be in 0..{parts - 1}, got {index!r}")
        return replace(self, parts=self.parts * parts, part=self.part + index * self.parts)

    # ---------------------------------------------------------------- queries

    def next_after(self, instant: datetime) -> datetime | None:
        """The first occurrence strictly after `instant`; None once past endTime.

        A Recurrence trigger does not catch up: a scheduler that wakes late fires
        `next_after(now)` and skips what it missed, as documented.
        """
        return next(self._occurrences(_require_aware(instant), inclusive=False), None)

    def first_on_or_after(self, instant: datetime) -> datetime | None:
        """The first occurrence at or after `instant`; None once past endTime."""
        return next(self._occurrences(_require_aware(instant), inclusive=True), None)

    def occurrences_between(self, start: datetime, end: datetime) -> Iterator[datetime]:
        """Occurrences in the half-open range [start, end), ascending."""
        stop = _require_aware(end)
        found = self._occurrences(_require_aware(start), inclusive=True)
        return takewhile(lambda when: when < stop, found)

    def indexed_after(self, instant: datetime) -> Iterator[tuple[int, datetime]]:
        """(occurrence index, instant) of the unsplit schedule strictly after `instant`."""
        return self._base(_require_aware(instant), inclusive=False)

    # ---------------------------------------------------------------- internals

    @cached_property
    def _zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @cached_property
    def _local_start(self) -> datetime:
        """The start as a naive wall time in the schedule's zone."""
        return self.start.astimezone(self._zone).replace(tzinfo=None, fold=0)

    def _occurrences(self, instant: datetime, *, inclusive: bool) -> Iterator[datetime]:
        for index, when in self._base(instant, inclusive=inclusive):
            if self.end is not None and when > self.end:
                return
            if index % self.parts == self.part:
                yield when

    def _base(self, instant: datetime, *, inclusive: bool) -> Iterator[tuple[int, datetime]]:
        def wanted(when: datetime) -> bool:
            return when > instant or (inclusive and when == instant)

        if self.advanced:
            yield from self._advanced(instant, wanted)
        else:
            yield from self._simple(instant, wanted)

    # -- simple: start + k·interval

    def _simple_at(self, k: int) -> datetime:
        if k == 0:
            return self.start
        unit = self.frequency.seconds
        if unit is not None:
            return self.start + timedelta(seconds=k * self.interval * unit)
        local = self._local_start
        if self.frequency is Frequency.DAY:
            local = local + timedelta(days=k * self.interval)
        elif self.frequency is Frequency.WEEK:
            local = local + timedelta(weeks=k * self.interval)
        else:
            local = _add_months(local, k * self.interval)
        return _to_utc(local, self._zone)

    def _simple_estimate(self, instant: datetime) -> int:
        """An occurrence index at or just before `instant` (never after the first one past it)."""
        unit = self.frequency.seconds
        if unit is not None:
            return (instant - self.start) // timedelta(seconds=self.interval * unit)
        local = instant.astimezone(self._zone).replace(tzinfo=None)
        if self.frequency is Frequency.DAY:
            return (local - self._local_start) // timedelta(days=self.interval)
        if self.frequency is Frequency.WEEK:
            return (local - self._local_start) // timedelta(weeks=self.interval)
        months = (local.year - self._local_start.year) * 12 + local.month - self._local_start.month
        return months // self.interval

    def _simple(
        self, instant: datetime, wanted: Callable[[datetime], bool]
    ) -> Iterator[tuple[int, datetime]]:
        k = max(0, self._simple_estimate(instant) - 1)
        # Jump straight to this share's residue so a split schedule costs no extra steps.
        k += (self.part - k) % self.parts
        step = self.parts
        while True:
            if self.frequency is Frequency.MONTH and self._month_number(k) // 12 > _LAST_YEAR:
                return
            try:
                when = self._simple_at(k)
            except OverflowError:  # past datetime's range: the schedule has no more occurrences
                return
            if wanted(when):
                yield k, when
            k += step

    def _month_number(self, k: int) -> int:
        return self._local_start.year * 12 + self._local_start.month - 1 + k * self.interval

    # -- advanced: periods of interval days/weeks/months, each with local slots

    def _period_dates(self, period: int) -> list[date]:
        base = self._local_start.date()
        if self.frequency is Frequency.DAY:
            return [base + timedelta(days=period * self.interval)]
        if self.frequency is Frequency.WEEK:
            monday = base - timedelta(days=base.weekday()) + timedelta(weeks=period * self.interval)
            return [monday + timedelta(days=day) for day in sorted(set(self.week_days))]
        year, month0 = divmod(self._month_number(period), 12)
        return _month_dates(year, month0 + 1, self.month_days, self.monthly_occurrences)

    def _period_size(self, period: int) -> int:
        """How many local slots the period offers (before daylight-saving merges any)."""
        per_day = len(self.hours) * len(self.minutes)
        if self.frequency is Frequency.MONTH:
            return len(self._period_dates(period)) * per_day
        return len(self._period_dates(0)) * per_day

    def _slots_before(self, period: int) -> int:
        if self.frequency is Frequency.MONTH:
            return sum(self._period_size(earlier) for earlier in range(period))
        return period * self._period_size(0)

    def _period_slots(self, period: int) -> list[tuple[datetime, int]]:
        """(UTC instant, position of its first local slot) for a period, ascending.

        Two wall times can land on one instant (a gap-shifted 02:30 onto 03:30); it fires once,
        under the earlier slot's position.
        """
        first: dict[datetime, int] = {}
        position = 0
        for day in self._period_dates(period):
            for hour in sorted(set(self.hours)):
                for minute in sorted(set(self.minutes)):
                    local = datetime(day.year, day.month, day.day, hour, minute, self.second)
                    first.setdefault(_to_utc(local, self._zone), position)
                    position += 1
        return sorted(first.items())

    def _period_of(self, instant: datetime) -> int:
        day = instant.astimezone(self._zone).date()
        base = self._local_start.date()
        if self.frequency is Frequency.DAY:
            return (day - base).days // self.interval
        if self.frequency is Frequency.WEEK:
            weeks = ((day - timedelta(days=day.weekday())) - (base - timedelta(days=base.weekday()))).days
            return weeks // (7 * self.interval)
        months = (day.year - base.year) * 12 + day.month - base.month
        return months // self.interval

    def _beyond_calendar(self, period: int) -> bool:
        """Whether the period would start after the last year datetime can hold."""
        if self.frequency is Frequency.MONTH:
            return self._month_number(period) // 12 > _LAST_YEAR
        days = period * self.interval * (7 if self.frequency is Frequency.WEEK else 1)
        return self._local_start.toordinal() + days > _LAST_ORDINAL

    @cached_property
    def _first_position(self) -> int:
        """Local position of the first slot not before start; occurrence indexes count from it."""
        positions = [pos for when, pos in self._period_slots(0) if when >= self.start]
        return min(positions, default=self._period_size(0))

    @cached_property
    def _anchor_is_extra(self) -> bool:
        """Without startTime the anchor fires at once, adding an occurrence unless it is a slot."""
        return self.immediate and all(when != self.start for when, _ in self._period_slots(0))

    def _advanced(
        self, instant: datetime, wanted: Callable[[datetime], bool]
    ) -> Iterator[tuple[int, datetime]]:
        extra = 1 if self._anchor_is_extra else 0
        if extra and wanted(self.start):
            yield 0, self.start
        period = max(0, self._period_of(instant) - 1)
        before = self._slots_before(period) - self._first_position + extra
        empty = 0
        while empty < _MAX_EMPTY_PERIODS and not self._beyond_calendar(period):
            slots = self._period_slots(period)
            empty = 0 if slots else empty + 1
            for when, position in slots:
                if when >= self.start and wanted(when):
                    yield before + position, when
            before += self._period_size(period)
            period += 1


def _add_months(local: datetime, months: int) -> datetime:
    """Same day-of-month `months` later, clamped to the month's last day (Jan 31 → Feb 28/29)."""
    year, month0 = divmod(local.year * 12 + local.month - 1 + months, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return local.replace(year=year, month=month0 + 1, day=min(local.day, last))


def _month_dates(
    year: int, month: int, month_days: tuple[int, ...], occurrences: tuple[tuple[int, int], ...]
) -> list[date]:
    """The days of a month picked by monthDays (−1 = last) and monthlyOccurrences."""
    length = calendar.monthrange(year, month)[1]
    days: set[int] = set()
    for day in month_days:
        resolved = day if day > 0 else length + 1 + day
        if 1 <= resolved <= length:
            days.add(resolved)
    for weekday, nth in occurrences:
        matching = [day for day in range(1, length + 1) if date(year, month, day).weekday() == weekday]
        if nth <= len(matching) and -nth <= len(matching):
            days.add(matching[nth - 1] if nth > 0 else matching[nth])
    return [date(year, month, day) for day in sorted(days)]


# -------------------------------------------------------------------- validation


def parse_frequency(
    value: JSON, pointer: str, allowed: tuple[Frequency, ...] = tuple(Frequency)
) -> Frequency:
    """The frequency, matched case-insensitively against `allowed`."""
    names = ", ".join(item.value for item in allowed)
    if isinstance(value, str):
        for item in allowed:
            if item.value.lower() == value.strip().lower():
                return item
    raise InputError(f"{pointer}: expected one of {names}, got {value!r}")


def parse_interval(value: JSON, frequency: Frequency, pointer: str) -> int:
    """The interval, a positive integer within the documented bound for the frequency."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"{pointer}: expected a positive integer, got {value!r}")
    limit = MAX_INTERVAL[frequency]
    if value > limit:
        raise InputError(f"{pointer}: at most {limit} for frequency {frequency.value}, got {value}")
    return value


def _int_list(value: JSON, low: int, high: int, pointer: str, *, zero: bool = True) -> list[int]:
    items = value if isinstance(value, list) else [value]
    result: list[int] = []
    for position, item in enumerate(items):
        where = f"{pointer}/{position}" if isinstance(value, list) else pointer
        if (
            isinstance(item, bool)
            or not isinstance(item, int)
            or not low <= item <= high
            or (not zero and item == 0)
        ):
            bounds = f"{low}..{high}" + ("" if zero else " except 0")
            raise InputError(f"{where}: expected an integer in {bounds}, got {item!r}")
        result.append(item)
    return sorted(set(result))


def _weekday(value: JSON, pointer: str) -> int:
    if isinstance(value, str) and value.strip().lower() in WEEKDAYS:
        return WEEKDAYS.index(value.strip().lower())
    raise InputError(f"{pointer}: expected a day name such as 'Monday', got {value!r}")


def _parse_schedule(value: JSON, pointer: str) -> dict[str, list[Any]]:
    """The schedule's lists, empty where absent; null and [] count as absent."""
    parsed: dict[str, list[Any]] = {key: [] for key in _SCHEDULE_KEYS}
    if value is None:
        return parsed
    if not isinstance(value, dict):
        raise InputError(f"{pointer}: expected an object")
    for key, item in value.items():
        where = f"{pointer}/{key}"
        if key not in _SCHEDULE_KEYS:
            raise InputError(
                f"{where}: unknown schedule property (expected one of {', '.join(_SCHEDULE_KEYS)})"
            )
        if item is None or item == []:
            continue
        if key == "hours":
            parsed[key] = _int_list(item, 0, 23, where)
        elif key == "minutes":
            parsed[key] = _int_list(item, 0, 59, where)
        elif key == "monthDays":
            parsed[key] = _int_list(item, -31, 31, where, zero=False)
        elif key == "weekDays":
            items = item if isinstance(item, list) else [item]
            days = {
                _weekday(day, f"{where}/{index}" if isinstance(item, list) else where)
                for index, day in enumerate(items)
            }
            parsed[key] = sorted(days)
        else:
            parsed[key] = _monthly_occurrences(item, where)
    return parsed


def _monthly_occurrences(value: JSON, pointer: str) -> list[tuple[int, int]]:
    if not isinstance(value, list):
        raise InputError(f"{pointer}: expected an array of {{day, occurrence}} objects")
    result: set[tuple[int, int]] = set()
    for index, item in enumerate(value):
        where = f"{pointer}/{index}"
        if not isinstance(item, dict):
            raise InputError(f"{where}: expected an object with day and occurrence")
        weekday = _weekday(item.get("day"), f"{where}/day")
        nth = item.get("occurrence")
        if isinstance(nth, bool) or not isinstance(nth, int) or not 1 <= abs(nth) <= 5:
            raise InputError(f"{where}/occurrence: expected an integer in 1..5 or -5..-1, got {nth!r}")
        result.add((weekday, nth))
    return sorted(result)
