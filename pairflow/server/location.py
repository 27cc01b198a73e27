"""One location: the store, engine, run dispatcher and trigger service of one `pairflow serve`, and
every operation the management API and the trigger endpoints call.

The HTTP layer only parses requests and renders answers; what a deploy, a cancel or a trigger firing
does is decided here, so the same operations can be called from a CLI, a test or a peer location.
Errors are `ApiError`s carrying Logic Apps' error code and the HTTP status they map to.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import jsonschema
from jsonschema.protocols import Validator

from pairflow.continuity import roles, whatif
from pairflow.definition.loader import load_workflow
from pairflow.definition.model import TriggerDef, WorkflowDefinition, build_definition
from pairflow.definition.parameters import ParameterIssuesError, resolve_parameters
from pairflow.definition.validate import validate_loaded
from pairflow.engine.clock import Clock, SystemClock
from pairflow.engine.context import iso
from pairflow.engine.runner import Engine
from pairflow.engine.view import REDACTED, run_summary, run_view
from pairflow.errors import DefinitionError, InputError, PairflowError, RunNotFoundError
from pairflow.jsontypes import JSON, JSONObject
from pairflow.server import signing
from pairflow.server.problems import ApiError, bad_request, not_found
from pairflow.store.base import Store
from pairflow.store.records import RunRecord, TriggerEvent, TriggerFire, WorkflowVersion

if TYPE_CHECKING:
    from pairflow.continuity.controller import Continuity

CALLBACK_TRIGGER_TYPES = frozenset({"Request", "HttpWebhook"})
RUN_STATUSES = ("Running", "Succeeded", "Failed", "Cancelled")
MIN_ACCESS_KEY_CHARS = 32  # a generated key is 43 characters (32 random bytes)
MAX_ACCESS_KEY_CHARS = 512


class RunReplyLike(Protocol):
    @property
    def response(self) -> JSONObject | None: ...

    @property
    def status(self) -> str: ...


class DispatcherLike(Protocol):
    """What the location needs from `pairflow.engine.dispatcher.Dispatcher`."""

    async def start(self) -> None: ...

    def submit(self, run: RunRecord) -> None: ...

    def check_admission(self, workflow: str) -> None: ...

    async def wait_reply(self, run_id: str, timeout: float) -> RunReplyLike | None: ...

    async def stop(self, grace: float) -> None: ...


class TriggerServiceLike(Protocol):
    """What the location needs from `pairflow.triggers.service.TriggerService`."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def workflow_changed(self, name: str) -> None: ...

    def export_state(self, workflow: str, trigger: str) -> JSONObject: ...

    async def import_state(self, workflow: str, trigger: str, state: JSONObject) -> None: ...

    def status(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Endpoint:
    """What serving one workflow's triggers needs, computed once per deployed version."""

    version: WorkflowVersion
    model: WorkflowDefinition
    has_response: bool
    access_key: str
    schemas: Mapping[str, Validator] = field(default_factory=dict)
    signatures: dict[str, str] = field(default_factory=dict)  # trigger -> expected sig, filled lazily
    # The continuity record (mode, split) as last read, or the trigger's default mode: whether the
    # workflow is active here is then decided from the location's role alone, no store read.
    deployment: roles.Deployment | None = None
    checked_at: float = 0.0  # time.monotonic() when last found current in the store

    def signature_matches(self, workflow: str, trigger: str, sp: str, sv: str, sig: str) -> bool:
        """Constant-time check against the cached signature for the current sp and sv."""
        if sp != signing.permission(trigger) or sv != signing.SIGNING_VERSION:
            return False
        expected = self.signatures.get(trigger)
        if expected is None:
            expected = self.signatures[trigger] = signing.sign(self.access_key, workflow, trigger)
        return signing.constant_time_equal(expected, sig)


def _schema_validator(trigger: TriggerDef) -> Validator | None:
    inputs = trigger.inputs
    schema = inputs.get("schema") if isinstance(inputs, dict) else None
    if not isinstance(schema, dict) or not schema:
        return None
    cls = jsonschema.validators.validator_for(schema)
    validator: Validator = cls(schema)
    return validator


def _schema_issues(model: WorkflowDefinition) -> list[tuple[str, str]]:
    issues: list[tuple[str, str]] = []
    for trigger in model.triggers.values():
        inputs = trigger.inputs
        schema = inputs.get("schema") if isinstance(inputs, dict) else None
        if schema is None or (isinstance(schema, dict) and not schema):
            continue
        if not isinstance(schema, dict):
            issues.append((f"{trigger.pointer}/inputs/schema", "expected a JSON Schema object"))
            continue
        cls = jsonschema.validators.validator_for(schema)
        try:
            cls.check_schema(schema)
        except jsonschema.SchemaError as error:
            where = "/".join(str(part) for part in error.absolute_path)
            issues.append(
                (
                    f"{trigger.pointer}/inputs/schema{'/' + where if where else ''}",
                    f"invalid schema: {error.message}",
                )
            )
    return issues


def _secure_parameters(model: WorkflowDefinition, values: JSONObject) -> JSONObject:
    return {
        name: REDACTED if name in model.parameters and model.parameters[name].is_secure else value
        for name, value in values.items()
    }


def event_view(event: TriggerEvent) -> JSONObject:
    view: JSONObject = {
        "id": event.id,
        "workflow": event.workflow,
        "trigger": event.trigger,
        "status": event.status,
        "firedAt": iso(event.fired_at),
        "runIds": list(event.run_ids),
    }
    if event.occurrence is not None:
        view["occurrence"] = event.occurrence
    if event.error is not None:
        view["error"] = event.error
    return view


class Location:
    """One running location: owns the store, engine, dispatcher and trigger service."""

    def __init__(
        self,
        name: str,
        store: Store,
        engine: Engine,
        dispatcher: DispatcherLike,
        triggers: TriggerServiceLike | None,
        *,
        base_url: str,
        clock: Clock | None = None,
        new_id: Callable[[], str] | None = None,
        continuity: Continuity | None = None,
    ) -> None:
        self.name = name
        self.continuity = continuity
        self.store = store
        self.engine = engine
        self.dispatcher = dispatcher
        self.triggers = triggers
        self.base_url = base_url.rstrip("/")
        self.clock: Clock = clock or SystemClock()
        self._new_id = new_id or (lambda: uuid.uuid4().hex)
        self._endpoints: dict[str, Endpoint] = {}
        # How long a cached endpoint is served before the store is asked whether another process
        # redeployed, disabled or re-keyed the workflow: as often as the run leases are renewed.
        self.endpoint_ttl = engine.lease_seconds / 3
        self.accepting = False
        # Set with synchronous replication: waits (bounded) until a peer stored a new run, so a
        # Request call is answered only then (pairflow.continuity.replication).
        self.acknowledge: Callable[[str], Awaitable[bool]] | None = None

    # -- lifecycle ---------------------------------------------------------------------------------
    async def start(self) -> None:
        """Resume unfinished runs, arm triggers, then accept requests."""
        await self.dispatcher.start()
        if self.triggers is not None:
            await self.triggers.start()
        self.accepting = True

    async def stop(self, grace: float) -> None:
        """Stop taking work, stop the triggers, give runs `grace` seconds to reach a commit point."""
        self.accepting = False
        if self.triggers is not None:
            await self.triggers.stop()
        await self.dispatcher.stop(grace)
        await self.engine.aclose()

    # -- continuity --------------------------------------------------------------------------------
    def workflow_is_active(self, workflow: str, endpoint: Endpoint | None = None) -> bool:
        """Whether this location takes work for the workflow (always, without continuity). With the
        workflow's cached `endpoint`, its deployment record comes from there instead of the store."""
        if self.continuity is None:
            return True
        if endpoint is None:
            return self.continuity.is_active(workflow)
        return self.continuity.is_active_under(endpoint.deployment, endpoint.version.definition)

    def refuse_if_passive(self, workflow: str, endpoint: Endpoint | None = None) -> None:
        """503 LocationPassive, naming the active location when known, for a workflow not active here."""
        if self.workflow_is_active(workflow, endpoint):
            return
        from pairflow.continuity.state import active_location_hint

        hint = active_location_hint(self.store)
        where = f" The active location is '{hint[0]}' at {hint[1]}." if hint and hint[0] != self.name else ""
        raise ApiError(
            503,
            "LocationPassive",
            f"The location '{self.name}' is passive for the workflow '{workflow}'.{where}",
            headers={"x-pairflow-active-location": hint[0], "x-pairflow-active-location-url": hint[1]}
            if hint and where
            else None,
        )

    async def rearm(self) -> None:
        """Arm or disarm every workflow's trigger after the location's role changed."""
        if self.triggers is None:
            return
        for version in self.store.list_workflows():
            await self.triggers.workflow_changed(version.name)

    def trigger_states(self) -> list[JSONObject]:
        """Every trigger's state (polling cursors, windows, last fires), for a handover."""
        states: list[JSONObject] = []
        for version in self.store.list_workflows():
            triggers = version.definition.get("triggers")
            for trigger in triggers if isinstance(triggers, dict) else {}:
                found = self.store.get_trigger_state(version.name, str(trigger))
                if found:
                    states.append({"workflow": version.name, "trigger": str(trigger), "state": found})
        return states

    async def import_handover(self, states: JSON) -> int:
        """Import the trigger states a location handing over sent; how many were imported."""
        if not isinstance(states, list):
            raise bad_request("InvalidHandover", "/states: expected an array of trigger states")
        count = 0
        for index, item in enumerate(states):
            if not isinstance(item, dict) or not isinstance(item.get("state"), dict):
                raise bad_request(
                    "InvalidHandover", f"/states/{index}: expected {{workflow, trigger, state}}"
                )
            workflow, trigger = str(item.get("workflow")), str(item.get("trigger"))
            if self.store.get_workflow(workflow) is None:
                continue  # not deployed here: nothing to continue
            await self.import_trigger_state(workflow, trigger, item["state"])
            count += 1
        return count

    async def failback(self, to: str) -> JSONObject:
        """Planned: stop taking new work, hand the trigger state to `to`, then let it activate."""
        from pairflow.continuity.failover import hand_over

        continuity = self.continuity
        if continuity is None or not continuity.doc.active:
            raise ApiError(409, "LocationNotActive", f"The location '{self.name}' is not active.")
        url = continuity.peers.get(to, to)
        if not url.startswith(("http://", "https://")):
            raise bad_request("InvalidFailback", f"/to: '{to}' is neither a peer name nor a URL")
        await continuity.deactivate(f"failback to {to}")
        states = self.trigger_states()
        activated = await hand_over(
            continuity.http, url, continuity.api_key, origin=self.name, epoch=continuity.epoch, states=states
        )
        return {"from": continuity.status(), "to": activated, "handedOver": len(states)}

    # -- workflows ---------------------------------------------------------------------------------
    def _latest(self, name: str) -> WorkflowVersion:
        found = self.store.get_workflow(name)
        if found is None:
            raise not_found("WorkflowNotFound", f"The workflow '{name}' could not be found.")
        return found

    async def deploy(self, name: str, document: JSON, *, what_if: bool = False) -> tuple[JSONObject, bool]:
        """Validate and store a workflow; returns its summary and whether it was created.

        The continuity fields `mode`, `split`, `connections`, `triggerState` and `locationRole`
        (pairflow.continuity.roles) are checked against the trigger's rules and recorded. With
        `what_if`, nothing is stored: the answer is what would change (pairflow.continuity.whatif).

        `document` is {"definition", "parameters": {name: value}} or anything `load_workflow` accepts
        (a workflow.json, an exported resource, a bare definition). Nothing is stored when invalid.
        """
        if not isinstance(document, dict):
            raise bad_request(
                "InvalidDefinition", "The request body must be a JSON object.", [("", "expected an object")]
            )
        supplied: dict[str, JSON] = {}
        raw_parameters = document.get("parameters") if "definition" in document else None
        if isinstance(raw_parameters, dict):
            # Plain values, or {"name": {"value": …}} as in ARM files.
            for key, value in raw_parameters.items():
                is_wrapped = isinstance(value, dict) and set(value) <= {"value", "type"} and "value" in value
                supplied[key] = value["value"] if is_wrapped else value
        elif raw_parameters is not None:
            raise bad_request(
                "InvalidParameters",
                "/parameters: expected an object of parameter values",
                [("/parameters", "expected an object of parameter values")],
            )
        try:
            loaded = load_workflow(document, name)
            model = validate_loaded(loaded)
        except DefinitionError as error:
            raise bad_request(
                "InvalidDefinition", error.issues[0][1] if error.issues else error.message, error.issues
            ) from None
        schema_issues = _schema_issues(model)
        if schema_issues:
            raise bad_request("InvalidDefinition", schema_issues[0][1], schema_issues)
        if not supplied:
            supplied = {k: v for k, v in loaded.parameters.items() if k in model.parameters}
        try:
            values = resolve_parameters(model, supplied, "parameters")
        except ParameterIssuesError as error:
            raise bad_request(
                "InvalidParameters",
                error.issues[0][1] if error.issues else error.message,
                [(f"/parameters{pointer}", text) for pointer, text in error.issues],
            ) from None
        wanted, problems = roles.planned_deployment(self.store, name, loaded.definition, document)
        if problems:
            raise bad_request("InvalidDeploymentMode", problems[0][1], problems)
        if what_if:
            recorded = roles.read_deployment(self.store, name)
            latest = self.store.get_workflow(name)
            return whatif.compare(latest, recorded, loaded.definition, values, wanted), False
        existed = self.store.get_workflow(name) is not None
        version = self.store.put_workflow(name, loaded.definition, values, self.clock.now())
        if wanted is not None:
            roles.record_deployment(
                self.store, name, wanted, location=self.name, now=self.clock.now(), new_id=self._new_id
            )
        if self.store.get_access_key(name) is None:
            self.store.set_access_key(name, signing.new_access_key())
        self._endpoints.pop(name, None)
        if self.triggers is not None:
            await self.triggers.workflow_changed(name)
        return self.workflow_summary(version, model), not existed

    def workflow_summary(
        self, version: WorkflowVersion, model: WorkflowDefinition | None = None
    ) -> JSONObject:
        model = model or build_definition(version.definition)
        return {
            "name": version.name,
            "version": version.version,
            "enabled": version.enabled,
            "state": "Enabled" if version.enabled else "Disabled",
            "createdTime": iso(version.created_at),
            "triggers": [
                {"name": t.name, "type": t.type, **({"kind": t.kind} if t.kind else {})}
                for t in model.triggers.values()
            ],
        }

    def list_workflows(self) -> list[JSONObject]:
        return [self.workflow_summary(version) for version in self.store.list_workflows()]

    def get_workflow(self, name: str) -> JSONObject:
        version = self._latest(name)
        model = build_definition(version.definition)
        summary = self.workflow_summary(version, model)
        summary["definition"] = version.definition
        summary["parameters"] = _secure_parameters(model, version.parameters)
        summary["deployment"] = roles.deployment_view(self.store, name, version.definition)
        return summary

    def list_versions(self, name: str) -> list[JSONObject]:
        latest = self._latest(name)
        versions: list[JSONObject] = []
        for number in range(latest.version, 0, -1):
            found = self.store.get_workflow(name, number)
            if found is not None:
                versions.append({"version": found.version, "createdTime": iso(found.created_at)})
        return versions

    async def set_enabled(self, name: str, enabled: bool) -> JSONObject:
        if not self.store.set_workflow_enabled(name, enabled):
            raise not_found("WorkflowNotFound", f"The workflow '{name}' could not be found.")
        self._endpoints.pop(name, None)
        if self.triggers is not None:
            await self.triggers.workflow_changed(name)
        return self.workflow_summary(self._latest(name))

    async def delete(self, name: str) -> None:
        if not self.store.delete_workflow(name):
            raise not_found("WorkflowNotFound", f"The workflow '{name}' could not be found.")
        self._endpoints.pop(name, None)
        if self.triggers is not None:
            await self.triggers.workflow_changed(name)

    async def regenerate_access_key(self, name: str) -> None:
        self._latest(name)
        self.store.set_access_key(name, signing.new_access_key())
        self._endpoints.pop(name, None)
        if self.triggers is not None:
            await self.triggers.workflow_changed(name)

    async def set_access_key(self, name: str, key: JSON) -> None:
        """Set the key that signs callback URLs to a given value.

        Two locations behind one front door or load balancer must hold the same key, so that the
        one signed URL a caller holds is valid at either; old URLs stop working as on regenerate.
        """
        if not isinstance(key, str):
            raise bad_request("InvalidAccessKey", "/key: expected a string")
        if not MIN_ACCESS_KEY_CHARS <= len(key) <= MAX_ACCESS_KEY_CHARS:
            raise bad_request(
                "InvalidAccessKey",
                f"/key: expected {MIN_ACCESS_KEY_CHARS}-{MAX_ACCESS_KEY_CHARS} characters, got {len(key)}",
            )
        if not key.isascii() or not key.isprintable() or any(c.isspace() for c in key):
            raise bad_request("InvalidAccessKey", "/key: expected printable ASCII without spaces")
        self._latest(name)
        self.store.set_access_key(name, key)
        self._endpoints.pop(name, None)
        if self.triggers is not None:
            await self.triggers.workflow_changed(name)

    # -- triggers ----------------------------------------------------------------------------------
    def endpoint(self, name: str) -> Endpoint:
        """The latest deployed version's endpoint data: cached until the workflow changes here, and
        checked against the store at most every `endpoint_ttl` seconds, since other processes sharing
        the store deploy too. The hot path costs a clock read."""
        cached = self._endpoints.get(name)
        now = time.monotonic()
        if cached is not None and now - cached.checked_at < self.endpoint_ttl:
            return cached
        version = self._latest(name)
        if cached is not None and self._still_current(cached, version):
            self._endpoints[name] = current = replace(cached, checked_at=now)
            return current
        model = build_definition(version.definition)
        key = self.store.get_access_key(name)
        if key is None:  # deployed before keys existed: make one now
            key = signing.new_access_key()
            self.store.set_access_key(name, key)
        schemas = {
            trigger.name: validator
            for trigger in model.triggers.values()
            if (validator := _schema_validator(trigger)) is not None
        }
        endpoint = Endpoint(
            version=version,
            model=model,
            has_response=any(action.type == "Response" for action in model.all_actions.values()),
            access_key=key,
            schemas=schemas,
            deployment=roles.effective_deployment(
                roles.read_deployment(self.store, name), version.definition
            ),
            checked_at=now,
        )
        self._endpoints[name] = endpoint
        return endpoint

    def _still_current(self, cached: Endpoint, latest: WorkflowVersion) -> bool:
        """Whether the store's latest version, access key and deployment record are the ones the
        endpoint was built for."""
        served = cached.version
        if (latest.version, latest.enabled) != (served.version, served.enabled):
            return False
        if self.store.get_access_key(latest.name) != cached.access_key:
            return False
        recorded = roles.read_deployment(self.store, latest.name)
        return roles.effective_deployment(recorded, latest.definition) == cached.deployment

    def trigger_of(self, name: str, trigger: str) -> tuple[Endpoint, TriggerDef]:
        endpoint = self.endpoint(name)
        found = endpoint.model.triggers.get(trigger)
        if found is None:
            raise not_found(
                "WorkflowTriggerNotFound", f"The workflow '{name}' has no trigger named '{trigger}'."
            )
        return endpoint, found

    def callback_url(self, workflow: str, trigger: str, relative: str = "") -> str:
        """The signed URL that runs the trigger (also used by HttpWebhook subscriptions)."""
        endpoint = self.endpoint(workflow)
        sig = signing.sign(endpoint.access_key, workflow, trigger)
        path = f"{self.base_url}/workflows/{workflow}/triggers/{trigger}/invoke"
        if relative:
            path += "/" + relative.lstrip("/")
        sp = signing.permission(trigger).replace("/", "%2F")
        return f"{path}?api-version={signing.API_VERSION}&sp={sp}&sv={signing.SIGNING_VERSION}&sig={sig}"

    def list_callback_url(self, workflow: str, trigger: str) -> JSONObject:
        endpoint, found = self.trigger_of(workflow, trigger)
        if found.type not in CALLBACK_TRIGGER_TYPES:
            raise bad_request(
                "InvalidTriggerType",
                f"The trigger '{trigger}' of type '{found.type}' has no callback URL; "
                "only Request and HttpWebhook triggers do.",
            )
        inputs = found.inputs if isinstance(found.inputs, dict) else {}
        method = inputs.get("method")
        relative = inputs.get("relativePath")
        base_path = f"{self.base_url}/workflows/{workflow}/triggers/{trigger}/invoke"
        sig = signing.sign(endpoint.access_key, workflow, trigger)
        result: JSONObject = {
            "value": self.callback_url(workflow, trigger),
            "method": str(method).upper() if isinstance(method, str) else "POST",
            "basePath": base_path,
            "queries": {
                "api-version": signing.API_VERSION,
                "sp": signing.permission(trigger),
                "sv": signing.SIGNING_VERSION,
                "sig": sig,
            },
        }
        if isinstance(relative, str) and relative:
            result["relativePath"] = relative.strip("/")
            result["relativePathParameters"] = path_parameter_names(relative)
        return result

    def fire(self, workflow: str, trigger: str, outputs: JSONObject, endpoint: Endpoint) -> RunRecord:
        """Commit a run of the endpoint's version with these trigger outputs, and its history event.

        Returns once the run is durable; the caller then hands it to the dispatcher.
        """
        self.refuse_if_passive(workflow)
        try:
            run = self.engine.prepare_run(
                workflow, trigger_outputs=outputs, trigger_name=trigger, version=endpoint.version.version
            )
        except InputError as error:
            raise not_found("WorkflowNotFound", error.message) from None
        event = TriggerEvent(
            id=self._new_id(),
            workflow=workflow,
            trigger=trigger,
            status="Succeeded",
            fired_at=run.created_at,
            run_ids=(run.id,),
        )
        self.store.fire_trigger(TriggerFire(event=event, runs=[run]))
        self.engine.committed([run.id])  # replication ships it
        return run

    def admit(self, workflow: str) -> None:
        """Raise 429 when the workflow has too many runs waiting to execute."""
        from pairflow.engine.dispatcher import TooManyWaitingRunsError

        try:
            self.dispatcher.check_admission(workflow)
        except TooManyWaitingRunsError as error:
            raise ApiError(
                429,
                "WorkflowRunsThrottled",
                error.message or "Too many runs are waiting.",
                headers={"Retry-After": "1"},
            ) from None

    def trigger_history(self, workflow: str, trigger: str, limit: int) -> list[JSONObject]:
        self.trigger_of(workflow, trigger)
        return [event_view(e) for e in self.store.list_trigger_history(workflow, trigger, limit)]

    def export_trigger_state(self, workflow: str, trigger: str) -> JSONObject:
        self.trigger_of(workflow, trigger)
        if self.triggers is None:
            return self.store.get_trigger_state(workflow, trigger) or {}
        return self.triggers.export_state(workflow, trigger)

    async def import_trigger_state(self, workflow: str, trigger: str, state: JSON) -> None:
        self.trigger_of(workflow, trigger)
        if not isinstance(state, dict):
            raise bad_request("InvalidRequestContent", "The trigger state must be a JSON object.")
        try:
            if self.triggers is None:
                self.store.put_trigger_state(workflow, trigger, state)
            else:
                await self.triggers.import_state(workflow, trigger, state)
        except InputError as error:
            raise bad_request("InvalidTriggerState", error.message) from None

    # -- runs --------------------------------------------------------------------------------------
    def list_runs(
        self,
        workflow: str | None = None,
        status: str | None = None,
        trigger: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
    ) -> list[JSONObject]:
        runs = self.store.list_runs_filtered(
            workflow=workflow, status=status, trigger=trigger, since=since, until=until, limit=limit
        )
        return [run_summary(run) for run in runs]

    def get_run(self, run_id: str) -> JSONObject:
        try:
            return run_view(self.store, run_id)
        except RunNotFoundError:
            raise not_found(
                "WorkflowRunNotFound", f"The workflow run '{run_id}' could not be found."
            ) from None

    def _run(self, run_id: str) -> RunRecord:
        run = self.store.get_run(run_id)
        if run is None:
            raise not_found("WorkflowRunNotFound", f"The workflow run '{run_id}' could not be found.")
        return run

    async def cancel(self, run_id: str) -> JSONObject:
        run = self._run(run_id)
        if run.status != "Running":
            raise ApiError(
                409,
                "WorkflowRunNotRunning",
                f"The workflow run '{run_id}' has ended ({run.status}); it cannot be cancelled.",
            )
        ended = await self.engine.cancel(run_id)
        return run_summary(ended)

    def resubmit(self, run_id: str) -> RunRecord:
        """A new run of the workflow's latest version with the same trigger outputs."""
        old = self._run(run_id)
        self._latest(old.workflow)
        self.refuse_if_passive(old.workflow)
        self.admit(old.workflow)
        outputs = old.trigger.get("outputs")
        trigger = old.trigger.get("name")
        run = self.engine.prepare_run(
            old.workflow,
            trigger_outputs=dict(outputs) if isinstance(outputs, dict) else None,
            trigger_name=trigger if isinstance(trigger, str) else None,
        )
        self.store.create_run(run)
        self.engine.committed([run.id])  # replication ships it
        self.dispatcher.submit(run)
        return run

    # -- health ------------------------------------------------------------------------------------
    def readiness(self) -> tuple[bool, JSONObject]:
        """Ready when accepting, the store answers and the trigger service runs.

        The seconds since the scheduler's last tick are reported, not judged: a trigger loop sleeps
        until its next occurrence, so a daily recurrence legitimately ticks once a day.
        """
        reasons: list[str] = []
        checks: JSONObject = {"location": self.name, "accepting": self.accepting}
        try:
            self.store.get_run("")
            checks["store"] = "ok"
        except PairflowError as error:
            checks["store"] = "unreachable"
            reasons.append(f"store: {error.message}")
        if not self.accepting:
            reasons.append("not accepting requests (starting or stopping)")
        if self.triggers is not None:
            status = self.triggers.status()
            running = bool(status.get("running"))
            checks["triggers"] = {"running": running, "armed": status.get("armed")}
            if not running:
                reasons.append("trigger service is not running")
            age = _seconds_since(status.get("lastTick"), self.clock.now())
            checks["secondsSinceTick"] = age
        if self.continuity is not None:
            status = self.continuity.status()
            checks["continuity"] = {k: status[k] for k in ("epoch", "active", "acting")}
            lapsed = self.continuity.health()
            if lapsed is not None:
                reasons.append(lapsed)
        if reasons:
            checks["reasons"] = reasons
        return not reasons, checks


def _seconds_since(value: Any, now: datetime) -> float | None:
    if isinstance(value, datetime):
        return max(0.0, (now - value).total_seconds())
    if isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return max(0.0, (now - moment).total_seconds())
    if isinstance(value, int | float):
        return max(0.0, now.timestamp() - float(value))
    return None


def path_parameter_names(template: str) -> list[str]:
    return [segment[1:-1] for segment in template.strip("/").split("/") if _is_parameter(segment)]


def _is_parameter(segment: str) -> bool:
    return len(segment) > 2 and segment.startswith("{") and segment.endswith("}")


def match_relative_path(template: str, path: str) -> dict[str, str] | None:
    """The parameters of `path` against a template like "customers/{id}"; None when it doesn't match."""
    want = [s for s in template.strip("/").split("/") if s]
    got = [s for s in path.strip("/").split("/") if s]
    if len(want) != len(got):
        return None
    found: dict[str, str] = {}
    for pattern, segment in zip(want, got, strict=True):
        if _is_parameter(pattern):
            found[pattern[1:-1]] = segment
        elif pattern.lower() != segment.lower():
            return None
    return found
