"""Wiring replication into one location: the receiver every location with continuity has, the
shipper a location with peers has (unless `replication = "off"`), and the hooks between them and
the location — the engine's `on_committed`, the Request path's `acknowledge` (sync mode), and the
role change that adopts replicas before the triggers are re-armed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from pairflow.continuity import roles
from pairflow.continuity.controller import Continuity
from pairflow.continuity.replica import Receiver
from pairflow.continuity.replication import Shipper
from pairflow.errors import StoreError
from pairflow.jsontypes import JSONObject
from pairflow.server.location import Location


def active_passive_states(location: Location) -> list[JSONObject]:
    """The trigger states of the workflows deployed active-passive (the ones a failover continues)."""
    return [
        item
        for item in location.trigger_states()
        if roles.deployment_mode(location.store, str(item.get("workflow"))) == roles.ACTIVE_PASSIVE
    ]


@dataclass
class Replication:
    location: Location
    continuity: Continuity
    receiver: Receiver
    shipper: Shipper | None
    mode: str
    _rearm: Callable[[], Awaitable[None]] | None = None

    async def start(self) -> None:
        """After the location started: ship, and adopt now if the location is active already."""
        self._rearm = self.continuity.on_change
        self.continuity.on_change = self._changed
        if self.shipper is not None:
            await self.shipper.start()
        await self.receiver.activated(self.location)

    async def stop(self) -> None:
        if self.shipper is not None:
            await self.shipper.stop()

    async def _changed(self) -> None:
        await self.receiver.activated(self.location)
        if self._rearm is not None:
            await self._rearm()

    def status(self) -> JSONObject:
        shipping: JSONObject = self.shipper.status() if self.shipper is not None else {"mode": self.mode}
        return {"location": self.location.name, "shipping": shipping, "receiving": self.receiver.status()}


def wire(location: Location, continuity: Continuity, *, mode: str, http: httpx.AsyncClient) -> Replication:
    """Build replication for the location (see the module docstring); `start` it once the location runs."""
    receiver = Receiver(location.store, name=location.name, continuity=continuity, clock=location.clock)
    shipper: Shipper | None = None
    if mode != "off" and continuity.peers:

        async def refused(epoch: int, peer: str) -> None:
            with contextlib.suppress(StoreError):  # else the next lease round tells it again
                await continuity.observe_epoch(epoch, f"peer {peer} refusing replication")

        shipper = Shipper(
            location.store,
            name=location.name,
            peers=continuity.peers,
            http=http,
            clock=location.clock,
            epoch=lambda: continuity.epoch,
            acting=continuity.acting,
            trigger_states=lambda: active_passive_states(location),
            on_refused=refused,
            api_key=continuity.api_key,
            sync=mode == "sync",
        )
        location.engine.on_committed = shipper.notify
        if mode == "sync":
            location.acknowledge = shipper.acknowledged
    return Replication(location, continuity, receiver, shipper, mode)
