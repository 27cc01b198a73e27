"""The location's continuity document: its epoch, whether it is active, its lease, the lease it
granted a peer, and which location it believes active.

Stored under the store document "continuity" and only ever replaced with compare-and-set, each
replacement together with the `LocationEvent` that explains it (`save`). The decisions about it —
whether a peer's lease request is granted, how many confirmations make a quorum — are pure
functions here; `controller.py` does the I/O around them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from pairflow.jsontypes import JSON, JSONObject
from pairflow.store.base import Store
from pairflow.store.records import LocationEvent

DOCUMENT = "continuity"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(value: JSON) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Grant:
    """A lease this location confirmed for a peer: it will not activate, nor confirm another
    location at the same epoch, before `until`."""

    location: str
    epoch: int
    until: datetime
    url: str = ""

    def json(self) -> JSONObject:
        return {"location": self.location, "epoch": self.epoch, "until": iso(self.until), "url": self.url}


@dataclass(frozen=True, slots=True)
class Leader:
    """The location believed active, with the epoch it was learned under."""

    location: str
    url: str
    epoch: int

    def json(self) -> JSONObject:
        return {"location": self.location, "url": self.url, "epoch": self.epoch}


@dataclass(frozen=True, slots=True)
class Doc:
    epoch: int = 0
    active: bool = False
    lease_until: datetime | None = None  # the end of the lease a quorum last confirmed
    sole: bool = False  # activated without a quorum (forced, or two locations with the peer gone)
    granted: Grant | None = None
    leader: Leader | None = None
    peers: dict[str, str] = field(default_factory=dict)

    def json(self) -> JSONObject:
        return {
            "epoch": self.epoch,
            "active": self.active,
            "lease_until": iso(self.lease_until) if self.lease_until is not None else None,
            "sole": self.sole,
            "granted": self.granted.json() if self.granted is not None else None,
            "leader": self.leader.json() if self.leader is not None else None,
            "peers": dict(self.peers),
        }

    def grant_open(self, now: datetime) -> Grant | None:
        """The granted lease while it is unexpired."""
        return self.granted if self.granted is not None and self.granted.until > now else None

    def lease_valid(self, now: datetime) -> bool:
        return self.active and (self.sole or (self.lease_until is not None and now < self.lease_until))


def _int(value: JSON) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _grant(value: JSON) -> Grant | None:
    if not isinstance(value, dict):
        return None
    until = parse_time(value.get("until"))
    if until is None or not isinstance(value.get("location"), str):
        return None
    url = value.get("url")
    return Grant(str(value["location"]), _int(value.get("epoch")), until, url if isinstance(url, str) else "")


def _leader(value: JSON) -> Leader | None:
    if not isinstance(value, dict) or not isinstance(value.get("location"), str):
        return None
    url = value.get("url")
    return Leader(str(value["location"]), url if isinstance(url, str) else "", _int(value.get("epoch")))


def from_json(value: JSONObject) -> Doc:
    peers = value.get("peers")
    return Doc(
        epoch=_int(value.get("epoch")),
        active=value.get("active") is True,
        lease_until=parse_time(value.get("lease_until")),
        sole=value.get("sole") is True,
        granted=_grant(value.get("granted")),
        leader=_leader(value.get("leader")),
        peers={str(k): str(v) for k, v in peers.items()} if isinstance(peers, dict) else {},
    )


def load(store: Store) -> tuple[Doc, int]:
    """The stored document and its version (0 when there is none yet)."""
    found = store.get_meta(DOCUMENT)
    if found is None:
        return Doc(), 0
    value, version = found
    return from_json(value), version


def save(store: Store, doc: Doc, version: int, event: LocationEvent | None) -> int:
    """Compare-and-set the document (`MetaConflictError` when it moved) with its event."""
    return store.put_meta(DOCUMENT, doc.json(), expected_version=version, event=event)


def active_location_hint(store: Store) -> tuple[str, str] | None:
    """(name, URL) of the location this store's location believes active, if it knows one."""
    doc, _ = load(store)
    if doc.leader is None or not doc.leader.location:
        return None
    return doc.leader.location, doc.leader.url


def quorum(voters: int) -> int:
    """Confirmations (the location's own included) that make a majority of `voters`."""
    return voters // 2 + 1


@dataclass(frozen=True, slots=True)
class LeaseRequest:
    location: str
    epoch: int
    seconds: float
    url: str = ""
    force: bool = False
    release: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    """What a voter answers a lease request, and the document it then stores (None: unchanged)."""

    accepted: bool
    reason: str
    doc: Doc | None = None
    stepped_down: bool = False


def decide_grant(doc: Doc, me: str, request: LeaseRequest, now: datetime, acting: bool) -> Decision:
    """Whether this location (`me`, state `doc`) confirms `request`; pure.

    Refused: a lower epoch; the same epoch while this location is active itself (a tie); an
    unexpired grant to another location, unless the request is forced. Accepted otherwise: a higher
    epoch is adopted (an active location steps down) and the grant recorded until now + seconds.
    """
    if request.location == me:
        return Decision(False, "a location does not vote for itself")
    if request.release:
        if doc.granted is not None and doc.granted.location == request.location:
            return Decision(True, "released", replace(doc, granted=None))
        return Decision(True, "nothing to release")
    if request.epoch < doc.epoch:
        return Decision(False, f"epoch {request.epoch} is older than {doc.epoch}")
    if request.epoch == doc.epoch and doc.active:
        return Decision(False, f"this location is active at epoch {doc.epoch} itself")
    held = doc.grant_open(now)
    if held is not None and held.location != request.location and not request.force:
        return Decision(False, f"a lease granted to {held.location} runs until {iso(held.until)}")
    until = now + timedelta(seconds=request.seconds)
    stepped = doc.active and request.epoch > doc.epoch
    new = replace(
        doc,
        epoch=max(doc.epoch, request.epoch),
        active=False if stepped else doc.active,
        sole=False if stepped else doc.sole,
        granted=Grant(request.location, request.epoch, until, request.url),
        leader=Leader(request.location, request.url, request.epoch),
    )
    return Decision(True, "granted", new, stepped_down=stepped or (acting and request.epoch > doc.epoch))
