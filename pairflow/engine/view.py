"""The stable JSON view of one run: what `pairflow run --json` and `pairflow show RUN_ID --json` print.

Fields (times are ISO 8601 UTC strings ending in Z; absent values are null or left out as noted):

- `id`, `workflow`, `version`: the run and the workflow version it ran.
- `status`: "Running", "Succeeded", "Failed" or "Cancelled".
- `startTime`, `endTime` (null while running).
- `location` (summaries only): present on a run replicated from another location: its name.
- `trigger`: {`name`, `outputs`} — the trigger's outputs, "<redacted>" when they are secure.
- `outputs`: the workflow's outputs by name; securestring/secureobject outputs are "<redacted>".
- `actions`: by action name, in the order they first ran. Each: `type`, `status`, `inputs`,
  `outputs`, `attempts`, `startTime`, `endTime`, `code`, `error`, `trackedProperties`. A container's
  nested actions are under its `actions`. An action inside a loop has `repetitions`: a list (in
  order) of {`repetition` (e.g. "For_each=000003"), `indexes` ({loop: index}), and the fields above};
  its own fields are those of its latest repetition.
- `error`: present when the run failed: {`code`, `message`} (and `action`, the failing action).
- `response`: present when a Response action ran: {`statusCode`, `headers`, `body`}.

Nothing secret ever appears: inputs/outputs an action marks secure
(`runtimeConfiguration.secureData.properties`) and the values of secure parameters are replaced with
"<redacted>", also where a secret value occurs inside another string.
"""

from __future__ import annotations

from typing import Any

from pairflow.definition.model import ActionDef, WorkflowDefinition, build_definition
from pairflow.engine.context import iso
from pairflow.engine.decide import parse_repetition
from pairflow.errors import RunNotFoundError
from pairflow.jsontypes import JSON, JSONObject
from pairflow.store.base import Store
from pairflow.store.records import ActionRecord, RunRecord

REDACTED = "<redacted>"
# The owner of a run replicated from another location: "replica:<origin>" (pairflow.continuity.replica).
REPLICA_OWNER_PREFIX = "replica:"
_SECURE_OUTPUT_TYPES = frozenset({"securestring", "secureobject"})


def run_summary(run: RunRecord) -> JSONObject:
    """One line of a run listing (`pairflow runs --json`, `GET /api/runs`)."""
    summary: JSONObject = {
        "id": run.id,
        "workflow": run.workflow,
        "version": run.version,
        "status": run.status,
        "trigger": run.trigger.get("name"),
        "startTime": iso(run.created_at),
        "endTime": iso(run.ended_at),
    }
    if run.error:
        summary["error"] = run.error
    if run.owner is not None and run.owner.startswith(REPLICA_OWNER_PREFIX):
        summary["location"] = run.owner[len(REPLICA_OWNER_PREFIX) :]  # replicated from there
    return summary


def run_view(store: Store, run_id: str) -> JSONObject:
    """The run as one JSON object (see the module docstring), with every secret redacted."""
    run = store.get_run(run_id)
    if run is None:
        raise RunNotFoundError(f"no run with id '{run_id}'")
    version = store.get_workflow(run.workflow, run.version)
    definition = build_definition(version.definition) if version is not None else None
    secrets = _secret_values(definition, version.parameters if version is not None else {})

    trigger_def = definition.triggers.get(str(run.trigger.get("name"))) if definition else None
    trigger_outputs: JSON = run.trigger.get("outputs")
    if trigger_def is not None and "outputs" in _secure_properties(trigger_def.raw):
        trigger_outputs = REDACTED
    view: JSONObject = {
        "id": run.id,
        "workflow": run.workflow,
        "version": run.version,
        "status": run.status,
        "startTime": iso(run.created_at),
        "endTime": iso(run.ended_at),
        "trigger": {"name": run.trigger.get("name"), "outputs": trigger_outputs},
        "outputs": _outputs(definition, run.outputs or {}),
        "actions": _actions(definition, store.load_actions(run_id)),
    }
    if run.error is not None and run.status != "Succeeded":
        view["error"] = run.error
    if run.response is not None:
        view["response"] = run.response
    scrubbed: JSONObject = _scrub(view, sorted(secrets, key=len, reverse=True))
    return scrubbed


def _secure_properties(raw: JSONObject) -> set[str]:
    config = raw.get("runtimeConfiguration")
    secure = config.get("secureData") if isinstance(config, dict) else None
    props = secure.get("properties") if isinstance(secure, dict) else None
    return {str(p).lower() for p in props} if isinstance(props, list) else set()


def _secret_values(definition: WorkflowDefinition | None, values: JSONObject) -> set[str]:
    secrets: set[str] = set()
    if definition is None:
        return secrets
    for name, parameter in definition.parameters.items():
        if not parameter.is_secure:
            continue
        value = values.get(name, parameter.default if parameter.has_default else None)
        _collect_strings(value, secrets)
    return {s for s in secrets if s}


def _collect_strings(value: JSON, into: set[str]) -> None:
    if isinstance(value, str):
        into.add(value)
    elif isinstance(value, dict):
        for item in value.values():
            _collect_strings(item, into)
    elif isinstance(value, list):
        for item in value:
            _collect_strings(item, into)


def _outputs(definition: WorkflowDefinition | None, outputs: JSONObject) -> JSONObject:
    shown: JSONObject = {}
    for name, value in outputs.items():
        spec = definition.outputs.get(name) if definition is not None else None
        kind = str(spec.get("type", "")).lower() if isinstance(spec, dict) else ""
        shown[name] = REDACTED if kind in _SECURE_OUTPUT_TYPES else value
    return shown


def _entry(record: ActionRecord, action: ActionDef | None) -> JSONObject:
    secure = _secure_properties(action.raw) if action is not None else set()
    entry: JSONObject = {
        "status": record.status,
        "inputs": REDACTED if "inputs" in secure and record.inputs is not None else record.inputs,
        "outputs": REDACTED if "outputs" in secure and record.outputs is not None else record.outputs,
        "attempts": record.attempts,
        "startTime": iso(record.start_time),
        "endTime": iso(record.end_time),
        "code": record.code,
        "error": record.error,
    }
    if record.tracked_properties is not None:
        entry["trackedProperties"] = record.tracked_properties
    return entry


def _actions(definition: WorkflowDefinition | None, records: list[ActionRecord]) -> JSONObject:
    top: JSONObject = {}
    nodes: dict[str, JSONObject] = {}

    def node_for(name: str) -> JSONObject:
        if name in nodes:
            return nodes[name]
        action = definition.all_actions.get(name) if definition is not None else None
        node: JSONObject = {"type": action.type if action is not None else None}
        parent = action.parent if action is not None else None
        if parent is None:
            top[name] = node
        else:
            node_for(parent).setdefault("actions", {})[name] = node
        nodes[name] = node
        return node

    for record in records:
        action = definition.all_actions.get(record.name) if definition is not None else None
        node = node_for(record.name)
        entry = _entry(record, action)
        if record.repetition:
            repetitions: list[Any] = node.setdefault("repetitions", [])
            indexes = dict(parse_repetition(record.repetition))
            replaced = False
            for position, existing in enumerate(repetitions):
                if existing["repetition"] == record.repetition:
                    repetitions[position] = {"repetition": record.repetition, "indexes": indexes, **entry}
                    replaced = True
            if not replaced:
                repetitions.append({"repetition": record.repetition, "indexes": indexes, **entry})
            repetitions.sort(key=lambda item: item["repetition"])
        node.update(entry)
    return top


def _scrub(value: Any, secrets: list[str]) -> Any:
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, dict):
        return {key: _scrub(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub(item, secrets) for item in value]
    return value
