"""The continuity of one location: whether it acts as the active location, its lease, its epoch.

`Continuity` keeps the rules of docs/continuity.md:

- The active location acts as active only while its lease is valid: every lease/3 it asks its
  voters (peers and witnesses) to confirm the lease for `lease_seconds`; a majority of all voters
  (itself included) moves `lease_until` to the moment the round started + lease. A location cut
  off from its voters stops acting at `lease_until` by itself ("lease-lapsed") and acts again once a
  majority confirms the same epoch ("lease-regained").
- A location that sees a higher epoch anywhere (a lease answer or request, the front door or
  watchdog header, a peer's status) adopts it and steps down ("stepped-down"); it stays passive
  until it is deliberately activated.
- Activation raises the epoch above every epoch it can learn, refuses while a lease this location
  granted is unexpired (unless forced: then it waits the lease out), and asks the voters to confirm
  the new epoch. Without a majority it is active alone ("sole") only when forced or when exactly
  two voters exist (the peer is the one that did not answer); otherwise it stays passive.

A split recurrence (`roles.Pairing`): a round the peer confirmed lets the next one be a *split*
round (`splitUntil` in the request): the active location then fires only its share until that
round's start + 2/3 lease and not the full schedule before its start + lease; the peer, confirming
it, fires its share until `splitUntil`. A location activated after a failover fires nothing before
the moment the other one stopped, as its rounds said (with one peer and no witness), else its
activation.

Every change is one compare-and-set of the store document with its `LocationEvent`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

import httpx

from pairflow.continuity import lease, roles, state
from pairflow.continuity.state import Doc, Leader, LeaseRequest, iso
from pairflow.engine.clock import Clock
from pairflow.errors import MetaConflictError, StoreError
from pairflow.jsontypes import JSON, JSONObject
from pairflow.server.problems import ApiError, bad_request
from pairflow.store.base import Store
from pairflow.store.records import LocationEvent, RunRecord
from pairflow.triggers.recurrence import Share

_log = logging.getLogger(__name__)

START_ATTEMPTS = 5  # compare-and-set races lost at start before giving up (several processes per location)

Changed = Callable[[], Awaitable[None]]


def request_of(body: JSON) -> LeaseRequest:
    """A lease request from its JSON body; 400 when malformed."""
    if not isinstance(body, dict):
        raise bad_request("InvalidLeaseRequest", "The lease request must be a JSON object.")
    location, epoch, seconds = body.get("location"), body.get("epoch"), body.get("seconds", 0)
    if not isinstance(location, str) or not location:
        raise bad_request("InvalidLeaseRequest", "/location: expected the requesting location's name")
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0:
        raise bad_request("InvalidLeaseRequest", "/epoch: expected a non-negative integer")
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or not 0 <= seconds <= 3600:
        raise bad_request("InvalidLeaseRequest", "/seconds: expected a number of seconds 0-3600")
    url = body.get("url")
    return LeaseRequest(
        location,
        epoch,
        float(seconds),
        url if isinstance(url, str) else "",
        force=body.get("force") is True,
        release=body.get("release") is True,
    )


class Voter:
    """Grants leases from a store document: the part of continuity a witness also needs."""

    def __init__(self, store: Store, *, name: str, clock: Clock, new_id: Callable[[], str] | None = None):
        self.store = store
        self.name = name
        self.clock = clock
        self._new_id = new_id or (lambda: uuid.uuid4().hex)
        self.doc, self.version = state.load(store)
        self.lock = asyncio.Lock()

    def acting(self) -> bool:
        return self.doc.lease_valid(self.clock.now())

    def commit(self, doc: Doc, kind: str | None = None, detail: JSONObject | None = None) -> None:
        """Compare-and-set the document (with its event); reloads and re-raises on a conflict."""
        event = None
        if kind is not None:
            event = LocationEvent(self._new_id(), kind, doc.epoch, self.clock.now(), self.name, detail or {})
        try:
            self.version = state.save(self.store, doc, self.version, event)
        except StoreError:
            self.doc, self.version = state.load(self.store)
            raise
        self.doc = doc

    def grant(self, request: LeaseRequest) -> tuple[JSONObject, bool]:
        """Decide a lease request (call under `lock`); the answer and whether this location stepped down."""
        before = self.doc
        decision = state.decide_grant(before, self.name, request, self.clock.now(), self.acting())
        if decision.doc is not None:
            kind: str | None = None
            detail: JSONObject = {"from": request.location, "requestEpoch": request.epoch}
            if decision.stepped_down:
                kind, detail["reason"] = "stepped-down", f"{request.location} holds epoch {request.epoch}"
            elif request.release:
                kind = "lease-released"
            elif before.granted is None or (before.granted.location, before.granted.epoch) != (
                request.location,
                request.epoch,
            ):
                kind = "lease-granted"
            self.commit(decision.doc, kind, detail)
        answer: JSONObject = {
            "accepted": decision.accepted,
            "reason": decision.reason,
            "location": self.name,
            "epoch": self.doc.epoch,
            "active": self.acting(),
            "leader": self.doc.leader.json() if self.doc.leader is not None else None,
        }
        return answer, decision.stepped_down

    def events(self, limit: int) -> list[JSONObject]:
        return [
            {
                "id": e.id,
                "kind": e.kind,
                "epoch": e.epoch,
                "at": iso(e.at),
                "location": e.location,
                "detail": e.detail,
            }
            for e in self.store.list_location_events(limit)
        ]


class Continuity(Voter):
    """One location's role: active or passive, its lease, and the transitions between them."""

    def __init__(
        self,
        store: Store,
        *,
        name: str,
        url: str,
        clock: Clock,
        http: httpx.AsyncClient,
        peers: Mapping[str, str] | None = None,
        witnesses: Sequence[str] = (),
        lease_seconds: float = 5.0,
        api_key: str | None = None,
        on_change: Changed | None = None,
        new_id: Callable[[], str] | None = None,
    ) -> None:
        super().__init__(store, name=name, clock=clock, new_id=new_id)
        self.url = url.rstrip("/")
        self.http = http
        self.peers = dict(peers or {})
        self.witnesses = tuple(witnesses)
        self.lease_seconds = lease_seconds
        self.api_key = api_key
        self.on_change = on_change
        self._task: asyncio.Task[None] | None = None
        self._was: tuple[object, ...] = ()  # `_key()` when the triggers were last re-armed
        self._peer_confirmed = False  # the peers confirmed the last round at this epoch
        self._activating = asyncio.Lock()
        # A previous process may have sent split rounds: no full schedule before they could end.
        self.pairing = roles.Pairing(full_from=clock.now() + timedelta(seconds=lease_seconds))

    # -- what others ask -----------------------------------------------------------------------------
    @property
    def epoch(self) -> int:
        return self.doc.epoch

    @property
    def voters(self) -> list[str]:
        return [*self.peers.values(), *self.witnesses]

    @property
    def split_window(self) -> timedelta:
        """How long after a split round each location may fire its share: two renewal periods."""
        return timedelta(seconds=self.lease_seconds * 2 / 3)

    def split_firing(self) -> roles.Firing:
        """Which part of a split recurrence this location fires now (`roles.split_firing`)."""
        return roles.split_firing(
            self.pairing, active=self.doc.active, acting=self.acting(), now=self.clock.now()
        )

    def is_active(self, workflow: str) -> bool:
        """Whether this location fires, polls, subscribes and takes Request calls for `workflow`."""
        return roles.fires_here(
            self.store, workflow, location_active=self.acting(), firing=self.split_firing()
        )

    def is_active_under(self, record: roles.Deployment | None, definition: JSONObject) -> bool:
        """`is_active` for a caller holding the workflow's deployment record and latest definition:
        no store read, only the location's role (the Request hot path)."""
        return roles.active_under(record, definition, location_active=self.acting(), firing=self.split_firing)

    def recurrence_share(self, workflow: str) -> Share | None:
        """The part of a Recurrence schedule this location fires (None: all of it, unsplit)."""
        firing = self.split_firing()
        return roles.recurrence_share(
            self.store,
            workflow,
            firing=firing,
            since=roles.firing_since(self.pairing, firing, active=self.doc.active),
            grace=self._fill,
        )

    @property
    def _fill(self) -> timedelta:
        """How late a split occurrence that nobody fired while roles changed may still fire."""
        return timedelta(seconds=2 * self.lease_seconds)

    def _key(self) -> tuple[object, ...]:
        firing = self.split_firing()
        return (self.acting(), firing, roles.firing_since(self.pairing, firing, active=self.doc.active))

    def allows(self, run: RunRecord) -> bool:
        """The engine's fence: a run started under an older epoch stops once this location is passive
        (active-active workflows' runs continue)."""
        if run.epoch >= self.doc.epoch or self.acting():
            return True
        return roles.fires_here(self.store, run.workflow, location_active=False, firing="none")

    def status(self) -> JSONObject:
        doc, now = self.doc, self.clock.now()
        return {
            "location": self.name,
            "url": self.url,
            "epoch": doc.epoch,
            "active": doc.active,
            "acting": doc.lease_valid(now),
            "sole": doc.sole,
            "leaseUntil": iso(doc.lease_until) if doc.lease_until is not None else None,
            "leaseSeconds": self.lease_seconds,
            "granted": doc.granted.json() if doc.grant_open(now) is not None and doc.granted else None,
            "leader": doc.leader.json() if doc.leader is not None else None,
            "peers": dict(self.peers),
            "witnesses": list(self.witnesses),
            "splitFiring": self.split_firing(),
        }

    def record(self, kind: str, detail: JSONObject) -> None:
        """Append an event to this location's history without changing its state (the watchdog's
        probe results); a store error is logged, never raised to the recorder."""
        try:
            self.commit(self.doc, kind, detail)
        except StoreError as error:
            _log.error("continuity of %s: %s not recorded: %s", self.name, kind, error.message)

    def health(self) -> str | None:
        """A reason /health/ready fails: an active location whose lease lapsed cannot do its job."""
        if self.doc.active and not self.acting():
            return "continuity: the active location's lease is not confirmed by a majority"
        return None

    # -- lifecycle -----------------------------------------------------------------------------------
    async def start(self, role: str | None) -> None:
        """Take up the stored role (or `role` on a fresh store), confirm it, keep the lease.

        Several processes of one location share the document: one that loses a compare-and-set race
        to another (which `commit` reports after reloading) decides again from what the other wrote."""
        for attempt in range(START_ATTEMPTS):
            try:
                await self._take_up(role)
                break
            except MetaConflictError:
                if attempt == START_ATTEMPTS - 1:
                    raise
        self._was = self._key()
        self._task = asyncio.get_running_loop().create_task(self._keep(), name=f"continuity {self.name}")

    async def _take_up(self, role: str | None) -> None:
        doc = self.doc
        if self.version == 0:
            role = role or ("secondary" if self.voters else "primary")  # alone, a location is active
            self.commit(replace(doc, peers=dict(self.peers)), "initialized", {"role": role})
            if role == "primary":
                await self._take_up_primary()
        elif doc.active:
            # A restart: act only on a lease confirmed again now (sole authority ends with the process).
            if doc.sole:
                self.commit(replace(doc, sole=False), "restarted", {"leaseUntil": _iso(doc.lease_until)})
            await self.renew()
        else:
            await self._learn_from_peers()

    async def _take_up_primary(self) -> None:
        """The configured primary activates; when its peers are not up yet (no majority of three or
        more voters) it is active *pending*: it asks every lease/3 and acts once a majority confirms
        ("lease-regained"), like an active location after a restart, instead of failing to start."""
        try:
            await self.activate("initial role primary")
        except ApiError as error:
            if error.code != "NoQuorum":
                raise
            async with self.lock:
                leader = Leader(self.name, self.url, self.doc.epoch)
                pending = replace(self.doc, active=True, sole=False, lease_until=None, leader=leader)
                self.commit(pending, "activated", {"reason": "initial role primary", "pending": str(error)})

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _keep(self) -> None:
        """Renew every lease/3 from the previous round's start (not its end), so a split round's
        window (2/3 lease) still covers the next round when a round is slow."""
        period = timedelta(seconds=self.lease_seconds / 3)
        due = self.clock.now() + period
        while True:
            await self.clock.sleep(max(0.0, (due - self.clock.now()).total_seconds()))
            due = max(due + period, self.clock.now())
            try:
                if self.doc.active:
                    await self.renew()
                await self._notice()
            except StoreError as error:
                _log.error("continuity of %s: %s", self.name, error.message)

    async def _notice(self) -> None:
        """Record and announce a change of acting (a lease that lapsed or came back) or pairing."""
        key = self._key()
        if key == self._was:
            return
        acting, was_acting = self.acting(), bool(self._was[0]) if self._was else False
        self._was = key
        if self.doc.active and acting != was_acting:
            async with self.lock:
                kind = "lease-regained" if acting else "lease-lapsed"
                self.commit(self.doc, kind, {"leaseUntil": _iso(self.doc.lease_until)})
        await self._changed()

    async def _changed(self) -> None:
        self._was = self._key()
        if self.on_change is not None:
            await self.on_change()

    # -- the lease -----------------------------------------------------------------------------------
    def _body(
        self, epoch: int, force: bool = False, release: bool = False, *, sent: datetime | None = None
    ) -> JSONObject:
        """A lease request; `sent` (a split round's start) adds `splitUntil`, the share promise."""
        now = sent or self.clock.now()
        body: JSONObject = {
            "location": self.name,
            "url": self.url,
            "epoch": epoch,
            "seconds": self.lease_seconds,
            "until": iso(now + timedelta(seconds=self.lease_seconds)),
            "force": force,
            "release": release,
        }
        if sent is not None:
            body["splitUntil"] = iso(sent + self.split_window)
        return body

    async def _round(
        self, epoch: int, force: bool = False, *, split_at: datetime | None = None
    ) -> tuple[int, list[lease.Answer]]:
        """Ask every voter; the confirmations (this location's own included) and the answers. Sets
        whether the peers confirmed (what lets the next round be a split one)."""
        if not self.voters:
            self._peer_confirmed = False
            return 1, []
        body = self._body(epoch, force, sent=split_at)
        answers = await lease.lease_round(self.http, self.voters, body, self.api_key, self.lease_seconds / 3)
        peers = set(self.peers.values())
        self._peer_confirmed = bool(peers) and all(a.accepted for a in answers if a.url in peers)
        return 1 + sum(1 for a in answers if a.accepted), answers

    async def renew(self) -> None:
        """One renewal: ask the voters; extend the lease on a majority, step down on a higher epoch."""
        started, epoch = self.clock.now(), self.doc.epoch
        split = self._peer_confirmed and self.acting()
        lease_time = timedelta(seconds=self.lease_seconds)
        self.pairing = roles.round_sent(self.pairing, started, split=split, lease=lease_time)
        confirmations, answers = await self._round(epoch, split_at=started if split else None)
        async with self.lock:
            if not self.doc.active or self.doc.epoch != epoch:
                self._peer_confirmed = False
                return  # changed while asking
            if await self._superseded(answers):
                return
            if confirmations >= state.quorum(1 + len(self.voters)):
                until = started + lease_time
                if self.doc.lease_until is None or until > self.doc.lease_until or self.doc.sole:
                    self.commit(replace(self.doc, lease_until=until, sole=False))
            if self._peer_confirmed:
                self.pairing = roles.round_confirmed(
                    self.pairing, started, split=split, window=self.split_window
                )
        await self._notice()

    async def _superseded(self, answers: Sequence[lease.Answer]) -> bool:
        """Step down (under `lock`) when an answer shows a higher epoch or an active tie."""
        doc = self.doc
        higher = [a for a in answers if a.reached and a.epoch > doc.epoch]
        tie = [a for a in answers if a.reached and a.epoch == doc.epoch and a.active and not a.accepted]
        if higher:
            top = max(higher, key=lambda a: a.epoch)
            await self._step_down(top.epoch, f"{top.location or top.url} answered epoch {top.epoch}", None)
            return True
        if tie and doc.active:
            await self._step_down(doc.epoch, f"{tie[0].location} is active at the same epoch", None)
            return True
        return False

    async def _step_down(self, epoch: int, reason: str, leader: Leader | None) -> None:
        doc = self.doc
        kind = "stepped-down" if doc.active else "epoch-learned"
        new = replace(doc, epoch=max(epoch, doc.epoch), active=False, sole=False, leader=leader or doc.leader)
        self.commit(new, kind, {"reason": reason})
        self._peer_confirmed = False
        if doc.active:
            self.pairing = roles.stood_down(self.pairing)
        _log.warning("location %s %s: %s", self.name, kind, reason)
        if doc.active:
            task = asyncio.get_running_loop().create_task(self._changed())
            task.add_done_callback(_report)

    async def observe_epoch(self, epoch: int, source: str, leader: Leader | None = None) -> bool:
        """A higher epoch seen somewhere: adopt it and step down. True when it was higher."""
        if epoch <= self.doc.epoch:
            return False
        async with self.lock:
            if epoch <= self.doc.epoch:
                return False
            await self._step_down(epoch, f"{source} carries epoch {epoch}", leader)
        return True

    async def answer_lease(self, body: JSON) -> JSONObject:
        request = request_of(body)
        async with self.lock:
            before = self.doc.granted
            answer, stepped = self.grant(request)
            if answer["accepted"] is True and (not request.release or answer["reason"] == "released"):
                self._licensed(request, body, before is not None and before.location == request.location)
        if stepped:
            await self._changed()
        else:
            await self._notice()
        return answer

    def _licensed(self, request: LeaseRequest, body: JSON, granted_before: bool) -> None:
        """Note what a confirmed round says about the requester's firing of split schedules."""
        if request.release and not granted_before:
            return
        now = self.clock.now()
        fields = body if isinstance(body, dict) else {}
        until = state.parse_time(fields.get("until"))
        lease_time = timedelta(seconds=request.seconds)
        sent = until - lease_time if until is not None else now  # unknown: the receipt bounds it
        split_until = state.parse_time(fields.get("splitUntil"))
        if self.doc.active:
            return
        self.pairing = roles.lease_received(
            self.pairing, now, sent=sent, lease=lease_time, split_until=split_until, release=request.release
        )

    async def _learn_from_peers(self) -> None:
        """A passive location adopts the highest epoch its peers report (on start)."""
        for name, url in self.peers.items():
            found = await lease.status_of(self.http, url, self.api_key, self.lease_seconds / 3)
            if found is None:
                continue
            epoch = found.get("epoch")
            if isinstance(epoch, int) and epoch > self.doc.epoch:
                leader = Leader(name, url, epoch) if found.get("active") is True else None
                await self.observe_epoch(epoch, f"peer {name}", leader)

    # -- transitions ---------------------------------------------------------------------------------
    async def activate(
        self, reason: str, *, force: bool = False, after_epoch: int = 0, detail: JSONObject | None = None
    ) -> JSONObject:
        """Become the active location under a new epoch (see the module docstring for when)."""
        async with self._activating:
            if self.acting() and self.doc.active:
                return self.status()
            held = self.doc.grant_open(self.clock.now())
            if held is not None and not force:
                raise ApiError(
                    409,
                    "LeaseHeld",
                    f"This location confirmed {held.location}'s lease until {iso(held.until)}; it "
                    "activates only after it expires (or with force, which waits it out).",
                )
            top = max(self.doc.epoch, after_epoch)
            for found in await asyncio.gather(
                *(
                    lease.status_of(self.http, url, self.api_key, self.lease_seconds / 3)
                    for url in self.voters
                )
            ):
                epoch = found.get("epoch") if found is not None else None
                if isinstance(epoch, int) and not isinstance(epoch, bool):
                    top = max(top, epoch)
            epoch = top + 1
            previous = self.doc.epoch
            async with self.lock:  # the promise: from now on no lease below `epoch` is confirmed here
                self.commit(replace(self.doc, epoch=epoch, active=False, sole=False))
            if held is not None:
                wait = (held.until - self.clock.now()).total_seconds()
                await self.clock.sleep(min(max(wait, 0.0), self.lease_seconds))
            started = self.clock.now()
            confirmations, answers = await self._round(epoch, force)
            async with self.lock:
                if self.doc.epoch != epoch or await self._superseded(answers):
                    raise ApiError(409, "EpochSuperseded", f"A higher epoch than {epoch} exists elsewhere.")
                needed = state.quorum(1 + len(self.voters))
                sole = confirmations < needed
                if sole and not (force or len(self.voters) == 1):
                    raise ApiError(
                        409,
                        "NoQuorum",
                        f"Only {confirmations} of {1 + len(self.voters)} voters confirmed epoch {epoch}; "
                        f"{needed} are needed (force activates alone).",
                    )
                info: JSONObject = {
                    "reason": reason,
                    "force": force,
                    "sole": sole,
                    "previousEpoch": previous,
                    "confirmations": confirmations,
                    **(detail or {}),
                }
                self.commit(
                    replace(
                        self.doc,
                        active=True,
                        sole=sole,
                        lease_until=started + timedelta(seconds=self.lease_seconds),
                        granted=None,
                        leader=Leader(self.name, self.url, epoch),
                    ),
                    "activated",
                    info,
                )
                # The other location's last rounds bound its firing only when they were its only votes.
                bound = self.pairing.peer_bound if len(self.voters) == 1 and self.peers else None
                self.pairing = roles.taken_over(self.pairing, self.clock.now(), bound=bound, fill=self._fill)
        _log.warning("location %s activated at epoch %d: %s", self.name, epoch, reason)
        await self._changed()
        return self.status()

    async def deactivate(self, reason: str, *, release: bool = True) -> JSONObject:
        """Stop acting as active (planned): new work stops here; the voters release the lease."""
        async with self.lock:
            was = self.doc.active
            self.commit(
                replace(self.doc, active=False, sole=False, lease_until=None),
                "deactivated",
                {"reason": reason, "wasActive": was},
            )
            self._peer_confirmed = False
            self.pairing = roles.stood_down(self.pairing)
        await self._changed()
        if release and self.voters:
            body = self._body(self.doc.epoch, release=True)
            await lease.lease_round(self.http, self.voters, body, self.api_key, self.lease_seconds / 3)
        return self.status()


def _iso(moment: datetime | None) -> str | None:
    return iso(moment) if moment is not None else None


def _report(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        _log.error("continuity change failed: %s", error, exc_info=error)
