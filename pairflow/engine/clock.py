"""The injected clock: wall time and waiting, real (`SystemClock`) or virtual (`VirtualClock`).

The engine never reads the time or sleeps except through a `Clock`, so tests drive schedules, waits
and leases without waiting.
"""

from __future__ import annotations

import asyncio
import heapq
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time."""


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


VIRTUAL_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
_IDLE_ROUNDS = 3  # loop turns with nothing else ready before virtual time jumps (no private loop state)


class VirtualClock:
    """A clock whose time jumps to the next wake-up as soon as the event loop has nothing else to do.

    Sleepers wake in (time, order of sleeping) order, so concurrent waits overlap exactly as real ones
    would: two parallel 1 s waits both end at t+1 s.
    """

    def __init__(self, start: datetime = VIRTUAL_EPOCH) -> None:
        if start.tzinfo is None:
            raise ValueError("VirtualClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._order = 0
        self._ticking = False

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward by hand (for tests of time-dependent logic outside a loop)."""
        self._now += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = loop.create_future()
        self._order += 1
        heapq.heappush(self._sleepers, (self._now + timedelta(seconds=seconds), self._order, future))
        if not self._ticking:
            self._ticking = True
            loop.call_soon(self._tick, loop, 0)
        await future

    def _tick(self, loop: asyncio.AbstractEventLoop, idle: int) -> None:
        # Other callbacks waiting means other work can still make progress at the current time.
        ready = getattr(loop, "_ready", None)
        busy = bool(ready) if ready is not None else idle < _IDLE_ROUNDS
        if busy:
            loop.call_soon(self._tick, loop, 0 if ready is not None else idle + 1)
            return
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)  # cancelled sleepers
        if not self._sleepers:
            self._ticking = False
            return
        wake = self._sleepers[0][0]
        self._now = max(self._now, wake)
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)
        if self._sleepers:
            loop.call_soon(self._tick, loop, 0)
        else:
            self._ticking = False
