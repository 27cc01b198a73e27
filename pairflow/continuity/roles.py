"""Deployment modes of workflows across locations: which modes each trigger type allows (the seed's
trigger type guidance), the deployment record a location keeps per workflow, and whether a workflow
fires here given the location's own active/passive state.

The rules (seed, "Trigger type guidance"):

| trigger                                   | allowed modes                  | default        |
|-------------------------------------------|--------------------------------|----------------|
| Request (and its old name Manual)         | active-active, active-passive  | active-active  |
| Recurrence                                | active-passive                 | active-passive |
| SlidingWindow (a schedule, like Recurrence)| active-passive                | active-passive |
| HttpWebhook, ApiConnectionWebhook         | active-passive                 | active-passive |
| Http/ApiConnection polling, client state  | active-passive                 | active-passive |
| Http/ApiConnection polling, server state  | active-active, active-passive  | active-active  |
| Queue (competing consumers)               | active-active, active-passive  | active-active  |
| no trigger                                | active-active, active-passive  | active-active  |
| any other type                            | active-active, active-passive  | active-passive |

A polling trigger keeps its state on the client side unless the deployment says otherwise
(`triggerState: "server"`): from the definition alone pairflow cannot tell, and assuming client
state is the choice that never reads the same data twice. The defaults apply when a workflow was
deployed without a mode (a plain `pairflow deploy FILE`).

Split recurrence: an active-passive Recurrence deployed with `split` fires, while both locations
are paired, only its share of the schedule in each location — occurrence k goes to the location
whose index is k mod parts, so with two locations each fires every 2N offset by N, the passive one
included. Who fires what at each moment is `split_firing` over a `Pairing` (see there): bounded by
the lease rounds, so that at no moment can both locations fire one occurrence.

The record lives in the store document `deployment:{workflow}` as
`{"mode", "split": {"parts", "index"} | null, "connections": {...}, "triggerState", "locationRole"}`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal, cast

from pairflow.errors import MetaConflictError
from pairflow.jsontypes import JSON, JSONObject
from pairflow.store.base import Store
from pairflow.store.records import LocationEvent
from pairflow.triggers.recurrence import Share

Mode = Literal["active-active", "active-passive"]
ACTIVE_ACTIVE: Mode = "active-active"
ACTIVE_PASSIVE: Mode = "active-passive"
MODES: tuple[Mode, ...] = (ACTIVE_ACTIVE, ACTIVE_PASSIVE)
TRIGGER_STATES = ("client", "server")
LOCATION_ROLES = ("primary", "secondary")
SPLIT_PARTS = 2  # a split schedule is shared by the two locations of a pair
BOTH: frozenset[Mode] = frozenset(MODES)
PASSIVE_ONLY: frozenset[Mode] = frozenset({ACTIVE_PASSIVE})


def deployment_key(workflow: str) -> str:
    return f"deployment:{workflow}"


# -- the rules ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TriggerRule:
    """What the seed allows for one kind of trigger, and why."""

    kind: str  # e.g. "client-state polling"
    modes: frozenset[Mode]
    default: Mode
    section: str  # the seed section the rule comes from
    rule: str  # the seed's words
    risk: str = ""  # what would go wrong active-active (for kinds that forbid it)


_REQUEST = TriggerRule(
    "request",
    BOTH,
    ACTIVE_ACTIVE,
    "Request trigger",
    "the Request trigger plays a passive role: active-passive where the caller or router decides, "
    "or active-active when you use the load balancer pattern",
)
_RECURRENCE = TriggerRule(
    "recurrence",
    PASSIVE_ONLY,
    ACTIVE_PASSIVE,
    "Recurrence trigger",
    "if your logic app starts with a Recurrence trigger, you need to set up the primary and secondary "
    "instances as active-passive",
    "both locations would fire every occurrence",
)
_SLIDING = TriggerRule(
    "sliding window",
    PASSIVE_ONLY,
    ACTIVE_PASSIVE,
    "Recurrence trigger",
    "a trigger that fires solely on a schedule must be active-passive (SlidingWindow is a schedule, "
    "like Recurrence)",
    "both locations would fire every window",
)
_WEBHOOK = TriggerRule(
    "webhook",
    PASSIVE_ONLY,
    ACTIVE_PASSIVE,
    "Webhook trigger",
    "set up primary and secondary instances that use webhook triggers to play active-passive roles "
    "because only one instance should receive events or messages from the subscribed endpoint",
    "both locations would subscribe and receive every event",
)
_CLIENT_POLLING = TriggerRule(
    "client-state polling",
    PASSIVE_ONLY,
    ACTIVE_PASSIVE,
    "Polling trigger",
    "for a logic app that tracks client-side state, only one location can have an active logic app "
    "instance at any specific time",
    "both locations would read the same data",
)
_SERVER_POLLING = TriggerRule(
    "server-state polling",
    BOTH,
    ACTIVE_ACTIVE,
    "Polling trigger",
    "a logic app that tracks server-side state can play active-active roles as competing consumers, "
    "or active-passive roles",
)
_QUEUE = TriggerRule(
    "queue",
    BOTH,
    ACTIVE_ACTIVE,
    "Active-active and active-passive roles",
    "instances can compete for messages from a queue (competing consumers), or play active-passive roles",
)
_NONE = TriggerRule("no trigger", BOTH, ACTIVE_ACTIVE, "Active-active and active-passive roles", "")
_OTHER = TriggerRule(
    "other", BOTH, ACTIVE_PASSIVE, "Active-active and active-passive roles", "an unclassified trigger"
)

_POLLING_TYPES = frozenset({"http", "apiconnection"})
_BY_TYPE: dict[str, TriggerRule] = {
    "request": _REQUEST,
    "manual": _REQUEST,
    "recurrence": _RECURRENCE,
    "slidingwindow": _SLIDING,
    "httpwebhook": _WEBHOOK,
    "apiconnectionwebhook": _WEBHOOK,
    "queue": _QUEUE,
}


def trigger_rule(trigger_type: str | None, trigger_state: str | None = None) -> TriggerRule:
    """The rule for a trigger type; `trigger_state` ("client"/"server") matters for polling only."""
    if trigger_type is None:
        return _NONE
    lowered = trigger_type.lower()
    if lowered in _POLLING_TYPES:
        return _SERVER_POLLING if trigger_state == "server" else _CLIENT_POLLING
    return _BY_TYPE.get(lowered, _OTHER)


def first_trigger(definition: JSONObject) -> tuple[str, str] | None:
    """(name, type) of the definition's trigger (Logic Apps allows one), or None."""
    triggers = definition.get("triggers")
    if not isinstance(triggers, dict) or not triggers:
        return None
    name, raw = next(iter(triggers.items()))
    kind = raw.get("type") if isinstance(raw, dict) else None
    return str(name), kind if isinstance(kind, str) else ""


def default_mode(definition: JSONObject, trigger_state: str | None = None) -> Mode:
    found = first_trigger(definition)
    return trigger_rule(found[1] if found else None, trigger_state).default


def mode_issue(
    workflow: str, definition: JSONObject, mode: str, trigger_state: str | None = None
) -> str | None:
    """Why `mode` is not allowed for this workflow's trigger, naming the seed's rule; None when fine."""
    if mode not in MODES:
        return f"expected 'active-active' or 'active-passive', got {mode!r}"
    found = first_trigger(definition)
    rule = trigger_rule(found[1] if found else None, trigger_state)
    if mode in rule.modes or found is None:
        return None
    trigger, kind = found
    described = f"{kind}, {rule.kind}" if rule.kind.lower() != kind.lower() else kind
    return (
        f"workflow '{workflow}' cannot be {mode}: its trigger '{trigger}' ({described}) must be "
        f"active-passive, else {rule.risk}. Seed rule ({rule.section}): {rule.rule}"
    )


def split_issue(workflow: str, definition: JSONObject, mode: str, locations: int) -> str | None:
    """Why this workflow's schedule cannot be split across locations; None when it can."""
    found = first_trigger(definition)
    if found is None or found[1].lower() != "recurrence":
        kind = found[1] if found else "no trigger"
        return f"workflow '{workflow}': only a Recurrence trigger's schedule can be split, not {kind}"
    if mode != ACTIVE_PASSIVE:
        return f"workflow '{workflow}': split applies to an active-passive Recurrence, not {mode}"
    if locations != SPLIT_PARTS:
        return (
            f"workflow '{workflow}': a split schedule needs exactly {SPLIT_PARTS} locations, not {locations}"
        )
    triggers = definition.get("triggers")
    raw = triggers.get(found[0]) if isinstance(triggers, dict) else None
    recurrence = raw.get("recurrence") if isinstance(raw, dict) else None
    start = recurrence.get("startTime") if isinstance(recurrence, dict) else None
    if not isinstance(start, str) or not start:
        return (
            f"workflow '{workflow}': a split recurrence needs a startTime, so that both locations count "
            "occurrences from the same instant (each would otherwise start at its own deployment time)"
        )
    return None


# -- the record ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Split:
    parts: int
    index: int


@dataclass(frozen=True, slots=True)
class Deployment:
    """How one location runs one workflow, as its last deployment said."""

    mode: Mode
    split: Split | None = None
    connections: JSONObject | None = None
    trigger_state: str | None = None
    location_role: str | None = None

    def to_json(self) -> JSONObject:
        return {
            "mode": self.mode,
            "split": None if self.split is None else {"parts": self.split.parts, "index": self.split.index},
            "connections": dict(self.connections or {}),
            "triggerState": self.trigger_state,
            "locationRole": self.location_role,
        }

    @classmethod
    def from_json(cls, value: JSONObject) -> Deployment | None:
        mode = value.get("mode")
        if mode not in MODES:
            return None
        split = value.get("split")
        parsed = None
        if (
            isinstance(split, dict)
            and isinstance(split.get("parts"), int)
            and isinstance(split.get("index"), int)
        ):
            parsed = Split(int(split["parts"]), int(split["index"]))
        connections = value.get("connections")
        state = value.get("triggerState")
        role = value.get("locationRole")
        return cls(
            mode=cast(Mode, mode),
            split=parsed,
            connections=connections if isinstance(connections, dict) else None,
            trigger_state=state if isinstance(state, str) else None,
            location_role=role if isinstance(role, str) else None,
        )


def request_fields(document: JSONObject) -> bool:
    """Whether a deploy request carries continuity fields (else the recorded deployment stays)."""
    return any(key in document for key in ("mode", "split", "connections", "triggerState", "locationRole"))


def deployment_from_request(
    workflow: str, definition: JSONObject, document: JSONObject
) -> tuple[Deployment | None, list[tuple[str, str]]]:
    """The deployment a PUT body asks for (`mode`, `split`, `connections`, `triggerState`,
    `locationRole`), checked against the trigger rules; (None, issues) when it is not valid."""
    issues: list[tuple[str, str]] = []
    state = document.get("triggerState")
    if state is not None and state not in TRIGGER_STATES:
        issues.append(("/triggerState", f"expected 'client' or 'server', got {state!r}"))
        state = None
    raw_mode = document.get("mode")
    mode: Mode = default_mode(definition, cast("str | None", state))
    if raw_mode is not None:
        problem = mode_issue(workflow, definition, str(raw_mode), cast("str | None", state))
        if not isinstance(raw_mode, str) or problem is not None:
            issues.append(("/mode", problem or f"expected a string, got {raw_mode!r}"))
        else:
            mode = cast(Mode, raw_mode)
    split = _split_of(document.get("split"), issues)
    if split is not None and not issues:
        problem = split_issue(workflow, definition, mode, split.parts)
        if problem is not None:
            issues.append(("/split", problem))
    connections = document.get("connections")
    if connections is not None and not isinstance(connections, dict):
        issues.append(("/connections", "expected an object"))
        connections = None
    role = document.get("locationRole")
    if role is not None and role not in LOCATION_ROLES:
        issues.append(("/locationRole", f"expected 'primary' or 'secondary', got {role!r}"))
        role = None
    if issues:
        return None, issues
    return (
        Deployment(
            mode,
            split,
            cast("JSONObject | None", connections),
            cast("str | None", state),
            cast("str | None", role),
        ),
        [],
    )


def _split_of(value: JSON, issues: list[tuple[str, str]]) -> Split | None:
    if value is None or value is False:
        return None
    if isinstance(value, dict):
        parts, index = value.get("parts"), value.get("index")
        if (
            isinstance(parts, int)
            and isinstance(index, int)
            and not isinstance(parts, bool)
            and not isinstance(index, bool)
            and parts >= 1
            and 0 <= index < parts
        ):
            return Split(parts, index)
    issues.append(("/split", f'expected null or {{"parts": n, "index": 0..n-1}}, got {value!r}'))
    return None


def read_deployment(store: Store, workflow: str) -> Deployment | None:
    found = store.get_meta(deployment_key(workflow))
    return Deployment.from_json(found[0]) if found is not None else None


def record_deployment(
    store: Store,
    workflow: str,
    deployment: Deployment,
    *,
    location: str,
    now: datetime,
    new_id: Callable[[], str],
) -> bool:
    """Store the record when it changed (with a "deployed" event); True when it was written."""
    wanted = deployment.to_json()
    found = store.get_meta(deployment_key(workflow))
    if found is not None and found[0] == wanted:
        return False
    event = LocationEvent(
        id=new_id(),
        kind="deployment-changed",
        epoch=0,
        at=now,
        location=location,
        detail={"workflow": workflow, "mode": deployment.mode, "split": wanted["split"]},
    )
    try:
        store.put_meta(
            deployment_key(workflow), wanted, expected_version=found[1] if found else 0, event=event
        )
    except MetaConflictError:
        store.put_meta(deployment_key(workflow), wanted, event=event)  # a concurrent deploy: last wins
    return True


def deployment_mode(store: Store, workflow: str) -> Mode:
    """The recorded mode; without a record, the default for the workflow's trigger (see the table)."""
    record = read_deployment(store, workflow)
    if record is not None:
        return record.mode
    latest = store.get_workflow(workflow)
    return default_mode(latest.definition) if latest is not None else ACTIVE_PASSIVE


# -- what fires here ----------------------------------------------------------------------------------
def workflow_is_active(
    mode: str, location_active: bool, *, split: Split | None = None, firing: Firing = "none"
) -> bool:
    """Whether the workflow's triggers fire, poll and subscribe in this location.

    Active-active: always. Active-passive: when the location is active — except a split recurrence,
    which fires whenever `split_firing` gives this location a part of the schedule.
    """
    if mode == ACTIVE_ACTIVE:
        return True
    if split is not None:
        return firing != "none"
    return location_active


def effective_deployment(record: Deployment | None, definition: JSONObject) -> Deployment:
    """The recorded deployment, or the default for the workflow's trigger when none was recorded:
    what `active_under` decides with (the server keeps it with the workflow's endpoint)."""
    return record if record is not None else Deployment(default_mode(definition))


def fires_here(
    store: Store,
    workflow: str,
    *,
    location_active: bool,
    firing: Firing = "none",
    definition: JSONObject | None = None,
) -> bool:
    """`workflow_is_active` over the recorded deployment: what `TriggerService.is_active` should say.

    `definition` (the latest one, when the caller has it) saves a read for the default mode."""
    record = read_deployment(store, workflow)
    if record is None and definition is None:
        return workflow_is_active(deployment_mode(store, workflow), location_active)
    return active_under(record, definition or {}, location_active=location_active, firing=lambda: firing)


def active_under(
    record: Deployment | None,
    definition: JSONObject,
    *,
    location_active: bool,
    firing: Callable[[], Firing],
) -> bool:
    """`fires_here` for a caller that holds the deployment record and the latest definition (the
    server caches both with the workflow's endpoint). `firing` is asked only for a split schedule."""
    if record is None:
        return workflow_is_active(default_mode(definition), location_active)
    split_firing = firing() if record.split is not None else "none"
    return workflow_is_active(record.mode, location_active, split=record.split, firing=split_firing)


def recurrence_share(
    store: Store,
    workflow: str,
    *,
    firing: Firing,
    since: datetime | None = None,
    grace: timedelta | None = None,
) -> Share | None:
    """The part of a split recurrence this location fires now (None: the whole schedule, unsplit).

    "share": its (parts, index); "full": every occurrence; both from `since` on (earlier ones may
    have fired in the other location), occurrences up to `grace` late still fired. Whether
    anything fires at all is `fires_here`.
    """
    record = read_deployment(store, workflow)
    if record is None or record.split is None or record.mode != ACTIVE_PASSIVE:
        return None
    extra = {"grace": grace} if grace is not None else {}
    if firing == "share":
        return Share(record.split.parts, record.split.index, since, **extra)
    return Share(1, 0, since, **extra)


# -- who fires which part of a split schedule, over time -----------------------------------------------
Firing = Literal["share", "full", "none"]


@dataclass(frozen=True, slots=True)
class Pairing:
    """What one location knows, at a moment, about which part of a split schedule the other fires.

    The active location asks its peer every lease round; a round marked *split* (sent only after the
    peer confirmed the previous one) promises "I fire only my share until `sent + window`, and not
    the full schedule before `sent + lease`". So:

    - active: `share_until` = the last split round the peer confirmed + window (its own share until
      then; the peer certainly saw that promise); `full_from` = the last split round sent + lease
      (a licence the peer may hold ends before it). Between the two it fires nothing.
    - passive: `share_until` = the licence of the last split round it confirmed (its share until
      then), `licence_since` = when the current run of licences began (the active one may have
      fired everything before it), `peer_bound` = when the active location it confirmed stops firing
      anything, as far as those rounds say (a split round: sent + window; any other: sent + lease;
      a release: at once).
    - `since`: after a takeover, no occurrence before it (the other location may have fired it).

    Clocks of the two locations are assumed to agree (as the split schedule itself assumes).
    """

    share_until: datetime | None = None
    full_from: datetime | None = None
    since: datetime | None = None
    licence_since: datetime | None = None
    peer_bound: datetime | None = None


def split_firing(pairing: Pairing, *, active: bool, acting: bool, now: datetime) -> Firing:
    """Which part of a split schedule this location fires at `now`."""
    if not active:
        return "share" if _before(now, pairing.share_until) else "none"
    if not acting:
        return "none"
    if _before(now, pairing.share_until):
        return "share"
    return "none" if _before(now, pairing.full_from) else "full"


def firing_since(pairing: Pairing, firing: Firing, *, active: bool) -> datetime | None:
    """The first instant whose occurrence this location may fire in `firing`."""
    if not active:
        return pairing.licence_since
    if firing == "full":
        return _latest(pairing.since, pairing.full_from)
    return pairing.since


def round_sent(pairing: Pairing, sent: datetime, *, split: bool, lease: timedelta) -> Pairing:
    """The active location sent a lease round (a split one binds it not to fire in full until
    `sent + lease`)."""
    if not split:
        return pairing
    return replace(pairing, full_from=_latest(pairing.full_from, sent + lease))


def round_confirmed(pairing: Pairing, started: datetime, *, split: bool, window: timedelta) -> Pairing:
    """The peer confirmed a round: after a split one, the active location fires its share."""
    if not split:
        return pairing
    return replace(pairing, share_until=_latest(pairing.share_until, started + window))


def lease_received(
    pairing: Pairing,
    now: datetime,
    *,
    sent: datetime,
    lease: timedelta,
    split_until: datetime | None,
    release: bool = False,
) -> Pairing:
    """The passive location confirmed a lease round from the active one (sent at `sent`)."""
    if release:
        return replace(pairing, peer_bound=now)  # it deactivated before releasing: fires nothing
    bound = split_until if split_until is not None else sent + lease
    pairing = replace(pairing, peer_bound=_latest(pairing.peer_bound, bound))
    if split_until is None:
        return pairing
    since = pairing.licence_since if _before(now, pairing.share_until) else sent
    return replace(pairing, share_until=_latest(pairing.share_until, split_until), licence_since=since)


def taken_over(pairing: Pairing, now: datetime, *, bound: datetime | None, fill: timedelta) -> Pairing:
    """Activated at `now`: fire nothing before `bound` — when the other location stopped firing as
    far as this one knows, else `now` — and, of the gap, at most `fill` back."""
    since = max(bound if bound is not None else now, now - fill)
    return replace(pairing, share_until=None, since=since)


def stood_down(pairing: Pairing) -> Pairing:
    """No longer active: its own share window ends (a licence from the new active one replaces it)."""
    return replace(pairing, share_until=None, licence_since=None)


def _before(now: datetime, until: datetime | None) -> bool:
    return until is not None and now < until


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    return b if b is not None and b > a else a


def planned_deployment(
    store: Store, workflow: str, definition: JSONObject, document: JSONObject
) -> tuple[Deployment | None, list[tuple[str, str]]]:
    """For a location's deploy: the deployment the request asks for (None when it asks for none and
    the recorded one stays), or the issues that refuse it — including a recorded mode that the new
    definition's trigger no longer allows."""
    if request_fields(document):
        return deployment_from_request(workflow, definition, document)
    recorded = read_deployment(store, workflow)
    if recorded is None:
        return None, []
    problem = mode_issue(workflow, definition, recorded.mode, recorded.trigger_state)
    if problem is None and recorded.split is not None:
        problem = split_issue(workflow, definition, recorded.mode, recorded.split.parts)
    if problem is not None:
        return None, [("/mode", f"{problem} (the recorded deployment; redeploy with a 'mode')")]
    return None, []


def deployment_view(store: Store, workflow: str, definition: JSONObject) -> JSONObject:
    """The recorded deployment, or the defaults that apply without one (`"recorded": false`)."""
    recorded = read_deployment(store, workflow)
    if recorded is not None:
        return {**recorded.to_json(), "recorded": True}
    return {**Deployment(default_mode(definition)).to_json(), "recorded": False}
