"""The Recurrence trigger at run time: sleep until each occurrence, fire it once, survive restarts.

Each occurrence is fired with `Store.fire_trigger` under its `occurrence_key`, so however many
processes or restarts attempt it, one run exists. The trigger state keeps `lastFire` (the last
occurrence handled) so a restart continues after it.

Missed occurrences — ones more than `LATE_TOLERANCE` in the past when the loop gets to them,
because the service was stopped or the process stalled — follow the `missed` policy:

- "skip" (default, as Logic Apps: a Recurrence trigger does not catch up): continue from the next
  occurrence; nothing is recorded for the missed ones.
- "fire-latest": fire the most recent missed occurrence (late), then continue.
- "fire-all": fire the missed occurrences in order, at most `MAX_CATCH_UP` (the most recent ones).

A split schedule (a `Share`, from `pairflow.continuity.roles.recurrence_share`) fires only
occurrence k with k mod parts = index — two locations each fire every 2N, offset by N — and none
before `since` (they may have fired in the other location). Right before each firing the loop asks
for the current share again and fires only when it is still the one it was armed with; when it
changed (a failover restores the full schedule) the service re-arms the loop, which continues
after `lastFire` on the new schedule. A share's `grace` (longer than `LATE_TOLERANCE`) lets the
loop fire occurrences after `since` that nobody fired while the locations changed roles.

A trigger that never fired has missed nothing: it starts at the next occurrence, or at once when
the recurrence has no startTime ("runs the first workload instantly"). Time is read and waited
only through the injected clock, and the loop sleeps until the exact instant of each occurrence.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pairflow.errors import InputError, StoreError
from pairflow.jsontypes import JSONObject
from pairflow.triggers.conditions import conditions_hold
from pairflow.triggers.firing import FAILED, SKIPPED, Firer, Target, error_of, iso, parse_iso
from pairflow.triggers.schedule import RecurrenceSchedule, occurrence_key

_log = logging.getLogger(__name__)

MISSED_POLICIES = ("skip", "fire-latest", "fire-all")
MAX_CATCH_UP = 100  # missed occurrences fired at most by "fire-all"
LATE_TOLERANCE = timedelta(seconds=1)  # an occurrence this recently passed is fired late, not missed


@dataclass(frozen=True, slots=True)
class Share:
    """The part of a Recurrence schedule one location fires: occurrence k when k mod parts = index,
    none before `since`, and occurrences up to `grace` late still fired (not "missed")."""

    parts: int = 1
    index: int = 0
    since: datetime | None = None
    grace: timedelta = LATE_TOLERANCE

    @classmethod
    def of(cls, value: Share | tuple[int, int] | None) -> Share | None:
        """A share from what a `recurrence_share` hook answers ((parts, index) is the old form)."""
        if value is None or isinstance(value, Share):
            return value
        return cls(value[0], value[1])

    def admits(self, when: datetime) -> bool:
        return self.since is None or when >= self.since


def check_missed_policy(missed: str) -> str:
    if missed not in MISSED_POLICIES:
        raise InputError(f"missed: expected one of {', '.join(MISSED_POLICIES)}, got {missed!r}")
    return missed


class RecurrenceLoop:
    """Fires one Recurrence trigger's occurrences until cancelled or past its endTime."""

    def __init__(
        self,
        firer: Firer,
        target: Target,
        *,
        missed: str,
        location: str,
        tick: Callable[[], None],
        share: Share | None = None,
        current: Callable[[], Share | None] | None = None,
    ) -> None:
        self.firer = firer
        self.target = target
        self.missed = check_missed_policy(missed)
        self.location = location
        self.tick = tick
        self.share = share
        self.current = current
        self.grace = share.grace if share is not None else LATE_TOLERANCE
        self.schedule = RecurrenceSchedule.from_definition(
            target.raw.get("recurrence"),
            anchor=target.version.created_at,
            pointer=f"{target.trigger.pointer}/recurrence",
        )
        if share is not None and share.parts > 1:
            self.schedule = self.schedule.split(share.parts, share.index)

    async def run(self) -> None:
        clock = self.firer.clock
        due = self._first_due(clock.now())
        while due is not None:
            now = clock.now()
            horizon = now - self.grace
            if due < horizon:
                self._catch_up(due, horizon)
                due = self.schedule.first_on_or_after(horizon)
                continue
            while (wait := (due - clock.now()).total_seconds()) > 0:
                await clock.sleep(wait)
            self.tick()
            self.fire(due)
            due = self.schedule.next_after(due)

    def _first_due(self, now: datetime) -> datetime | None:
        state = self.firer.store.get_trigger_state(self.target.workflow, self.target.name) or {}
        last = parse_iso(state.get("lastFire"))
        since = self.share.since if self.share is not None else None
        if last is not None:
            due = self.schedule.next_after(last)
        elif self.schedule.immediate and self.schedule.parts == 1 and since is None:
            return self.schedule.start
        else:
            due = self.schedule.first_on_or_after(now - LATE_TOLERANCE)
        if due is not None and since is not None and due < since:
            return self.schedule.first_on_or_after(since)
        return due

    def _still_mine(self, when: datetime) -> bool:
        """Whether the share asked for right now still gives this loop the occurrence at `when`."""
        if self.current is None:
            return True
        now = self.current()
        armed = self.share or Share()
        found = now or Share()
        return (found.parts, found.index) == (armed.parts, armed.index) and found.admits(when)

    def _catch_up(self, first: datetime, horizon: datetime) -> None:
        if self.missed == "skip":
            return
        recent: deque[datetime] = deque(maxlen=1 if self.missed == "fire-latest" else MAX_CATCH_UP)
        recent.extend(self.schedule.occurrences_between(first, horizon))
        for when in recent:
            self.fire(when)

    def fire(self, when: datetime) -> bool:
        """Fire the occurrence at `when` unless it fired before; True when this call fired it."""
        target, firer = self.target, self.firer
        if not firer.is_active(target.workflow) or not self._still_mine(when):
            return False
        now = firer.clock.now()
        occurrence = iso(when)
        key = occurrence_key(target.workflow, target.name, when)
        state: JSONObject = {"lastFire": occurrence, "location": self.location}
        outputs: JSONObject = {"headers": {}, "body": None}
        try:
            try:
                context = target.context(now, outputs=outputs)
                holds = conditions_hold(target.raw, context, target.trigger.pointer)
            except InputError as error:
                error_json = error_of(error.message)
                firer.note(target, FAILED, error=error_json, occurrence=occurrence, key=key, state=state)
                return False
            if not holds:
                firer.note(target, SKIPPED, occurrence=occurrence, key=key, state=state)
                return False
            return firer.fire(target, [outputs], fired_at=now, occurrence=occurrence, key=key, state=state)
        except StoreError as error:
            where = f"{target.workflow}/{target.name}"
            _log.error("%s: occurrence %s not fired: %s", where, occurrence, error.message)
            return False
