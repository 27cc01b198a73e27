"""Date and time functions of the Logic Apps expression language (addDays … utcNow).

Timestamps are strings in and strings out, read and printed as .NET does (`dotnet_format`): the
default output is the round-trip "o" format with seven fraction digits, "Z" only when the value is
UTC. A timestamp with an offset is normalised to UTC; one without stays zone-less ("Unspecified").
Time zones are Windows ids or IANA names (`windows_zones`). The clock comes from the
`WorkflowContext`, so runs and tests control `utcNow()`.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pairflow.errors import ExpressionEvaluationError
from pairflow.expressions.context import WorkflowContext
from pairflow.expressions.functions import args
from pairflow.expressions.functions.dotnet_format import (
    DEFAULT_CULTURE,
    TICKS_PER_DAY,
    TICKS_PER_HOUR,
    TICKS_PER_MINUTE,
    TICKS_PER_SECOND,
    DotNetDateTime,
    culture,
    format_datetime,
    parse_datetime,
    parse_exact,
)
from pairflow.expressions.functions.windows_zones import is_utc, resolve_zone
from pairflow.expressions.registry import function
from pairflow.jsontypes import JSON

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_FORMAT = "o"
_FIXED_UNITS = {  # ticks per unit
    "second": TICKS_PER_SECOND,
    "minute": TICKS_PER_MINUTE,
    "hour": TICKS_PER_HOUR,
    "day": TICKS_PER_DAY,
    "week": 7 * TICKS_PER_DAY,
}
_CALENDAR_UNITS = {"month": 1, "year": 12}  # months per unit
_UNIT_NAMES = "Second, Minute, Hour, Day, Week, Month, Year"


def _named(name: str) -> Callable[[F], F]:
    """Prefix a failure of the wrapped function with the function's name, the way Logic Apps does."""

    def decorate(impl: F) -> F:
        @wraps(impl)
        def run(*arguments: Any) -> Any:
            try:
                return impl(*arguments)
            except ExpressionEvaluationError as error:
                if error.cause.startswith("The template language function"):
                    raise
                raise ExpressionEvaluationError(
                    f"The template language function '{name}' failed: {error.cause}"
                ) from None

        return run  # type: ignore[return-value]

    return decorate


def _timestamp(value: JSON, name: str, index: int = 0) -> DotNetDateTime:
    return parse_datetime(args.text(value, name, index))


def _render(value: DotNetDateTime, fmt: JSON, name: str, index: int) -> str:
    if fmt is None:
        return format_datetime(value, DEFAULT_FORMAT)
    pattern = args.text(fmt, name, index)
    return format_datetime(value, pattern or DEFAULT_FORMAT)


def _now(context: WorkflowContext | None) -> DotNetDateTime:
    now = context.now() if context is not None else datetime.now(UTC)
    if now.tzinfo is not None:
        now = now.astimezone(UTC)
    return DotNetDateTime.from_datetime(now, utc=True)


def _add_fraction(value: DotNetDateTime, amount: int | float, ticks_per_unit: int) -> DotNetDateTime:
    """`DateTime.AddDays` and kin: whole amounts exactly, fractional ones rounded to the millisecond."""
    if isinstance(amount, int):
        return value.add_ticks(amount * ticks_per_unit)
    millis_per_unit = ticks_per_unit // 10_000
    millis = int(amount * millis_per_unit + (0.5 if amount >= 0 else -0.5))
    return value.add_ticks(millis * 10_000)


def _add_months(value: DotNetDateTime, months: int) -> DotNetDateTime:
    """`DateTime.AddMonths`: the day is clamped to the end of the target month (Jan 31 + 1 → Feb 28)."""
    wall = value.to_datetime()
    year, month0 = divmod(wall.year * 12 + wall.month - 1 + months, 12)
    if not 1 <= year <= 9999:
        raise ExpressionEvaluationError(
            "The resulting date and time is outside the supported range 0001-01-01 to 9999-12-31"
        )
    day = min(wall.day, calendar.monthrange(year, month0 + 1)[1])
    return DotNetDateTime.from_datetime(
        wall.replace(year=year, month=month0 + 1, day=day), value.utc, value.sub_ticks
    )


def _add_units(value: DotNetDateTime, interval: int, unit: str) -> DotNetDateTime:
    key = unit.strip().lower()
    if key in _FIXED_UNITS:
        return value.add_ticks(interval * _FIXED_UNITS[key])
    if key in _CALENDAR_UNITS:
        return _add_months(value, interval * _CALENDAR_UNITS[key])
    raise ExpressionEvaluationError(f"The time unit '{unit}' is not valid; use one of {_UNIT_NAMES}")


def _shift(name: str, timestamp: JSON, amount: JSON, fmt: JSON, ticks_per_unit: int) -> str:
    value = _timestamp(timestamp, name)
    return _render(_add_fraction(value, args.number(amount, name, 1), ticks_per_unit), fmt, name, 2)


@function("addDays", 2, 3)
@_named("addDays")
def add_days(timestamp: JSON, days: JSON, fmt: JSON = None) -> str:
    return _shift("addDays", timestamp, days, fmt, TICKS_PER_DAY)


@function("addHours", 2, 3)
@_named("addHours")
def add_hours(timestamp: JSON, hours: JSON, fmt: JSON = None) -> str:
    return _shift("addHours", timestamp, hours, fmt, TICKS_PER_HOUR)


@function("addMinutes", 2, 3)
@_named("addMinutes")
def add_minutes(timestamp: JSON, minutes: JSON, fmt: JSON = None) -> str:
    return _shift("addMinutes", timestamp, minutes, fmt, TICKS_PER_MINUTE)


@function("addSeconds", 2, 3)
@_named("addSeconds")
def add_seconds(timestamp: JSON, seconds: JSON, fmt: JSON = None) -> str:
    return _shift("addSeconds", timestamp, seconds, fmt, TICKS_PER_SECOND)


@function("addToTime", 3, 4)
@_named("addToTime")
def add_to_time(timestamp: JSON, interval: JSON, unit: JSON, fmt: JSON = None) -> str:
    value = _timestamp(timestamp, "addToTime")
    amount = args.integer(interval, "addToTime", 1)
    return _render(_add_units(value, amount, args.text(unit, "addToTime", 2)), fmt, "addToTime", 3)


@function("subtractFromTime", 3, 4)
@_named("subtractFromTime")
def subtract_from_time(timestamp: JSON, interval: JSON, unit: JSON, fmt: JSON = None) -> str:
    name = "subtractFromTime"
    value = _timestamp(timestamp, name)
    amount = args.integer(interval, name, 1)
    return _render(_add_units(value, -amount, args.text(unit, name, 2)), fmt, name, 3)


@function("getFutureTime", 2, 3, context=True)
@_named("getFutureTime")
def get_future_time(context: WorkflowContext | None, interval: JSON, unit: JSON, fmt: JSON = None) -> str:
    name = "getFutureTime"
    amount = args.integer(interval, name, 0)
    return _render(_add_units(_now(context), amount, args.text(unit, name, 1)), fmt, name, 2)


@function("getPastTime", 2, 3, context=True)
@_named("getPastTime")
def get_past_time(context: WorkflowContext | None, interval: JSON, unit: JSON, fmt: JSON = None) -> str:
    name = "getPastTime"
    amount = args.integer(interval, name, 0)
    return _render(_add_units(_now(context), -amount, args.text(unit, name, 1)), fmt, name, 2)


@function("utcNow", 0, 1, context=True)
@_named("utcNow")
def utc_now(context: WorkflowContext | None, fmt: JSON = None) -> str:
    return _render(_now(context), fmt, "utcNow", 0)


# --- time zones ---------------------------------------------------------------------------------------


def _zone(value: JSON, name: str, index: int) -> ZoneInfo:
    return resolve_zone(args.text(value, name, index))


def _wall_to_utc(value: DotNetDateTime, zone: ZoneInfo) -> DotNetDateTime:
    """The UTC value of the wall-clock time `value` read in `zone`.

    As .NET's `TimeZoneInfo.ConvertTime`: an ambiguous time (the repeated hour when clocks go back)
    is taken as standard time, and a time skipped when clocks go forward is an error.
    """
    if is_utc(zone):
        return DotNetDateTime(value.ticks, utc=True)
    wall = value.to_datetime()
    local = wall.replace(tzinfo=zone, fold=1)
    try:
        utc = local.astimezone(UTC)
    except OverflowError:
        raise ExpressionEvaluationError(
            "The resulting date and time is outside the supported range 0001-01-01 to 9999-12-31"
        ) from None
    if utc.astimezone(zone).replace(tzinfo=None) != wall:
        raise ExpressionEvaluationError(
            f"The time {wall.isoformat()} does not exist in the time zone '{zone.key}' "
            "(it is skipped by a daylight saving change)"
        )
    return DotNetDateTime.from_datetime(utc, utc=True, sub_ticks=value.sub_ticks)


def _utc_to_wall(value: DotNetDateTime, zone: ZoneInfo) -> DotNetDateTime:
    if is_utc(zone):
        return DotNetDateTime(value.ticks, utc=True)
    try:
        local = value.to_datetime().replace(tzinfo=UTC).astimezone(zone)
    except OverflowError:
        raise ExpressionEvaluationError(
            "The resulting date and time is outside the supported range 0001-01-01 to 9999-12-31"
        ) from None
    return DotNetDateTime.from_datetime(local, utc=False, sub_ticks=value.sub_ticks)


@function("convertFromUtc", 2, 3)
@_named("convertFromUtc")
def convert_from_utc(timestamp: JSON, destination: JSON, fmt: JSON = None) -> str:
    name = "convertFromUtc"
    value = _timestamp(timestamp, name)
    return _render(_utc_to_wall(value, _zone(destination, name, 1)), fmt, name, 2)


@function("convertToUtc", 2, 3)
@_named("convertToUtc")
def convert_to_utc(timestamp: JSON, source: JSON, fmt: JSON = None) -> str:
    name = "convertToUtc"
    value = _timestamp(timestamp, name)
    return _render(_wall_to_utc(value, _zone(source, name, 1)), fmt, name, 2)


@function("convertTimeZone", 3, 4)
@_named("convertTimeZone")
def convert_time_zone(timestamp: JSON, source: JSON, destination: JSON, fmt: JSON = None) -> str:
    name = "convertTimeZone"
    value = _timestamp(timestamp, name)
    utc = _wall_to_utc(value, _zone(source, name, 1))
    return _render(_utc_to_wall(utc, _zone(destination, name, 2)), fmt, name, 3)


# --- parts, starts and differences --------------------------------------------------------------------


@function("dayOfMonth", 1)
@_named("dayOfMonth")
def day_of_month(timestamp: JSON) -> int:
    return _timestamp(timestamp, "dayOfMonth").to_datetime().day


@function("dayOfWeek", 1)
@_named("dayOfWeek")
def day_of_week(timestamp: JSON) -> int:
    """Sunday is 0, as .NET's `DayOfWeek`."""
    return (_timestamp(timestamp, "dayOfWeek").to_datetime().weekday() + 1) % 7


@function("dayOfYear", 1)
@_named("dayOfYear")
def day_of_year(timestamp: JSON) -> int:
    return _timestamp(timestamp, "dayOfYear").to_datetime().timetuple().tm_yday


@function("ticks", 1)
@_named("ticks")
def ticks(timestamp: JSON) -> int:
    """100-nanosecond intervals since 0001-01-01T00:00:00 (.NET `DateTime.Ticks`)."""
    return _timestamp(timestamp, "ticks").ticks


@function("startOfDay", 1, 2)
@_named("startOfDay")
def start_of_day(timestamp: JSON, fmt: JSON = None) -> str:
    value = _timestamp(timestamp, "startOfDay")
    return _render(value.add_ticks(-(value.ticks % TICKS_PER_DAY)), fmt, "startOfDay", 1)


@function("startOfHour", 1, 2)
@_named("startOfHour")
def start_of_hour(timestamp: JSON, fmt: JSON = None) -> str:
    value = _timestamp(timestamp, "startOfHour")
    return _render(value.add_ticks(-(value.ticks % TICKS_PER_HOUR)), fmt, "startOfHour", 1)


@function("startOfMonth", 1, 2)
@_named("startOfMonth")
def start_of_month(timestamp: JSON, fmt: JSON = None) -> str:
    value = _timestamp(timestamp, "startOfMonth")
    first = value.to_datetime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return _render(DotNetDateTime.from_datetime(first, value.utc), fmt, "startOfMonth", 1)


def format_timespan(ticks: int) -> str:
    """.NET `TimeSpan.ToString()`: [-][d.]hh:mm:ss[.fffffff]."""
    sign = "-" if ticks < 0 else ""
    days, rest = divmod(abs(ticks), TICKS_PER_DAY)
    hours, rest = divmod(rest, TICKS_PER_HOUR)
    minutes, rest = divmod(rest, TICKS_PER_MINUTE)
    seconds, fraction = divmod(rest, TICKS_PER_SECOND)
    text = f"{sign}{f'{days}.' if days else ''}{hours:02d}:{minutes:02d}:{seconds:02d}"
    return f"{text}.{fraction:07d}" if fraction else text


@function("dateDifference", 2)
@_named("dateDifference")
def date_difference(start: JSON, end: JSON) -> str:
    """`end - start` as a .NET TimeSpan string ("1268.00:00:00"); negative when start is later."""
    first = _timestamp(start, "dateDifference", 0)
    second = _timestamp(end, "dateDifference", 1)
    return format_timespan(second.ticks - first.ticks)


# --- text ---------------------------------------------------------------------------------------------


@function("formatDateTime", 1, 3)
@_named("formatDateTime")
def format_date_time(timestamp: JSON, fmt: JSON = None, locale: JSON = None) -> str:
    """The timestamp is read as en-US/ISO whatever the locale; the locale only shapes the output."""
    value = _timestamp(timestamp, "formatDateTime")
    pattern = DEFAULT_FORMAT if fmt is None else args.text(fmt, "formatDateTime", 1) or DEFAULT_FORMAT
    used = DEFAULT_CULTURE if locale is None else culture(args.text(locale, "formatDateTime", 2))
    return format_datetime(value, pattern, used)


@function("parseDateTime", 1, 3)
@_named("parseDateTime")
def parse_date_time(timestamp: JSON, locale: JSON = None, fmt: JSON = None) -> str:
    """Read a timestamp written for `locale` (exactly in `fmt` when given); answer in "o" format."""
    text = args.text(timestamp, "parseDateTime", 0)
    used = DEFAULT_CULTURE if locale is None else culture(args.text(locale, "parseDateTime", 1))
    pattern = None if fmt is None else args.text(fmt, "parseDateTime", 2)
    value = parse_exact(text, pattern, used) if pattern else parse_datetime(text, used)
    return format_datetime(value, DEFAULT_FORMAT)
