"""The Http trigger with a `recurrence`: poll an endpoint, fire when it answers with data.

The Logic Apps polling protocol: 200 means data (the trigger fires with outputs {headers, body,
statusCode}; `splitOn` makes one run per item, all committed in one transaction); 202 means no
data (a Skipped history event). Either answer may carry `Retry-After` (seconds or an HTTP date:
when to poll next, instead of the recurrence) and `Location` (the URL of the next poll — the
client-side cursor). The cursor and the next poll time are the trigger state, written in the same
transaction as the firing or the history event, so a restart never re-reads what was fired. Any
other status, a transport error or a bad expression is a Failed history event, and the next poll
happens on the recurrence as usual.

Processes sharing a store: only the holder of the trigger's lease (`lease.py`) polls; the others
check every so often and take over when it lapses. Each committed poll also moves the state's
`pollId` on, and commits with the occurrence key `poll:<pollId read before polling>`: a poll made
from a state someone else already moved on (a lease lost during a slow poll) writes nothing, so
the cursor never goes backwards and one answer is never fired twice.
"""

from __future__ import annotations

import email.utils
import json
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin

import httpx

from pairflow.errors import InputError, StoreError
from pairflow.expressions import evaluate
from pairflow.jsontypes import JSON, JSONObject
from pairflow.triggers.conditions import conditions_hold, split_items
from pairflow.triggers.firing import FAILED, SKIPPED, Firer, Inflight, Target, error_of, iso, parse_iso
from pairflow.triggers.lease import TriggerLease
from pairflow.triggers.schedule import RecurrenceSchedule

_log = logging.getLogger(__name__)

REQUEST_TIMEOUT = 100.0  # seconds for one poll request
MAX_RETRY_AFTER = 24 * 3600.0  # seconds: a longer Retry-After is capped


class PollingLoop:
    """Polls one Http trigger until cancelled."""

    def __init__(
        self,
        firer: Firer,
        target: Target,
        *,
        http: httpx.AsyncClient,
        location: str,
        tick: Callable[[], None],
        lease: TriggerLease | None = None,
    ) -> None:
        """`lease`: the trigger's lease among processes (None: this process alone polls it)."""
        self.firer = firer
        self.target = target
        self.http = http
        self.location = location
        self.tick = tick
        self.lease = lease
        self.inflight = Inflight()
        self._read_from: JSONObject = {}  # the state the current poll started from
        self.schedule = RecurrenceSchedule.from_definition(
            target.raw.get("recurrence"),
            anchor=target.version.created_at,
            pointer=f"{target.trigger.pointer}/recurrence",
        )

    async def run(self) -> None:
        clock, lease = self.firer.clock, self.lease
        due: datetime | None = None  # the next poll; None until this process holds the lease
        while True:
            if due is None:  # continue the schedule from where the last poll (anyone's) left it
                state = self.firer.store.get_trigger_state(self.target.workflow, self.target.name) or {}
                due = parse_iso(state.get("nextPoll")) or clock.now()
            if lease is not None and not lease.hold(due + timedelta(seconds=lease.seconds)):
                due = None  # another process polls it: look again when its lease may have lapsed
                await clock.sleep(lease.retry_in())
                continue
            if (wait := (due - clock.now()).total_seconds()) > 0:
                await clock.sleep(wait)
                continue  # renew the lease (or find it taken) before polling
            self.tick()
            step = self.poll() if lease is None else lease.keep(self.poll())
            due = await self.inflight.run(step)

    async def poll(self) -> datetime:
        """One poll and what it commits; returns when to poll next."""
        target, firer = self.target, self.firer
        now = firer.clock.now()
        if not firer.is_active(target.workflow):
            return self._next(now, None)
        state = firer.store.get_trigger_state(target.workflow, target.name) or {}
        cursor = state.get("nextUrl") if isinstance(state.get("nextUrl"), str) else None
        self._read_from = state
        try:
            response = await self._request(now, cursor)
        except (InputError, httpx.HTTPError) as error:
            message = error.message if isinstance(error, InputError) else f"{type(error).__name__}: {error}"
            due = self._next(now, None)
            self._note(FAILED, {**state, "nextPoll": iso(due)}, error=error_of(message))
            return due
        retry_after = _retry_after(response, now)
        link = response.headers.get("location")
        base = cursor or str(response.request.url)
        next_url = urljoin(base, link) if link else cursor
        due = self._next(now, retry_after)
        new_state: JSONObject = {"nextUrl": next_url, "nextPoll": iso(due), "location": self.location}
        outputs: JSONObject = {
            "headers": dict(response.headers),
            "body": response_body(response),
            "statusCode": response.status_code,
        }
        if response.status_code == 202:
            self._note(SKIPPED, new_state, outputs=outputs)
        elif response.status_code == 200:
            self._fire(now, outputs, new_state)
        else:
            # The cursor stays where it was: the failed poll is repeated on the next one.
            failed_state: JSONObject = {**new_state, "nextUrl": cursor}
            failure = error_of(
                f"The trigger's request to '{base}' answered HTTP {response.status_code}", "BadRequest"
            )
            self._note(FAILED, failed_state, outputs=outputs, error=failure)
        return due

    async def _request(self, now: datetime, cursor: str | None) -> httpx.Response:
        inputs = evaluate(self.target.trigger.inputs, self.target.context(now))
        pointer = f"{self.target.trigger.pointer}/inputs"
        if not isinstance(inputs, dict):
            raise InputError(f"{pointer}: expected an object with method and uri")
        method = inputs.get("method", "GET")
        uri = cursor or inputs.get("uri")
        if not isinstance(method, str) or not isinstance(uri, str):
            raise InputError(f"{pointer}: method and uri must be strings")
        headers = inputs.get("headers") or {}
        queries = inputs.get("queries") or {}
        if not isinstance(headers, dict) or not isinstance(queries, dict):
            raise InputError(f"{pointer}: headers and queries must be objects")
        body = inputs.get("body")
        content: bytes | None = None
        text_headers = {str(k): _text(v) for k, v in headers.items()}
        if body is not None:
            if isinstance(body, str):
                content = body.encode()
            else:
                content = json.dumps(body).encode()
                text_headers.setdefault("Content-Type", "application/json")
        params = None if cursor else {str(k): _text(v) for k, v in queries.items()}
        return await self.http.request(
            method.upper(), uri, params=params, headers=text_headers, content=content, timeout=REQUEST_TIMEOUT
        )

    def _fire(self, now: datetime, outputs: JSONObject, state: JSONObject) -> None:
        target, firer = self.target, self.firer
        try:
            context = target.context(now, outputs=outputs)
            if not conditions_hold(target.raw, context, target.trigger.pointer):
                self._note(SKIPPED, state, outputs=outputs)
                return
            items = split_items(target.raw, context, target.trigger.pointer)
        except InputError as error:
            self._note(FAILED, state, outputs=outputs, error=error_of(error.message))
            return
        runs = [outputs] if items is None else [{**outputs, "body": item} for item in items]
        if not runs:
            self._note(SKIPPED, state, outputs=outputs)
            return
        key, state = self._moved_on(state)
        try:
            fired = firer.fire(target, runs, fired_at=now, state=state, event_outputs=outputs, key=key)
        except StoreError as error:
            _log.error("%s/%s: poll result not fired: %s", target.workflow, target.name, error.message)
            return
        if not fired:
            self._superseded()

    def _note(
        self,
        status: str,
        state: JSONObject,
        *,
        outputs: JSON = None,
        error: JSONObject | None = None,
    ) -> None:
        key, state = self._moved_on(state)
        try:
            noted = self.firer.note(self.target, status, state=state, outputs=outputs, error=error, key=key)
        except StoreError as failure:
            _log.error(
                "%s/%s: history not written: %s", self.target.workflow, self.target.name, failure.message
            )
            return
        if not noted:
            self._superseded()

    def _moved_on(self, state: JSONObject) -> tuple[str, JSONObject]:
        """The occurrence key of leaving the state this poll read, and the new state with its own id."""
        read = self._read_from.get("pollId")
        key = f"poll:{read if isinstance(read, str) else 'first'}"
        return key, {**state, "pollId": uuid.uuid4().hex}

    def _superseded(self) -> None:
        """The state this poll started from was left before (by a poll elsewhere): nothing was written.
        If the stored state still carries that id (an imported or reset state reusing it), give it a
        fresh one so that the next poll can commit."""
        target, store = self.target, self.firer.store
        _log.info("%s/%s: a poll elsewhere committed first: this one is dropped", *target_names(target))
        try:
            current = store.get_trigger_state(target.workflow, target.name) or {}
            if current.get("pollId") == self._read_from.get("pollId"):
                store.put_trigger_state(target.workflow, target.name, {**current, "pollId": uuid.uuid4().hex})
        except StoreError as error:
            _log.error("%s/%s: state not renewed: %s", target.workflow, target.name, error.message)

    def _next(self, now: datetime, retry_after: float | None) -> datetime:
        if retry_after is not None:
            return now + timedelta(seconds=retry_after)
        return self.schedule.next_after(now) or now + timedelta(days=365)


def target_names(target: Target) -> tuple[str, str]:
    return target.workflow, target.name


def _retry_after(response: httpx.Response, now: datetime) -> float | None:
    """Seconds from a Retry-After header (delta seconds or an HTTP date); None when absent or bad."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    when = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    return min(max(0.0, (when - now).total_seconds()), MAX_RETRY_AFTER)


def response_body(response: httpx.Response) -> JSON:
    if not response.content:
        return None
    kind = response.headers.get("content-type", "")
    if "json" in kind:
        try:
            parsed: JSON = json.loads(response.content)
        except ValueError:
            return response.text
        return parsed
    return response.text


def _text(value: JSON) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)
