"""The failover drill (`pairflow drill`): two locations, a front door, steady Request traffic and a
Recurrence; a fault on the primary; the watchdog's failover as it happens; and a report.

Locally (the default) the drill starts everything itself on 127.0.0.1 with free ports and SQLite
stores in a temporary directory: `west` (primary) and `east` (secondary, whose watchdog probes west
every `probe_interval` seconds and activates east after `failures` failed probes), each reaching the
other — peer lease calls and the watchdog's probes — through a `Link` the drill controls, and
`pairflow frontdoor` in front of both so callers have one URL. With `locations` given (URLs of
running locations, primary first) it starts only the front door, and the fault needs the primary's
process id on this machine (`primary_pid`; `isolate` needs the drill's links, so local only).

Then: the template (examples/continuity/drill-template.json: an active-passive Request→Response
workflow whose run waits a second after answering 202, and an active-passive Recurrence every second
split across the two locations, as the seed recommends to limit missed occurrences) is deployed to
both; traffic is driven at `rate` requests per second through the front door, every request
recorded; after `warmup` seconds the primary is faulted — `kill` (SIGKILL), `stop` (SIGSTOP, with
SIGCONT once the secondary serves) or `isolate` (its links to the secondary are cut, and healed once
the secondary serves) — and traffic goes on until the secondary has served and `duration` seconds
have passed since the fault. Finally the stores (the SQLite files locally, the API otherwise) say
which acknowledged runs exist, what each location fired, and which runs were left Running, and
`drill_report.compute` makes the report.

With `say`, a timeline is printed as things happen, from the locations' continuity histories, the
watchdog's alert, the front door's view of the locations, and the traffic's answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from pairflow.continuity import drill_report, template
from pairflow.continuity.drill_link import AlertInbox, Link
from pairflow.continuity.drill_processes import DrillError, Started, clean_env, end, spawn
from pairflow.continuity.drill_report import Event, Fire, Observed, Sample, Targets
from pairflow.continuity.drill_sources import ApiSource, Source, StoreSource, Unreadable, parse_time
from pairflow.errors import InputError
from pairflow.jsontypes import JSONObject

DEFAULT_TEMPLATE = Path(__file__).resolve().parents[2] / "examples" / "continuity" / "drill-template.json"
FAULTS = ("kill", "stop", "isolate")
PRIMARY, SECONDARY = "west", "east"
REQUEST_TIMEOUT = 10.0  # seconds one drill request may take
POLL = 0.2  # seconds between polls of the locations' histories
MAX_IN_FLIGHT = 64  # requests the drill has open at once; beyond, the rate drops
UNIT_SECONDS = {"second": 1.0, "minute": 60.0, "hour": 3600.0}


@dataclass(frozen=True, slots=True)
class DrillSettings:
    fault: str = "kill"
    duration: float = 10.0  # seconds of traffic after the fault (at least until the secondary serves)
    warmup: float = 4.0  # seconds of traffic before the fault
    rate: float = 50.0  # requests per second
    probe_interval: float = 1.0
    failures: int = 3
    lease_seconds: float = 3.0
    recover_timeout: float = 60.0  # seconds after the fault to wait for the secondary to serve
    settle: float = 2.0  # seconds of traffic after the secondary first served
    locations: tuple[tuple[str, str], ...] = ()  # running locations (name, URL), primary first
    api_key: str | None = None
    primary_pid: int | None = None
    template: Path = DEFAULT_TEMPLATE
    workdir: Path | None = None  # kept when given; a temporary directory otherwise
    targets: Targets = field(default_factory=Targets)

    def check(self) -> None:
        """Refuse settings the drill cannot carry out, naming the option."""
        if self.fault not in FAULTS:
            raise InputError(f"--fault: expected one of {', '.join(FAULTS)}, got {self.fault!r}")
        for flag, value in (
            ("--duration", self.duration),
            ("--warmup", self.warmup),
            ("--rate", self.rate),
            ("--probe-interval", self.probe_interval),
            ("--lease-seconds", self.lease_seconds),
        ):
            if not 0 < value < float("inf"):
                raise InputError(f"{flag}: expected a positive number, got {value!r}")
        if self.rate > 500:
            raise InputError(f"--rate: at most 500 requests per second, got {self.rate:g}")
        if self.failures < 1:
            raise InputError(f"--failures: expected a positive integer, got {self.failures}")
        if self.locations:
            if len(self.locations) != 2:
                raise InputError("--locations: expected two locations, primary first: west=URL,east=URL")
            if self.fault == "isolate":
                raise InputError(
                    "--fault isolate: needs the drill's own links between the locations; "
                    "run it without --locations"
                )
            if self.primary_pid is None:
                raise InputError(
                    f"--fault {self.fault} with --locations: give --primary-pid, the process id of "
                    "the primary's `pairflow serve` on this machine"
                )


@dataclass(frozen=True, slots=True)
class Workload:
    """What the template gives the drill to drive and watch."""

    request_workflow: str
    request_trigger: str
    recurrence_workflow: str
    recurrence_trigger: str
    interval: float  # seconds
    anchor: float  # the recurrence's startTime


def workload_of(plan: template.LocationPlan) -> Workload:
    """The Request workflow and the Recurrence (with a startTime) the drill needs from the template."""
    request: tuple[str, str] | None = None
    recurrence: tuple[str, str, float, float] | None = None
    for workflow in plan.workflows:
        triggers = workflow.definition.get("triggers")
        if not isinstance(triggers, dict):
            continue
        for trigger_name, trigger in triggers.items():
            kind = trigger.get("type") if isinstance(trigger, dict) else None
            if kind == "Request" and request is None:
                request = (workflow.name, trigger_name)
            if kind == "Recurrence" and recurrence is None and isinstance(trigger, dict):
                schedule = trigger.get("recurrence")
                if not isinstance(schedule, dict):
                    continue
                unit = UNIT_SECONDS.get(str(schedule.get("frequency", "")).lower())
                count = schedule.get("interval", 1)
                anchor = parse_time(schedule.get("startTime"))
                if unit is not None and isinstance(count, int) and count > 0 and anchor is not None:
                    recurrence = (workflow.name, trigger_name, unit * count, anchor)
    if request is None:
        raise InputError("--template: the drill needs a workflow with a Request trigger")
    if recurrence is None:
        raise InputError(
            "--template: the drill needs a workflow with a Recurrence trigger (Second, Minute or Hour) "
            "and a startTime, so both locations count the same occurrences"
        )
    return Workload(request[0], request[1], *recurrence)


# -- the timeline ---------------------------------------------------------------------------------------
class Timeline:
    """What happened, when (wall clock); printed as it happens when `say` is given."""

    def __init__(self, say: Callable[[str], None] | None) -> None:
        self.say = say
        self.t0: float | None = None
        self.entries: list[tuple[float, str]] = []

    def setup(self, text: str) -> None:
        if self.say is not None:
            self.say(f"          {text}")

    def add(self, text: str, at: float | None = None) -> None:
        moment = time.time() if at is None else at
        self.entries.append((moment, text))
        if self.say is not None:
            offset = moment - (self.t0 if self.t0 is not None else moment)
            self.say(f"t{offset:+6.1f}s  {text}")


def describe(event: Event) -> str:
    """One continuity event, as a timeline line."""
    detail = event.detail
    reason = detail.get("reason")
    where = event.location
    if event.kind == "activated":
        why = f" ({reason})" if isinstance(reason, str) and reason else ""
        return f"{where} activated at epoch {event.epoch}{why}"
    if event.kind == "stepped-down":
        return f"{where} stepped down to passive: {reason}"
    if event.kind == "epoch-learned":
        return f"{where} learned epoch {event.epoch}: {reason}"
    if event.kind == "lease-lapsed":
        return f"{where}'s lease lapsed: it stops acting as active"
    if event.kind == "lease-regained":
        return f"{where}'s lease was confirmed again"
    if event.kind == "adopted-runs":
        origins = detail.get("from")
        named = (
            ", ".join(f"{count} from {origin}" for origin, count in origins.items())
            if isinstance(origins, dict)
            else ""
        )
        return f"{where} adopted {detail.get('count')} replicated runs in progress ({named}) and resumes them"
    if event.kind == "watchdog-probe-failed":
        return f"{where}'s watchdog: probe {detail.get('probe')} failed: {detail.get('error')}"
    if event.kind == "watchdog-probe-recovered":
        return f"{where}'s watchdog: the watched location answers again"
    if event.kind == "lease-granted":
        return f"{where} confirmed {detail.get('from')}'s lease at epoch {detail.get('requestEpoch')}"
    return f"{where}: {event.kind} (epoch {event.epoch})"


# -- the drill --------------------------------------------------------------------------------------------
class Drill:
    def __init__(self, settings: DrillSettings, say: Callable[[str], None] | None = None) -> None:
        settings.check()
        self.settings = settings
        self.timeline = Timeline(say)
        self.api_key = settings.api_key or "drill-" + secrets.token_urlsafe(18)
        self.local = not settings.locations
        names = [name for name, _ in settings.locations] or [PRIMARY, SECONDARY]
        self.primary, self.secondary = names
        self.plans = {name: template.plan_from_files(settings.template, None, name) for name in names}
        self.workload = workload_of(self.plans[self.primary])
        self.started: dict[str, Started] = {}
        self.links: dict[str, Link] = {}
        self.urls: dict[str, str] = dict(settings.locations)
        self.stores: dict[str, Path] = {}
        self.inbox = AlertInbox(self._alerted)
        self.samples: list[Sample] = []
        self.fault_at: float | None = None
        self.recovered_at: float | None = None
        self._serving: str | None = None  # the location that answered the last success
        self._failures: set[str] = set()  # kinds of failure told since it started serving
        self._seen_events: set[tuple[str, str, float]] = set()
        self._door_view: dict[str, tuple[object, ...]] = {}
        self._fired_after_fault: set[str] = set()
        self._seen_fires: set[tuple[str, float]] = set()
        self.workdir = settings.workdir or Path(tempfile.mkdtemp(prefix="pairflow-drill-"))
        self.workdir.mkdir(parents=True, exist_ok=True)

    # -- setup ----------------------------------------------------------------------------------------
    def _env(self, extra: dict[str, str]) -> dict[str, str]:
        return clean_env({"PAIRFLOW_API_KEYS": self.api_key, "PAIRFLOW_SHUTDOWN_GRACE": "2", **extra})

    async def _location(self, name: str, extra: dict[str, str]) -> None:
        store = self.workdir / f"{name}.db"
        self.stores[name] = store
        args = ["pairflow.cli.serve_command", "--store", str(store), "--location", name, "--port", "0"]
        started = await spawn(
            name, args, self._env(extra), f"pairflow serving location {name} at ", self.workdir
        )
        self.started[name] = started
        self.urls[name] = started.url
        self.timeline.setup(f"{name} serving at {started.url} (store {store})")

    async def _start_locations(self, http: httpx.AsyncClient) -> None:
        s = self.settings
        for name in (PRIMARY, SECONDARY):
            self.links[name] = Link()  # the way *to* `name` from the other location
            await self.links[name].start()
        await self.inbox.start()
        common = {"PAIRFLOW_LEASE_SECONDS": f"{s.lease_seconds:g}"}
        await self._location(
            PRIMARY,
            {
                **common,
                "PAIRFLOW_ROLE": "primary",
                "PAIRFLOW_PEERS": f"{SECONDARY}={self.links[SECONDARY].url}",
            },
        )
        self.links[PRIMARY].target = _port(self.urls[PRIMARY])
        await self._location(
            SECONDARY,
            {
                **common,
                "PAIRFLOW_ROLE": "secondary",
                "PAIRFLOW_PEERS": f"{PRIMARY}={self.links[PRIMARY].url}",
                "PAIRFLOW_WATCH": self.links[PRIMARY].url,
                "PAIRFLOW_PROBE_INTERVAL": f"{s.probe_interval:g}",
                "PAIRFLOW_FAILURES": str(s.failures),
                "PAIRFLOW_ALERT_URL": self.inbox.url,
            },
        )
        self.links[SECONDARY].target = _port(self.urls[SECONDARY])
        self.timeline.setup(
            f"{SECONDARY}'s watchdog probes {PRIMARY} every {s.probe_interval:g} s, "
            f"activates {SECONDARY} after {s.failures} failures; lease {s.lease_seconds:g} s"
        )
        await self._until(
            lambda: self._paired(http), 20.0, f"{PRIMARY} active with its lease confirmed by {SECONDARY}"
        )

    async def _status(self, http: httpx.AsyncClient, name: str) -> JSONObject | None:
        try:
            answer = await http.get(
                self.urls[name] + "/api/continuity/status", headers=self._auth(), timeout=1.0
            )
            data = answer.json()
        except (httpx.HTTPError, ValueError):
            return None
        return data if answer.status_code == 200 and isinstance(data, dict) else None

    async def _paired(self, http: httpx.AsyncClient) -> bool:
        west, east = await self._status(http, self.primary), await self._status(http, self.secondary)
        return bool(west and east and west.get("acting") and east.get("granted"))

    async def _until(self, check: Callable[[], object], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = check()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return
            await asyncio.sleep(0.1)
        raise DrillError(f"timed out after {timeout:g} s waiting for {what}")

    def _auth(self) -> dict[str, str]:
        return {"x-api-key": self.api_key}

    async def _deploy(self, http: httpx.AsyncClient) -> str:
        """Deploy the template to both locations; the Request trigger's callback path and query."""
        access_key = secrets.token_urlsafe(32)
        workload = self.workload
        path = ""
        for name in (self.primary, self.secondary):
            url = self.urls[name]
            for workflow in self.plans[name].workflows:
                answer = await http.put(
                    f"{url}/api/workflows/{workflow.name}", json=workflow.body(), headers=self._auth()
                )
                if answer.status_code not in (200, 201):
                    raise DrillError(
                        f"deploying {workflow.name} to {name}: HTTP {answer.status_code}: {answer.text[:300]}"
                    )
            base = f"{url}/api/workflows/{workload.request_workflow}"
            answer = await http.put(base + "/accessKey", json={"key": access_key}, headers=self._auth())
            if answer.status_code != 200:
                raise DrillError(
                    f"setting the access key at {name}: HTTP {answer.status_code}: {answer.text[:300]}"
                )
            listed = await http.post(
                f"{base}/triggers/{workload.request_trigger}/listCallbackUrl", headers=self._auth()
            )
            value = listed.json().get("value") if listed.status_code == 200 else None
            if not isinstance(value, str):
                raise DrillError(f"listCallbackUrl at {name}: HTTP {listed.status_code}: {listed.text[:300]}")
            path = value.removeprefix(url)
        self.timeline.setup(
            f"deployed {self.settings.template.name} to {self.primary} and {self.secondary}: "
            + ", ".join(
                f"{w.name} ({w.deployment.mode}{', split' if w.deployment.split else ''})"
                for w in self.plans[self.primary].workflows
            )
        )
        return path

    async def _front_door(self) -> str:
        s = self.settings
        args = [
            "pairflow.cli.frontdoor_command",
            "--location", f"{self.primary}={self.urls[self.primary]}",
            "--location", f"{self.secondary}={self.urls[self.secondary]}",
            "--template", str(s.template),
            "--probe-interval", "0.5",
            "--probe-failures", "2",
            "--probe-timeout", "1",
            "--timeout", "5",
            "--connect-timeout", "1",
            "--api-key", self.api_key,
        ]  # fmt: skip
        started = await spawn("frontdoor", args, clean_env({}), "pairflow frontdoor at ", self.workdir)
        self.started["frontdoor"] = started
        self.timeline.setup(f"front door at {started.url} (one URL for callers)")
        return started.url

    # -- watching -------------------------------------------------------------------------------------
    def _alerted(self, at: float, alert: JSONObject) -> None:
        kind = alert.get("kind")
        if kind == "watchdog-alert":
            first = parse_time(alert.get("firstFailureAt"))
            since = (
                f" (first failure t+{first - self.timeline.t0:.1f}s)" if first and self.timeline.t0 else ""
            )
            self.timeline.add(
                f"{self.secondary}'s watchdog: {alert.get('failures')}/{alert.get('threshold')} probes of "
                f"{self.primary} failed{since}: {str(alert.get('lastError', ''))[:80]}",
                at,
            )
        elif kind == "watchdog-activated":
            self.timeline.add(
                f"{self.secondary}'s watchdog activated {self.secondary} (epoch {alert.get('epoch')})", at
            )

    async def _watch_events(self, http: httpx.AsyncClient, name: str, stop: asyncio.Event) -> None:
        source = ApiSource(name, self.urls[name], http, self.api_key)
        primed = False
        while not stop.is_set():
            try:
                events = await source.events()
            except Unreadable:
                events = []
            for event in sorted(events, key=lambda e: e.at):
                key = (event.location, event.kind, event.at)
                if key in self._seen_events:
                    continue
                self._seen_events.add(key)
                if primed:
                    self.timeline.add(describe(event), event.at)
            primed = True
            await _pause(stop, POLL)

    async def _watch_fires(self, http: httpx.AsyncClient, name: str, stop: asyncio.Event) -> None:
        source = ApiSource(name, self.urls[name], http, self.api_key)
        w = self.workload
        while not stop.is_set():
            with contextlib.suppress(Unreadable):
                for fire in sorted(
                    await source.fires(w.recurrence_workflow, w.recurrence_trigger),
                    key=lambda f: f.occurrence,
                ):
                    key = (name, fire.occurrence)
                    if key in self._seen_fires:
                        continue
                    self._seen_fires.add(key)
                    after = self.fault_at is not None and fire.fired_at > self.fault_at
                    if after and name not in self._fired_after_fault:
                        self._fired_after_fault.add(name)
                        self.timeline.add(
                            f"{name} fires {w.recurrence_workflow}'s occurrence "
                            f"{drill_report.iso(fire.occurrence)[11:19]} (first since the fault)",
                            fire.fired_at,
                        )
            await _pause(stop, 1.0)

    async def _watch_door(self, http: httpx.AsyncClient, door: str, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                answer = await http.get(door + "/frontdoor/status", timeout=1.0)
                data = answer.json()
            except (httpx.HTTPError, ValueError):
                data = None
            views = data.get("locations") if isinstance(data, dict) else None
            for view in views if isinstance(views, list) else []:
                if not isinstance(view, dict):
                    continue
                name = str(view.get("name"))
                now = (view.get("healthy"), view.get("active"), view.get("epoch"))
                if self._door_view.get(name) != now:
                    if name in self._door_view:
                        healthy, active, epoch = now
                        role = ", active" if active is True else ", passive" if active is False else ""
                        self.timeline.add(
                            f"front door: {name} {'up' if healthy else 'down'}{role}"
                            + (f", epoch {epoch}" if epoch is not None else "")
                        )
                    self._door_view[name] = now
            await _pause(stop, 0.25)

    # -- traffic --------------------------------------------------------------------------------------
    def _record(self, sample: Sample) -> None:
        """Keep the sample; tell the timeline when another location starts serving, and each kind of
        failure once per phase (the report counts them all)."""
        self.samples.append(sample)
        if sample.ok:
            if sample.location == self.secondary and self.fault_at is not None and self.recovered_at is None:
                self.recovered_at = sample.answered
                self.timeline.add(
                    f"first request served by {self.secondary} (HTTP {sample.status}): "
                    f"RTO {sample.answered - self.fault_at:.2f} s",
                    sample.answered,
                )
            elif sample.location != self._serving:
                self.timeline.add(f"requests -> {sample.location}: HTTP {sample.status}", sample.answered)
            if sample.location != self._serving:
                self._serving, self._failures = sample.location, set()
            return
        reason = sample.error or f"HTTP {sample.status}"
        if reason not in self._failures:
            self._failures.add(reason)
            self.timeline.add(f"requests failing: {reason}", sample.answered)

    async def _one(self, client: httpx.AsyncClient, url: str, n: int, gate: asyncio.Semaphore) -> None:
        sent = time.time()
        try:
            answer = await client.post(url, json={"n": n}, timeout=REQUEST_TIMEOUT)
        except httpx.HTTPError as error:
            self._record(Sample(sent, time.time(), None, error=type(error).__name__))
            return
        finally:
            gate.release()
        ok = 200 <= answer.status_code < 300
        self._record(
            Sample(
                sent,
                time.time(),
                answer.status_code,
                answer.headers.get("x-ms-workflow-run-id"),
                answer.headers.get("x-pairflow-frontdoor-location"),
                "" if ok else _error_code(answer),
            )
        )

    async def _traffic(self, url: str, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        gap = 1.0 / self.settings.rate
        gate = asyncio.Semaphore(MAX_IN_FLIGHT)
        tasks: set[asyncio.Task[None]] = set()
        limits = httpx.Limits(max_connections=MAX_IN_FLIGHT, max_keepalive_connections=MAX_IN_FLIGHT)
        async with httpx.AsyncClient(limits=limits) as client:
            due, n = loop.time(), 0
            while not stop.is_set():
                await gate.acquire()
                task = loop.create_task(self._one(client, url, n, gate))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                n += 1
                due = max(due + gap, loop.time() - 1.0)  # never burst to catch up more than a second
                await _pause(stop, due - loop.time())
            if tasks:
                await asyncio.gather(*tasks)

    # -- the fault ------------------------------------------------------------------------------------
    def _signal(self, signum: int) -> None:
        if self.local:
            self.started[self.primary].process.send_signal(signum)
        else:
            assert self.settings.primary_pid is not None
            os.kill(self.settings.primary_pid, signum)

    def _fault(self) -> None:
        fault = self.settings.fault
        if fault == "kill":
            self._signal(signal.SIGKILL)
            text = f"{self.primary} killed (SIGKILL)"
        elif fault == "stop":
            self._signal(signal.SIGSTOP)
            text = f"{self.primary} stopped (SIGSTOP): alive but frozen"
        else:
            for link in self.links.values():
                link.cut()
            text = f"{self.primary} isolated: the links between {self.primary} and {self.secondary} are cut"
        self.fault_at = time.time()
        self.timeline.add(text, self.fault_at)

    def _undo(self) -> None:
        if self.settings.fault == "stop":
            self._signal(signal.SIGCONT)
            self.timeline.add(f"{self.primary} resumed (SIGCONT)")
        elif self.settings.fault == "isolate":
            for link in self.links.values():
                link.heal()
            self.timeline.add(f"the links between {self.primary} and {self.secondary} are healed")

    # -- the run --------------------------------------------------------------------------------------
    async def run(self) -> JSONObject:
        """Carry out the drill; the report (also written by the caller)."""
        try:
            return await self._run()
        finally:
            await self._cleanup()

    async def _run(self) -> JSONObject:
        s = self.settings
        async with httpx.AsyncClient() as http:
            if self.local:
                await self._start_locations(http)
            door = await self._front_door()
            path = await self._deploy(http)
            w = self.workload
            await self._until(
                lambda: self._fired(http, self.primary),
                15.0,
                f"{self.primary} to fire {w.recurrence_workflow}",
            )
            stop_watching, stop_traffic = asyncio.Event(), asyncio.Event()
            watchers = [
                asyncio.create_task(self._watch_door(http, door, stop_watching)),
                *(asyncio.create_task(self._watch_events(http, n, stop_watching)) for n in self.urls),
                *(asyncio.create_task(self._watch_fires(http, n, stop_watching)) for n in self.urls),
            ]
            started = time.time()
            self.timeline.t0 = started
            self.timeline.add(f"traffic: {s.rate:g} requests/s to {door}{path.split('?')[0]}")
            traffic = asyncio.create_task(self._traffic(door + path, stop_traffic))
            await asyncio.sleep(s.warmup)
            self._fault()
            assert self.fault_at is not None
            deadline = self.fault_at + s.recover_timeout
            while self.recovered_at is None and time.time() < deadline:
                await asyncio.sleep(0.05)
            if self.recovered_at is None:
                self.timeline.add(f"{self.secondary} served no request within {s.recover_timeout:g} s")
            end_at = max(self.fault_at + s.duration, time.time() + s.settle)
            if s.fault in ("stop", "isolate"):
                await asyncio.sleep(1.0)
                self._undo()
                end_at = max(end_at, time.time() + s.lease_seconds + 2.0)
            await asyncio.sleep(max(0.0, end_at - time.time()))
            stop_traffic.set()
            await traffic
            ended = time.time()
            self.timeline.add(f"traffic stopped: {len(self.samples)} requests sent", ended)
            await asyncio.sleep(POLL * 2)
            stop_watching.set()
            await asyncio.gather(*watchers)
            return await self._collect(http, started, ended)

    async def _fired(self, http: httpx.AsyncClient, name: str) -> bool:
        w = self.workload
        try:
            return bool(
                await ApiSource(name, self.urls[name], http, self.api_key).fires(
                    w.recurrence_workflow, w.recurrence_trigger
                )
            )
        except Unreadable:
            return False

    async def _collect(self, http: httpx.AsyncClient, started: float, ended: float) -> JSONObject:
        sources: dict[str, Source] = {}
        opened: list[StoreSource] = []
        if self.local:
            for name in (self.primary, self.secondary):
                await end(self.started.pop(name))
                source = StoreSource(name, self.stores[name])
                opened.append(source)
                sources[name] = source
        else:
            for name in (self.primary, self.secondary):
                sources[name] = ApiSource(name, self.urls[name], http, self.api_key)
        try:
            return await self._observed(sources, started, ended)
        finally:
            for source in opened:
                source.close()

    async def _observed(self, sources: dict[str, Source], started: float, ended: float) -> JSONObject:
        s, w = self.settings, self.workload
        assert self.fault_at is not None
        ids = [sample.run_id for sample in self.samples if sample.ok and sample.run_id]
        found: dict[str, set[str]] = {}
        unreadable: set[str] = set()
        events: list[Event] = []
        fires: list[Fire] = []
        running: list[str] = []
        statuses: dict[str, dict[str, str]] = {}
        for name, source in sources.items():
            try:
                statuses[name] = await source.statuses(ids)
                events += await source.events()
                fires += await source.fires(w.recurrence_workflow, w.recurrence_trigger)
                if name == self.primary:
                    running = await source.running()
            except Unreadable as error:
                unreadable.add(name)
                self.timeline.add(f"cannot read {name}'s store: {error}")
                continue
            for run_id in statuses[name]:
                found.setdefault(run_id, set()).add(name)
        for name, source in sources.items():  # runs left Running on the primary, perhaps adopted elsewhere
            if name != self.primary and name in statuses:
                missing = [run_id for run_id in running if run_id not in statuses[name]]
                with contextlib.suppress(Unreadable):
                    statuses[name].update(await source.statuses(missing))
        finished_elsewhere = {
            run_id
            for name, seen in statuses.items()
            if name != self.primary
            for run_id, status in seen.items()
            if status != "Running" and run_id in running
        }
        alerts = [at for at, alert in self.inbox.received if alert.get("kind") == "watchdog-alert"]
        observed = Observed(
            fault=s.fault,
            primary=self.primary,
            secondary=self.secondary,
            started=started,
            fault_at=self.fault_at,
            ended=ended,
            samples=list(self.samples),
            events=events,
            found={run_id: frozenset(places) for run_id, places in found.items()},
            unreadable=frozenset(unreadable),
            running_on_primary=running,
            finished_elsewhere=frozenset(finished_elsewhere),
            fires=fires,
            interval=w.interval,
            anchor=w.anchor,
            settings={
                "rate": s.rate,
                "warmup": s.warmup,
                "duration": s.duration,
                "probeInterval": s.probe_interval,
                "failures": s.failures,
                "leaseSeconds": s.lease_seconds,
                "template": str(s.template),
                "requestWorkflow": w.request_workflow,
                "recurrenceWorkflow": w.recurrence_workflow,
                "local": self.local,
                "workdir": str(self.workdir),
            },
            alert_at=min(alerts) if alerts else None,
            timeline=list(self.timeline.entries),
        )
        return drill_report.compute(observed, s.targets)

    async def _cleanup(self) -> None:
        for started in list(self.started.values()):
            await end(started)
        self.started.clear()
        for link in self.links.values():
            await link.close()
        await self.inbox.close()
        if self.settings.workdir is None:
            shutil.rmtree(self.workdir, ignore_errors=True)


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/", maxsplit=1)[0])


def _error_code(answer: httpx.Response) -> str:
    try:
        data = answer.json()
    except ValueError:
        return f"HTTP {answer.status_code}"
    error = data.get("error") if isinstance(data, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return f"{answer.status_code} {code}" if isinstance(code, str) else f"HTTP {answer.status_code}"


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or less when `stop` is set meanwhile."""
    if seconds <= 0:
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


def run_drill(settings: DrillSettings, say: Callable[[str], None] | None = None) -> JSONObject:
    """Run the drill to the end on a new event loop; the report."""
    return asyncio.run(Drill(settings, say).run())


def write_report(report: JSONObject, path: Path) -> None:
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
