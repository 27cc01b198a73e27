"""Which windows a Sliding Window trigger owes: contiguous, none skipped, none repeated.

Owns reading a SlidingWindow trigger's recurrence (Second, Minute or Hour, as documented) and
delay (an ISO 8601 duration, `inputs.delay` in the definition) and computing the windows
[start + k·interval, start + (k+1)·interval). Unlike Recurrence, Sliding Window "goes back and
processes the missed recurrences": given the end of the last completed window (persisted by the
caller) and `now`, it returns every window that became fireable since, in order. A window is
fireable once `now` reaches its end plus the delay. Never reads the clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from pairflow.errors import InputError
from pairflow.jsontypes import JSON
from pairflow.triggers.schedule import (
    Frequency,
    parse_date_time,
    parse_frequency,
    parse_interval,
    resolve_time_zone,
)

__all__ = ["SlidingWindowSchedule", "Window", "parse_duration"]

_FREQUENCIES = (Frequency.SECOND, Frequency.MINUTE, Frequency.HOUR)

DEFAULT_LIMIT = 10_000  # windows returned per call; the caller persists the last end and asks again

_DURATION = re.compile(
    r"^P(?!$)(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(value: JSON, pointer: str) -> timedelta:
    """An ISO 8601 duration of fixed length (weeks, days, hours, minutes, seconds).

    Years and months have no fixed length, so a delay using them is rejected rather than guessed.
    """
    if not isinstance(value, str):
        raise InputError(f"{pointer}: expected an ISO 8601 duration such as 'PT5S'")
    match = _DURATION.match(value.strip().upper())
    if match is None:
        raise InputError(
            f"{pointer}: '{value}' is not an ISO 8601 duration of weeks, days, hours, minutes and seconds"
        )
    parts = {name: float(amount) for name, amount in match.groupdict().items() if amount is not None}
    return timedelta(**parts)


@dataclass(frozen=True)
class Window:
    """One window [start, end) of data; the run for it may start at `due` (end + delay)."""

    start: datetime
    end: datetime
    due: datetime


@dataclass(frozen=True)
class SlidingWindowSchedule:
    """Contiguous windows of `step` from `start`, each due `delay` after it ends."""

    start: datetime
    step: timedelta
    delay: timedelta = timedelta(0)

    @classmethod
    def from_definition(
        cls,
        recurrence: JSON,
        *,
        delay: JSON = None,
        anchor: datetime | None = None,
        pointer: str = "/recurrence",
        delay_pointer: str = "/inputs/delay",
    ) -> SlidingWindowSchedule:
        """Validate a recurrence; `delay` is the trigger's inputs.delay (or recurrence.delay).

        Without startTime the first window starts at `anchor` (the deployment time).
        """
        if not isinstance(recurrence, dict):
            raise InputError(f"{pointer}: expected an object")
        frequency = parse_frequency(recurrence.get("frequency"), f"{pointer}/frequency", _FREQUENCIES)
        interval = parse_interval(recurrence.get("interval"), frequency, f"{pointer}/interval")
        zone_name = "UTC"
        raw_zone = recurrence.get("timeZone")
        if raw_zone is not None:
            if not isinstance(raw_zone, str) or not raw_zone.strip():
                raise InputError(f"{pointer}/timeZone: expected a time zone name")
            zone_name = resolve_time_zone(raw_zone, f"{pointer}/timeZone")
        raw_start = recurrence.get("startTime")
        if raw_start not in (None, ""):
            start, _ = parse_date_time(raw_start, ZoneInfo(zone_name), f"{pointer}/startTime")
        elif anchor is None:
            raise InputError(f"{pointer}/startTime: required when no anchor (deployment time) is given")
        else:
            start = _aware(anchor)
        if delay is None and "delay" in recurrence:
            delay, delay_pointer = recurrence["delay"], f"{pointer}/delay"
        wait = timedelta(0) if delay in (None, "") else parse_duration(delay, delay_pointer)
        unit = frequency.seconds or 1
        return cls(start=start, step=timedelta(seconds=interval * unit), delay=wait)

    @classmethod
    def from_trigger(
        cls, trigger: JSON, *, anchor: datetime | None = None, pointer: str = ""
    ) -> SlidingWindowSchedule:
        """Read a whole SlidingWindow trigger: its `recurrence` and `inputs.delay`."""
        if not isinstance(trigger, dict):
            raise InputError(f"{pointer or '/'}: expected an object")
        inputs = trigger.get("inputs")
        if inputs is not None and not isinstance(inputs, dict):
            raise InputError(f"{pointer}/inputs: expected an object")
        return cls.from_definition(
            trigger.get("recurrence"),
            delay=(inputs or {}).get("delay"),
            anchor=anchor,
            pointer=f"{pointer}/recurrence",
            delay_pointer=f"{pointer}/inputs/delay",
        )

    def window_at(self, index: int) -> Window:
        """Window number `index` (0 is the one starting at `start`)."""
        begin = self.start + self.step * index
        end = begin + self.step
        return Window(start=begin, end=end, due=end + self.delay)

    def next_window(self, last_window_end: datetime | None) -> Window:
        """The window after the last completed one (the first window if none completed).

        Its `due` is when a scheduler should wake next.
        """
        return self.window_at(self._index_after(last_window_end))

    def windows_between(
        self, last_window_end: datetime | None, now: datetime, *, limit: int = DEFAULT_LIMIT
    ) -> list[Window]:
        """Every window after `last_window_end` that is due by `now`, oldest first, at most `limit`.

        `last_window_end` is the end of the last window the caller completed, or None before the
        first. It must be a window boundary: anything else would split a window and repeat or
        skip data.
        """
        if limit < 1:
            raise InputError(f"limit must be a positive integer, got {limit}")
        moment = _aware(now)
        first = self._index_after(last_window_end)
        if moment < self.start + self.delay:
            return []
        last_due = (moment - self.delay - self.start) // self.step - 1  # last index whose end is due
        count = min(limit, max(0, last_due - first + 1))
        return [self.window_at(first + offset) for offset in range(count)]

    def _index_after(self, last_window_end: datetime | None) -> int:
        if last_window_end is None:
            return 0
        end = _aware(last_window_end)
        index, remainder = divmod(end - self.start, self.step)
        if remainder or index < 1:
            raise InputError(
                f"last window end {end.isoformat()} is not the end of a window starting at "
                f"{self.start.isoformat()} every {self.step}"
            )
        return int(index)


def _aware(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise InputError(f"instant {instant.isoformat()} must be timezone-aware")
    return instant.astimezone(UTC)
