"""The drill's report, computed from what the drill observed: a pure function of the request log, both
locations' continuity histories and trigger histories, and which run ids each store holds.

Every time is wall-clock seconds (UNIX time) as read on the machine that ran the locations; the
drill's own clock and the locations' event times are compared directly, so for locations on other
machines their clocks must agree (NTP) for the detect time to mean anything.

Definitions (docs in `pairflow drill --help` and the README):

- time to detect: the fault → the secondary's first `activated` event after it (its history).
- RTO: the fault → the first 2xx answered by the secondary (the answer's arrival at the drill).
- acknowledged runs lost (RPO): requests answered 2xx with a run id whose run is in no store. A run
  whose only possible store could not be read is counted `unverified`, never `lost`.
- recurrence: occurrences scheduled in the window (traffic start → end, minus one interval and a
  second of slack) that no location fired are `missed`; fired by two locations, `doubled`; fired
  more than one interval after their instant, `late`.
- abandoned: runs still Running in the primary's store at the end that no location finished — the
  seed's "any in-progress workflow instances are abandoned".
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pairflow.jsontypes import JSON, JSONObject

FOR_SCALE = (
    "Logic Apps leaves detection and activation to a watchdog you build yourself",
    "Temporal Cloud states an RTO of 20 minutes; Camunda's dual-region about 15 minutes",
)
LISTED = 20  # ids or occurrences listed in the JSON at most (the counts are complete)
WINDOW_SLACK = 1.0  # seconds: occurrences this close to the end may not have fired yet


@dataclass(frozen=True, slots=True)
class Targets:
    rto_seconds: float = 5.0
    lost: int = 0
    doubled: int = 0
    missed: int = 1


@dataclass(frozen=True, slots=True)
class Sample:
    """One request the drill sent through the front door."""

    sent: float
    answered: float
    status: int | None  # None: no HTTP answer (transport error)
    run_id: str | None = None
    location: str | None = None  # who answered (the front door's x-pairflow-frontdoor-location)
    error: str = ""  # the error code of a non-2xx answer, or the transport error's name

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True, slots=True)
class Event:
    """One entry of a location's continuity history."""

    location: str
    kind: str
    epoch: int
    at: float
    detail: JSONObject = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Fire:
    """One fired Recurrence occurrence: where, which instant, when it fired."""

    location: str
    occurrence: float
    fired_at: float


@dataclass(frozen=True, slots=True)
class Observed:
    """Everything the drill saw; `compute` turns it into the report."""

    fault: str
    primary: str
    secondary: str
    started: float  # traffic started
    fault_at: float
    ended: float  # traffic stopped
    samples: Sequence[Sample]
    events: Sequence[Event]
    found: Mapping[str, frozenset[str]]  # run id -> the locations whose store holds it
    unreadable: frozenset[str]  # locations whose store could not be read
    running_on_primary: Sequence[str]  # run ids Running in the primary's store at the end
    finished_elsewhere: frozenset[str]  # of those, the ones another location finished
    fires: Sequence[Fire]
    interval: float  # the recurrence's interval, seconds
    anchor: float  # the recurrence's startTime
    settings: JSONObject = field(default_factory=dict)
    alert_at: float | None = None  # the watchdog's alert (its failure threshold reached)
    timeline: Sequence[tuple[float, str]] = ()


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _percentile(values: Sequence[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def _detection(observed: Observed) -> JSONObject:
    after = [e for e in observed.events if e.at >= observed.fault_at - 0.001]
    activated = next(
        (
            e
            for e in sorted(after, key=lambda e: e.at)
            if e.location == observed.secondary and e.kind == "activated"
        ),
        None,
    )
    stood_down = next(
        (
            e
            for e in sorted(after, key=lambda e: e.at)
            if e.location == observed.primary and e.kind in ("stepped-down", "lease-lapsed", "epoch-learned")
        ),
        None,
    )
    result: JSONObject = {
        "detectSeconds": _seconds(activated.at - observed.fault_at) if activated else None,
        "activatedAt": iso(activated.at) if activated else None,
        "epoch": activated.epoch if activated else None,
        "reason": str(activated.detail.get("reason", "")) if activated else None,
        "alertSeconds": _seconds(observed.alert_at - observed.fault_at) if observed.alert_at else None,
        "primaryStoodDown": (
            {"kind": stood_down.kind, "seconds": _seconds(stood_down.at - observed.fault_at)}
            if stood_down
            else None
        ),
    }
    return result


def _requests(observed: Observed) -> tuple[JSONObject, float | None]:
    samples = sorted(observed.samples, key=lambda s: s.sent)
    recovered = next(
        (
            s
            for s in sorted(samples, key=lambda s: s.answered)
            if s.ok and s.location == observed.secondary and s.answered >= observed.fault_at
        ),
        None,
    )
    recovery = recovered.answered if recovered else None
    before = [s for s in samples if s.sent < observed.fault_at]
    window = [s for s in samples if s.sent >= observed.fault_at and (recovery is None or s.sent < recovery)]
    after = [s for s in samples if recovery is not None and s.sent >= recovery]
    # a request sent just before the fault may fail because of it: it belongs to the window
    in_flight = [s for s in before if not s.ok and s.answered >= observed.fault_at]

    def failures(group: Sequence[Sample]) -> JSONObject:
        reasons = Counter(s.error or f"HTTP {s.status}" for s in group if not s.ok)
        return dict(sorted(reasons.items(), key=lambda item: -item[1]))

    latencies = [s.answered - s.sent for s in samples if s.ok]
    by_location = Counter(s.location or "(none)" for s in samples if s.ok)
    failed_window = [s for s in (*in_flight, *window) if not s.ok]
    result: JSONObject = {
        "sent": len(samples),
        "succeeded": sum(1 for s in samples if s.ok),
        "answeredBy": dict(by_location),
        "failedBeforeFault": sum(1 for s in before if not s.ok and s.answered < observed.fault_at),
        "failedDuringWindow": len(failed_window),
        "failedDuringWindowBy": failures(failed_window),
        "failedAfterRecovery": sum(1 for s in after if not s.ok),
        "failedAfterRecoveryBy": failures(after),
        "latencyP50Ms": _seconds(1000 * p) if (p := _percentile(latencies, 0.5)) is not None else None,
        "latencyP99Ms": _seconds(1000 * p) if (p := _percentile(latencies, 0.99)) is not None else None,
    }
    return result, recovery


def _runs(observed: Observed) -> JSONObject:
    acknowledged = [s for s in observed.samples if s.ok and s.run_id]
    lost: list[str] = []
    unverified: list[str] = []
    for sample in acknowledged:
        assert sample.run_id is not None
        if observed.found.get(sample.run_id):
            continue
        could_hold = {sample.location} if sample.location else {observed.primary, observed.secondary}
        if could_hold & observed.unreadable:
            unverified.append(sample.run_id)
        else:
            lost.append(sample.run_id)
    abandoned = [r for r in observed.running_on_primary if r not in observed.finished_elsewhere]
    return {
        "acknowledged": len(acknowledged),
        "acknowledgedWithoutRunId": sum(1 for s in observed.samples if s.ok and not s.run_id),
        "lost": len(lost),
        "lostRunIds": lost[:LISTED],
        "unverified": len(unverified),
        "unverifiedRunIds": unverified[:LISTED],
        "unreadableStores": sorted(observed.unreadable),
        "abandoned": len(abandoned),
        "abandonedRunIds": abandoned[:LISTED],
    }


def _recurrence(observed: Observed) -> JSONObject:
    interval = observed.interval
    start = observed.started
    end = observed.ended - interval - WINDOW_SLACK
    first = math.ceil((start - observed.anchor) / interval - 1e-9)
    last = math.floor((end - observed.anchor) / interval + 1e-9)
    expected = {round(observed.anchor + k * interval, 3) for k in range(first, last + 1)}
    where: dict[float, set[str]] = {}
    late: list[float] = []
    by_location: Counter[str] = Counter()
    for fire in observed.fires:
        moment = round(fire.occurrence, 3)
        if moment not in expected:
            continue
        where.setdefault(moment, set()).add(fire.location)
        by_location[fire.location] += 1
        if fire.fired_at - fire.occurrence > interval:
            late.append(moment)
    missed = sorted(expected - set(where))
    doubled = sorted(moment for moment, places in where.items() if len(places) > 1)
    return {
        "window": {"from": iso(start), "to": iso(end)},
        "intervalSeconds": interval,
        "expected": len(expected),
        "fired": len(where),
        "firedBy": dict(by_location),
        "missed": len(missed),
        "missedOccurrences": [iso(m) for m in missed[:LISTED]],
        "doubled": len(doubled),
        "doubledOccurrences": [iso(m) for m in doubled[:LISTED]],
        "late": len(set(late)),
        "lateOccurrences": [iso(m) for m in sorted(set(late))[:LISTED]],
    }


def _target(value: JSON, limit: float, met: bool, text: str) -> JSONObject:
    return {"value": value, "target": text, "limit": limit, "met": met}


def compute(observed: Observed, targets: Targets | None = None) -> JSONObject:
    """The drill's report as JSON: detection, RTO, RPO, recurrence, abandoned runs, targets."""
    goal = targets or Targets()
    requests, recovery = _requests(observed)
    rto = None if recovery is None else recovery - observed.fault_at
    runs = _runs(observed)
    recurrence = _recurrence(observed)
    lost, missed, doubled = runs["lost"], recurrence["missed"], recurrence["doubled"]
    assert isinstance(lost, int) and isinstance(missed, int) and isinstance(doubled, int)
    checks: JSONObject = {
        "rto": _target(
            _seconds(rto),
            goal.rto_seconds,
            rto is not None and rto < goal.rto_seconds,
            f"< {goal.rto_seconds:g} s",
        ),
        "lost": _target(lost, goal.lost, lost <= goal.lost, f"<= {goal.lost}"),
        "doubled": _target(doubled, goal.doubled, doubled <= goal.doubled, f"<= {goal.doubled}"),
        "missed": _target(missed, goal.missed, missed <= goal.missed, f"<= {goal.missed}"),
    }
    return {
        "fault": observed.fault,
        "primary": observed.primary,
        "secondary": observed.secondary,
        "startedAt": iso(observed.started),
        "faultAt": iso(observed.fault_at),
        "faultAfterSeconds": _seconds(observed.fault_at - observed.started),
        "endedAt": iso(observed.ended),
        "settings": dict(observed.settings),
        "detection": _detection(observed),
        "rtoSeconds": _seconds(rto),
        "recoveredAt": iso(recovery) if recovery is not None else None,
        "requests": requests,
        "runs": runs,
        "recurrence": recurrence,
        "targets": checks,
        "targetsMet": all(isinstance(c, dict) and c.get("met") is True for c in checks.values()),
        "forScale": list(FOR_SCALE),
        "timeline": [
            {"t": round(t - observed.started, 2), "text": text} for t, text in sorted(observed.timeline)
        ],
    }


# -- the human report ---------------------------------------------------------------------------------
def _num(value: JSON, unit: str = "") -> str:
    if value is None:
        return "not measured"
    if isinstance(value, float):
        return f"{value:.2f}{unit}"
    return f"{value}{unit}"


def _mark(report: JSONObject, name: str) -> str:
    targets = report.get("targets")
    check = targets.get(name) if isinstance(targets, dict) else None
    if not isinstance(check, dict):
        return ""
    verdict = "met" if check.get("met") is True else "NOT MET"
    return f"  [target {check.get('target')}: {verdict}]"


def _counts(value: JSON) -> str:
    if not isinstance(value, dict) or not value:
        return "none"
    return ", ".join(f"{key} {count}" for key, count in value.items())


def render(report: JSONObject) -> list[str]:
    """The report for a terminal, one line each."""

    def part(name: str) -> JSONObject:
        found = report.get(name)
        return found if isinstance(found, dict) else {}

    detection, requests, runs, recurrence = (
        part("detection"),
        part("requests"),
        part("runs"),
        part("recurrence"),
    )
    settings = part("settings")
    primary, secondary = report.get("primary"), report.get("secondary")
    alert = detection.get("alertSeconds")
    lines = [
        f"pairflow drill: {report.get('fault')} of {primary} at "
        f"t+{_num(report.get('faultAfterSeconds'), 's')}; "
        f"watchdog in {secondary}: {_num(settings.get('probeInterval'), ' s')} probes x "
        f"{settings.get('failures')} failures, lease {_num(settings.get('leaseSeconds'), ' s')}",
        f"  time to detect      {_num(detection.get('detectSeconds'), ' s')} "
        f"(fault -> {secondary} activated, "
        f"epoch {detection.get('epoch')}"
        + (f"; watchdog alert at +{_num(alert, ' s')}" if alert is not None else "")
        + ")",
        f"  RTO                 {_num(report.get('rtoSeconds'), ' s')} (fault -> first request served by "
        f"{secondary}){_mark(report, 'rto')}",
        f"  RPO                 {runs.get('lost')} of {runs.get('acknowledged')} acknowledged runs lost"
        + (f", {runs.get('unverified')} unverified" if runs.get("unverified") else "")
        + _mark(report, "lost"),
        f"  requests            {requests.get('sent')} sent, {requests.get('succeeded')} succeeded "
        f"(by {_counts(requests.get('answeredBy'))}); failed: {requests.get('failedDuringWindow')} during "
        f"the failover ({_counts(requests.get('failedDuringWindowBy'))}), "
        f"{requests.get('failedAfterRecovery')} after it",
        f"  recurrence          {recurrence.get('expected')} expected, {recurrence.get('fired')} fired "
        f"(by {_counts(recurrence.get('firedBy'))}), {recurrence.get('late')} late",
        f"    missed            {recurrence.get('missed')}{_mark(report, 'missed')}",
        f"    doubled           {recurrence.get('doubled')}{_mark(report, 'doubled')}",
        f"  abandoned           {runs.get('abandoned')} runs in progress on {primary} that no location "
        "finished (with replication the secondary adopts and finishes the runs it received)",
        "  for scale: " + "; ".join(FOR_SCALE),
        "  all targets met" if report.get("targetsMet") is True else "  some targets NOT met",
    ]
    return lines
