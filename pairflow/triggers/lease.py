"""Which process polls a polling trigger or subscribes a webhook: a lease per trigger in the store.

Several `pairflow serve` processes share one store; each arms every trigger, but only the holder of
the trigger's lease polls or subscribes. The lease is the versioned document
`trigger-lease/<workflow>/<trigger>` = {owner, until}; taking or renewing it is one compare-and-set
(`Store.put_meta` with the version read), so of processes racing for a free lease one wins. A
holder renews it while it works (`keep`) and releases it when disarmed; when it dies, the lease
lapses at `until` and another process takes it.

Time is each process's clock: the lease is as good as their agreement (NTP), like run leases.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pairflow.engine.clock import Clock
from pairflow.errors import MetaConflictError, StoreError
from pairflow.jsontypes import JSONObject
from pairflow.store.base import Store
from pairflow.triggers.firing import iso, parse_iso

_log = logging.getLogger(__name__)
_T = TypeVar("_T")

KEY_PREFIX = "trigger-lease/"


def lease_key(workflow: str, trigger: str) -> str:
    return f"{KEY_PREFIX}{workflow}/{trigger}"


class TriggerLease:
    """One process's hold on one trigger."""

    def __init__(
        self, store: Store, workflow: str, trigger: str, *, owner: str, seconds: float, clock: Clock
    ) -> None:
        self.store = store
        self.key = lease_key(workflow, trigger)
        self.owner = owner
        self.seconds = seconds
        self.clock = clock
        self.held = False
        self.holder: str | None = None  # the owner seen last time, when another
        self.holder_until: datetime | None = None

    def hold(self, until: datetime | None = None) -> bool:
        """Take the lease, or renew it, until `until` (default: now + seconds); True when held.

        False when another owner's lease has not expired, when another process changed the
        document since it was read (it won the race), or when the store cannot be reached (a
        process that cannot reach the store cannot commit what it polls either)."""
        now = self.clock.now()
        until = max(until or now, now + timedelta(seconds=self.seconds))
        try:
            found = self.store.get_meta(self.key)
            expected = 0
            if found is not None:
                document, expected = found
                owner, ends = document.get("owner"), parse_iso(document.get("until"))
                if isinstance(owner, str) and owner != self.owner and ends is not None and ends > now:
                    self.held, self.holder, self.holder_until = False, owner, ends
                    return False
            value: JSONObject = {"owner": self.owner, "until": iso(until)}
            self.store.put_meta(self.key, value, expected_version=expected)
        except MetaConflictError:
            self.held, self.holder, self.holder_until = False, None, None
            return False
        except StoreError as error:
            _log.warning("%s: not taken: %s", self.key, error.message)
            self.held = False
            return False
        self.held, self.holder, self.holder_until = True, None, None
        return True

    def retry_in(self) -> float:
        """Seconds until a process that does not hold the lease should try again: when the holder's
        lease ends, at least a third of a lease from now and at most a lease."""
        shortest, longest = self.seconds / 3, self.seconds
        if self.holder_until is None:
            return shortest
        left = (self.holder_until - self.clock.now()).total_seconds()
        return min(max(left, shortest), longest)

    def release(self) -> None:
        """Give the lease up (disarmed): another process may take it at once."""
        if not self.held:
            return
        self.held = False
        try:
            found = self.store.get_meta(self.key)
            if found is None or found[0].get("owner") != self.owner:
                return
            value: JSONObject = {"owner": None, "until": None}
            self.store.put_meta(self.key, value, expected_version=found[1])
        except StoreError as error:  # MetaConflictError too: someone else has it now
            _log.info("%s: not released: %s", self.key, error.message)

    async def keep(self, step: Coroutine[Any, Any, _T]) -> _T:
        """Run `step` renewing the lease every third of it, so a long poll or subscription call
        keeps it. A renewal that fails is logged: the step's commit is guarded on its own."""
        renewing = asyncio.get_running_loop().create_task(self._renew())
        try:
            return await step
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing

    async def _renew(self) -> None:
        while True:
            # Real time, not the clock's: on a virtual clock a sleeper here would move time on while
            # the step waits for the network.
            await asyncio.sleep(self.seconds / 3)
            if not self.hold():
                _log.warning("%s: lost while polling or subscribing", self.key)
                return
