"""The trigger service: arms every enabled workflow's trigger and keeps it armed as workflows change.

Owns which trigger loops run in this process: Recurrence (`recurrence.py`), Http polling
(`polling.py`), HttpWebhook subscriptions (`webhook.py`) and SlidingWindow (`sliding.py`). Request
triggers need nothing armed (the server receives them). A workflow that is disabled, deleted or
replaced by a new version is disarmed; a webhook is then unsubscribed. Stopping the service only
stops the loops: subscriptions stay, since the next start continues with them. `is_active` is the
passive-mode hook: a workflow it rejects fires, polls and subscribes nothing here.
`recurrence_share` says which part of a Recurrence schedule this location fires (a `Share`, from
`pairflow.continuity.roles.recurrence_share`; the loop asks again before each firing);
`workflow_changed` re-arms when it changes.

The missed-occurrence policy of Recurrence triggers (`missed`) is documented in `recurrence.py`.

Processes sharing a store each run this service: every `refresh_seconds` it reads the workflows
and re-arms the ones deployed, changed or disabled through another process. Each arms every
trigger; a Recurrence occurrence or sliding window fires once among them (its occurrence key), and
a polling or webhook trigger is polled or subscribed only by the holder of its lease (`lease.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from pairflow.engine.clock import Clock
from pairflow.engine.dispatcher import Dispatcher
from pairflow.engine.runner import Engine
from pairflow.errors import InputError, StoreError
from pairflow.jsontypes import JSONObject
from pairflow.store.base import Store
from pairflow.store.records import WorkflowVersion
from pairflow.triggers.firing import Firer, Inflight, Target, iso
from pairflow.triggers.lease import TriggerLease
from pairflow.triggers.polling import PollingLoop
from pairflow.triggers.recurrence import RecurrenceLoop, Share, check_missed_policy
from pairflow.triggers.sliding import SlidingLoop
from pairflow.triggers.webhook import CallbackUrl, WebhookArm, subscription_of, unsubscribe

_log = logging.getLogger(__name__)

ARMED_TYPES = frozenset({"Recurrence", "Http", "HttpWebhook", "SlidingWindow"})


@dataclass
class _Armed:
    target: Target
    task: asyncio.Task[None]
    inflight: Inflight | None = None  # a poll or subscription that disarming lets finish
    share: Share | None = None  # the part of a Recurrence schedule it was armed with
    lease: TriggerLease | None = None  # a polling or webhook trigger's lease among processes


class TriggerService:
    """Runs the trigger loops of one location's workflows."""

    def __init__(
        self,
        store: Store,
        engine: Engine,
        dispatcher: Dispatcher,
        *,
        clock: Clock,
        http: httpx.AsyncClient,
        callback_url: CallbackUrl,
        location: str = "default",
        missed: str = "skip",
        is_active: Callable[[str], bool] = lambda workflow: True,
        recurrence_share: Callable[[str], Share | tuple[int, int] | None] = lambda workflow: None,
        refresh_seconds: float | None = None,
    ) -> None:
        """`refresh_seconds`: real seconds between looks for workflows changed through other
        processes (default: a third of the engine's run lease)."""
        self.store = store
        self.clock = clock
        self.http = http
        self.callback_url = callback_url
        self.location = location
        self.missed = check_missed_policy(missed)
        self.is_active = is_active
        self.recurrence_share = recurrence_share
        self.firer = Firer(store, engine, dispatcher, clock, is_active)
        self._armed: dict[str, _Armed] = {}
        self._seen: dict[str, tuple[int, bool]] = {}  # (version, enabled) each workflow was armed for
        self._refresh_seconds = refresh_seconds if refresh_seconds is not None else engine.lease_seconds / 3
        self._refreshing: asyncio.Task[None] | None = None
        self._running = False
        self._last_tick: datetime | None = None
        self._lock = asyncio.Lock()

    # -- lifecycle -----------------------------------------------------------------------------------
    async def start(self) -> None:
        """Arm every enabled workflow's trigger; unsubscribe webhooks of workflows disabled meanwhile."""
        self._running = True
        self._tick()
        for version in self.store.list_workflows():
            await self.workflow_changed(version.name)
        self._refreshing = asyncio.get_running_loop().create_task(self._refresh(), name="trigger refresh")

    async def stop(self) -> None:
        """Stop every loop; trigger state and webhook subscriptions stay for the next start."""
        self._running = False
        if self._refreshing is not None:
            self._refreshing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refreshing
            self._refreshing = None
        async with self._lock:
            for name in list(self._armed):
                await self._cancel(name)

    async def workflow_changed(self, name: str) -> None:
        """Re-read the workflow and arm, re-arm or disarm its trigger to match it."""
        async with self._lock:
            latest = self.store.get_workflow(name)
            if latest is None:
                self._seen.pop(name, None)
            else:
                self._seen[name] = (latest.version, latest.enabled)
            armed = self._armed.get(name)
            wanted = latest is not None and latest.enabled and self._running and self.is_active(name)
            if armed is not None and (
                not wanted
                or latest is None
                or armed.target.version.version != latest.version
                or armed.share != self._share(armed.target)
            ):
                await self._cancel(name)
                armed = None
            stale = {armed.target.name} if armed is not None else set()
            await self._unsubscribe_stale(name, latest, stale)
            if wanted and armed is None and latest is not None:
                self._arm(latest)

    # -- state ---------------------------------------------------------------------------------------
    def export_state(self, workflow: str, trigger: str) -> JSONObject:
        """The trigger's state as JSON ({} when it has none yet)."""
        return self.store.get_trigger_state(workflow, trigger) or {}

    async def import_state(self, workflow: str, trigger: str, state: JSONObject) -> None:
        """Replace the trigger's state; an armed trigger continues from it."""
        async with self._lock:
            self.store.put_trigger_state(workflow, trigger, state)
            armed = self._armed.get(workflow)
            if armed is not None and armed.target.name == trigger:
                await self._cancel(workflow)
                self._arm(armed.target.version)

    def status(self) -> dict[str, Any]:
        """For /health/ready: running, the last time a loop woke, and how many triggers are armed."""
        return {
            "running": self._running,
            "lastTick": iso(self._last_tick) if self._last_tick is not None else None,
            "armed": len(self._armed),
        }

    async def refresh(self) -> None:
        """Re-arm the workflows deployed, changed, disabled or deleted since last seen (through
        another process sharing the store)."""
        listed = {version.name: (version.version, version.enabled) for version in self.store.list_workflows()}
        for name in sorted(set(listed) | set(self._seen)):
            if listed.get(name) != self._seen.get(name):
                await self.workflow_changed(name)

    # -- internals -----------------------------------------------------------------------------------
    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_seconds)  # real time, like the store's other writers
            try:
                await self.refresh()
            except StoreError as error:
                _log.error("workflows not refreshed: %s", error.message)

    def _lease(self, target: Target) -> TriggerLease:
        engine = self.firer.engine
        return TriggerLease(
            self.store,
            target.workflow,
            target.name,
            owner=engine.owner,
            seconds=engine.lease_seconds,
            clock=self.clock,
        )

    def _tick(self) -> None:
        self._last_tick = self.clock.now()

    def _arm(self, version: WorkflowVersion) -> None:
        try:
            target = Target.of(version)
            if target is None or target.trigger.type not in ARMED_TYPES:
                return
            if target.trigger.type == "Http" and "recurrence" not in target.raw:
                return
            lease = self._lease(target) if target.trigger.type in ("Http", "HttpWebhook") else None
            body, inflight = self._loop(target, lease)
        except InputError as error:
            _log.error("workflow '%s': trigger not armed: %s", version.name, error.message)
            return
        task = asyncio.get_running_loop().create_task(body, name=f"trigger {version.name}")
        task.add_done_callback(_report)
        self._armed[version.name] = _Armed(target, task, inflight, self._share(target), lease)

    def _loop(
        self, target: Target, lease: TriggerLease | None
    ) -> tuple[Coroutine[Any, Any, None], Inflight | None]:
        kind = target.trigger.type
        if kind == "Recurrence":
            recurrence = RecurrenceLoop(
                self.firer,
                target,
                missed=self.missed,
                location=self.location,
                tick=self._tick,
                share=self._share(target),
                current=lambda: self._share(target),
            )
            return recurrence.run(), None
        if kind == "Http":
            poller = PollingLoop(
                self.firer, target, http=self.http, location=self.location, tick=self._tick, lease=lease
            )
            return poller.run(), poller.inflight
        if kind == "SlidingWindow":
            return SlidingLoop(self.firer, target, location=self.location, tick=self._tick).run(), None
        arm = WebhookArm(
            self.firer, target, http=self.http, callback_url=self.callback_url, tick=self._tick, lease=lease
        )
        return _keep(arm.run()), arm.inflight

    def _share(self, target: Target) -> Share | None:
        """The part of a Recurrence schedule this location fires (None: the whole schedule)."""
        if target.trigger.type != "Recurrence":
            return None
        return Share.of(self.recurrence_share(target.workflow))

    async def _cancel(self, name: str) -> None:
        armed = self._armed.pop(name, None)
        if armed is None:
            return
        armed.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await armed.task
        if armed.inflight is not None:
            await armed.inflight.settle()
        if armed.lease is not None:
            armed.lease.release()  # another process may poll or subscribe it at once

    async def _unsubscribe_stale(self, name: str, latest: WorkflowVersion | None, also: set[str]) -> None:
        """Unsubscribe a webhook whose workflow is gone, disabled, or now a different version."""
        if not self.is_active(name):
            return  # a passive location leaves the subscription to the active one
        names = set(also)
        if latest is None:
            names |= self._known_triggers(name)
        else:
            trigger = _trigger_name(latest)
            if trigger is not None:
                names.add(trigger)
        for trigger in sorted(names):
            try:
                state = self.store.get_trigger_state(name, trigger)
            except StoreError as error:
                _log.error("%s/%s: state not readable: %s", name, trigger, error.message)
                continue
            held = subscription_of(state)
            if state is None or held is None:
                continue
            if latest is not None and latest.enabled and _trigger_name(latest) == trigger:
                if held.get("version") == latest.version:
                    continue  # the current subscription
                if self._running and _trigger_type(latest) == "HttpWebhook":
                    continue  # the new version's arm unsubscribes the old one before subscribing
            await self._unsubscribe_once(name, trigger)

    async def _unsubscribe_once(self, name: str, trigger: str) -> None:
        """Unsubscribe under the trigger's lease, reading the state after taking it: of processes
        seeing the same change, one unsubscribes; the others find the subscription gone (or leave
        it to the holder)."""
        engine = self.firer.engine
        lease = TriggerLease(
            self.store, name, trigger, owner=engine.owner, seconds=engine.lease_seconds, clock=self.clock
        )
        if not lease.hold():
            return
        try:
            state = self.store.get_trigger_state(name, trigger)
            if state is not None and subscription_of(state) is not None:
                await lease.keep(unsubscribe(self.firer, self.http, name, trigger, state, self.callback_url))
        except StoreError as error:
            _log.error("%s/%s: state not readable: %s", name, trigger, error.message)
        finally:
            lease.release()

    def _known_triggers(self, name: str) -> set[str]:
        """Trigger names of a deleted workflow, from its versions (they stay readable by number)."""
        names: set[str] = set()
        version = 1
        while (found := self.store.get_workflow(name, version)) is not None:
            trigger = _trigger_name(found)
            if trigger is not None:
                names.add(trigger)
            version += 1
        return names


def _trigger_type(version: WorkflowVersion) -> str | None:
    target = Target.of(version)
    return target.trigger.type if target is not None else None


def _trigger_name(version: WorkflowVersion | None) -> str | None:
    if version is None:
        return None
    triggers = version.definition.get("triggers")
    if isinstance(triggers, dict) and triggers:
        return str(next(iter(triggers)))
    return None


async def _keep(subscribing: Coroutine[Any, Any, None]) -> None:
    """A webhook is armed while subscribed: keep its task alive after subscribing."""
    await subscribing
    await asyncio.Event().wait()


def _report(task: asyncio.Task[None]) -> None:
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        _log.error("%s stopped: %s", task.get_name(), error, exc_info=error)
