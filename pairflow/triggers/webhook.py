"""The HttpWebhook trigger: subscribe a callback URL when armed, unsubscribe when disarmed.

Subscribing calls `inputs.subscribe` ({method, uri, headers, body}) with `@listCallbackUrl()`
resolved to the workflow's callback URL; the subscription (version, callback URL, the service's
answer) is kept in the trigger state. A trigger whose state holds a subscription for its current
version is not subscribed again after a restart; one held for an older version is unsubscribed
with that version's `inputs.unsubscribe` first. Incoming calls arrive at the server's invoke
endpoint like Request triggers; nothing here creates runs.

Processes sharing a store: a subscription exists once. Only the holder of the trigger's lease
(`lease.py`) subscribes or unsubscribes, reading the state after taking it, and releases it once
the subscription is recorded; the others find it recorded when they look again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime

import httpx

from pairflow.errors import InputError, StoreError
from pairflow.expressions import evaluate
from pairflow.jsontypes import JSON, JSONObject
from pairflow.triggers.firing import FAILED, Firer, Inflight, Target, error_of, iso
from pairflow.triggers.lease import TriggerLease
from pairflow.triggers.polling import response_body

_log = logging.getLogger(__name__)

REQUEST_TIMEOUT = 100.0  # seconds for a subscribe or unsubscribe call
RETRY_FIRST = 5.0  # seconds before retrying a failed subscription; doubles up to RETRY_MOST
RETRY_MOST = 300.0
CallbackUrl = Callable[[str, str], str]


class WebhookFailedError(InputError):
    """The webhook subscription call failed."""


def subscription_of(state: JSONObject | None) -> JSONObject | None:
    found = (state or {}).get("subscription")
    return found if isinstance(found, dict) else None


async def call(
    http: httpx.AsyncClient,
    target: Target,
    which: str,
    now: datetime,
    callback_url: str,
    subscription: JSONObject | None = None,
) -> JSONObject:
    """Send `inputs.subscribe` or `inputs.unsubscribe`; the answer as {statusCode, headers, body}."""
    pointer = f"{target.trigger.pointer}/inputs/{which}"
    inputs = target.trigger.inputs
    spec = inputs.get(which) if isinstance(inputs, dict) else None
    if not isinstance(spec, dict):
        raise InputError(f"{pointer}: expected an object with method and uri")
    action: JSONObject = {"inputs": inputs, "outputs": (subscription or {}).get("response")}
    request = evaluate(spec, target.context(now, callback_url=callback_url, action=action))
    if not isinstance(request, dict):
        raise InputError(f"{pointer}: expected an object with method and uri")
    method, uri = request.get("method", "POST"), request.get("uri")
    if not isinstance(method, str) or not isinstance(uri, str):
        raise InputError(f"{pointer}: method and uri must be strings")
    headers = request.get("headers") or {}
    if not isinstance(headers, dict):
        raise InputError(f"{pointer}/headers: expected an object")
    text_headers = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in headers.items()}
    body: JSON = request.get("body")
    content = None
    if body is not None:
        content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        if not isinstance(body, str):
            text_headers.setdefault("Content-Type", "application/json")
    try:
        response = await http.request(
            method.upper(), uri, headers=text_headers, content=content, timeout=REQUEST_TIMEOUT
        )
    except httpx.HTTPError as error:
        raise WebhookFailedError(f"{pointer}: {type(error).__name__}: {error}") from None
    answer: JSONObject = {
        "statusCode": response.status_code,
        "headers": dict(response.headers),
        "body": response_body(response),
    }
    if not 200 <= response.status_code < 300:
        raise WebhookFailedError(f"{pointer}: '{uri}' answered HTTP {response.status_code}")
    return answer


class WebhookArm:
    """Keeps one HttpWebhook trigger subscribed: subscribes (retrying) unless already subscribed."""

    def __init__(
        self,
        firer: Firer,
        target: Target,
        *,
        http: httpx.AsyncClient,
        callback_url: CallbackUrl,
        tick: Callable[[], None],
        lease: TriggerLease | None = None,
    ) -> None:
        """`lease`: the trigger's lease among processes (None: this process alone subscribes it)."""
        self.firer = firer
        self.target = target
        self.http = http
        self.callback_url = callback_url
        self.tick = tick
        self.lease = lease
        self.inflight = Inflight()

    async def run(self) -> None:
        """Subscribe once (retrying with backoff), then return: the subscription lives in the state."""
        delay = RETRY_FIRST
        while not await self.inflight.run(self.subscribe()):
            await self.firer.clock.sleep(delay)
            delay = min(delay * 2, RETRY_MOST)

    async def subscribe(self) -> bool:
        """True when subscribed (now or before, here or by another process)."""
        firer, target = self.firer, self.target
        if not firer.is_active(target.workflow):
            return True
        self.tick()
        if self._subscribed():
            return True
        lease = self.lease
        if lease is None:
            return await self._subscribe()
        if not lease.hold():
            return False  # another process is subscribing: look again later
        try:
            return await lease.keep(self._subscribe())
        finally:
            lease.release()

    def _subscribed(self) -> bool:
        state = self.firer.store.get_trigger_state(self.target.workflow, self.target.name)
        held = subscription_of(state)
        return held is not None and held.get("version") == self.target.version.version

    async def _subscribe(self) -> bool:
        firer, target = self.firer, self.target
        store = firer.store
        state = store.get_trigger_state(target.workflow, target.name) or {}  # read under the lease
        held = subscription_of(state)
        if held is not None and held.get("version") == target.version.version:
            return True
        if held is not None:
            await unsubscribe(firer, self.http, target.workflow, target.name, state, self.callback_url)
        url = self.callback_url(target.workflow, target.name)
        now = firer.clock.now()
        try:
            answer = await call(self.http, target, "subscribe", now, url)
        except InputError as error:
            self._note(FAILED, error=error_of(error.message))
            return False
        subscription: JSONObject = {
            "version": target.version.version,
            "callbackUrl": url,
            "subscribedAt": iso(now),
            "response": answer,
        }
        try:
            if self._subscribed():  # recorded meanwhile by a process that took the lease we lost
                await self._withdraw(subscription)
                return True
            store.put_trigger_state(target.workflow, target.name, {**state, "subscription": subscription})
        except StoreError as failure:
            # Subscribed but not recorded: the next attempt subscribes again (at least once).
            _log.error("%s/%s: subscription not recorded: %s", target.workflow, target.name, failure.message)
            return False
        return True

    async def _withdraw(self, subscription: JSONObject) -> None:
        """Unsubscribe a duplicate subscription of ours, leaving the recorded one and the state alone."""
        target = self.target
        url = subscription.get("callbackUrl")
        try:
            await call(
                self.http,
                target,
                "unsubscribe",
                self.firer.clock.now(),
                url if isinstance(url, str) else self.callback_url(target.workflow, target.name),
                subscription,
            )
        except InputError as error:
            _log.error("%s/%s: duplicate subscription left: %s", target.workflow, target.name, error.message)

    def _note(
        self,
        status: str,
        *,
        state: JSONObject | None = None,
        outputs: JSON = None,
        error: JSONObject | None = None,
    ) -> None:
        try:
            self.firer.note(self.target, status, state=state, outputs=outputs, error=error)
        except StoreError as failure:
            _log.error(
                "%s/%s: subscription not recorded: %s",
                self.target.workflow,
                self.target.name,
                failure.message,
            )


async def unsubscribe(
    firer: Firer,
    http: httpx.AsyncClient,
    workflow: str,
    trigger: str,
    state: JSONObject,
    callback_url: CallbackUrl,
) -> None:
    """Call the subscribed version's `inputs.unsubscribe`, then forget the subscription (even when
    the call fails: the failure is in the history, and a dead subscription must not block a new one)."""
    held = subscription_of(state)
    if held is None:
        return
    store = firer.store
    version = held.get("version")
    found = store.get_workflow(workflow, version) if isinstance(version, int) else None
    target = Target.of(found) if found is not None else None
    error: JSONObject | None = None
    answer: JSONObject | None = None
    if target is None or target.name != trigger:
        error = error_of(f"workflow '{workflow}' version {version}: the subscribed trigger is gone")
    else:
        url = held.get("callbackUrl")
        try:
            answer = await call(
                http,
                target,
                "unsubscribe",
                firer.clock.now(),
                url if isinstance(url, str) else callback_url(workflow, trigger),
                held,
            )
        except InputError as failure:
            error = error_of(failure.message)
    remaining = {key: value for key, value in state.items() if key != "subscription"}
    try:
        if target is not None and error is not None:
            firer.note(target, FAILED, state=remaining, outputs=answer, error=error)
        else:
            store.put_trigger_state(workflow, trigger, remaining)
    except StoreError as failure:
        _log.error("%s/%s: unsubscription not recorded: %s", workflow, trigger, failure.message)
