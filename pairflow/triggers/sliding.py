"""The SlidingWindow trigger at run time: one run per window, none skipped, none repeated.

Windows come from `sliding_window.SlidingWindowSchedule`. Each window fires under its own
occurrence key (`window/<workflow>/<trigger>/<start>`), and the end of the last window handled is
the trigger state (`lastWindowEnd`), written in the same transaction, so windows stay contiguous
across restarts and a window is never run twice. Windows missed while stopped are always caught
up (the documented difference from Recurrence). Each run's trigger outputs carry
`windowStartTime` and `windowEndTime` (read as `triggerOutputs()?['windowStartTime']`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from pairflow.errors import InputError, StoreError
from pairflow.jsontypes import JSONObject
from pairflow.triggers.conditions import conditions_hold
from pairflow.triggers.firing import FAILED, SKIPPED, Firer, Target, error_of, iso, parse_iso
from pairflow.triggers.schedule import occurrence_key
from pairflow.triggers.sliding_window import SlidingWindowSchedule, Window

_log = logging.getLogger(__name__)

CATCH_UP_BATCH = 100  # windows fired per wake-up before yielding to other work


def window_key(workflow: str, trigger: str, window: Window) -> str:
    return "window" + occurrence_key(workflow, trigger, window.start).removeprefix("recurrence")


class SlidingLoop:
    """Fires one SlidingWindow trigger's windows until cancelled."""

    def __init__(self, firer: Firer, target: Target, *, location: str, tick: Callable[[], None]) -> None:
        self.firer = firer
        self.target = target
        self.location = location
        self.tick = tick
        self.schedule = SlidingWindowSchedule.from_trigger(
            target.raw, anchor=target.version.created_at, pointer=target.trigger.pointer
        )

    async def run(self) -> None:
        clock = self.firer.clock
        target = self.target
        state = self.firer.store.get_trigger_state(target.workflow, target.name) or {}
        last_end = parse_iso(state.get("lastWindowEnd"))
        try:
            self.schedule.next_window(last_end)
        except InputError as error:
            # The definition changed under the saved position: start over from the first window
            # (windows already fired under the same start keep their keys and do not repeat).
            _log.warning("%s/%s: %s; windows restart", target.workflow, target.name, error.message)
            last_end = None
        while True:
            windows = self.schedule.windows_between(last_end, clock.now(), limit=CATCH_UP_BATCH)
            if windows:
                self.tick()
            for window in windows:
                if not self.firer.is_active(target.workflow):
                    break
                if not self.fire(window):
                    break  # a store failure: try the same window again after a pause
                last_end = window.end
            else:
                if len(windows) == CATCH_UP_BATCH:
                    await clock.sleep(0)
                    continue
                due = self.schedule.next_window(last_end).due
                while (wait := (due - clock.now()).total_seconds()) > 0:
                    await clock.sleep(wait)
                continue
            await clock.sleep(1.0)

    def fire(self, window: Window) -> bool:
        """Fire the window unless it fired before; False only when the store failed."""
        target, firer = self.target, self.firer
        now = firer.clock.now()
        key = window_key(target.workflow, target.name, window)
        state: JSONObject = {"lastWindowEnd": iso(window.end), "location": self.location}
        outputs: JSONObject = {
            "headers": {},
            "body": None,
            "windowStartTime": iso(window.start),
            "windowEndTime": iso(window.end),
        }
        occurrence = iso(window.start)
        try:
            try:
                holds = conditions_hold(
                    target.raw, target.context(now, outputs=outputs), target.trigger.pointer
                )
            except InputError as error:
                error_json = error_of(error.message)
                firer.note(target, FAILED, error=error_json, occurrence=occurrence, key=key, state=state)
                return True
            if not holds:
                firer.note(target, SKIPPED, occurrence=occurrence, key=key, state=state)
                return True
            firer.fire(target, [outputs], fired_at=now, occurrence=occurrence, key=key, state=state)
        except StoreError as error:
            _log.error(
                "%s/%s: window %s not fired: %s", target.workflow, target.name, occurrence, error.message
            )
            return False
        return True
