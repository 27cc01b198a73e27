"""The JSON form of what replication ships: a run record, its action records, and the workflow
version they ran; pure, so both halves (replication.py sends, replica.py receives) agree on it.

A malformed item raises `InputError` naming its JSON pointer inside the batch.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pairflow.engine.context import iso
from pairflow.engine.view import REPLICA_OWNER_PREFIX
from pairflow.errors import InputError
from pairflow.jsontypes import JSON, JSONObject
from pairflow.store.records import ActionRecord, RunRecord, WorkflowVersion

REPLICA_PREFIX = REPLICA_OWNER_PREFIX  # the owner of a replica: "replica:<origin location>"


def replica_owner(origin: str) -> str:
    return REPLICA_PREFIX + origin


def origin_of(owner: str | None) -> str | None:
    """The origin location of a replica's owner; None for a run that is not a replica."""
    if owner is None or not owner.startswith(REPLICA_PREFIX):
        return None
    return owner[len(REPLICA_PREFIX) :]


def version_key(workflow: str, version: int) -> str:
    return f"{workflow}@{version}"


def _time(value: JSON, where: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(f"{where}: expected an ISO 8601 time")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{where}: expected an ISO 8601 time, got {value[:40]!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _str(value: JSON, where: str) -> str:
    if not isinstance(value, str):
        raise InputError(f"{where}: expected a string")
    return value


def _int(value: JSON, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InputError(f"{where}: expected an integer")
    return value


def _object(value: JSON, where: str) -> JSONObject:
    if not isinstance(value, dict):
        raise InputError(f"{where}: expected an object")
    return value


def _optional_object(value: JSON, where: str) -> JSONObject | None:
    return None if value is None else _object(value, where)


def run_json(run: RunRecord) -> JSONObject:
    """Everything of the run but its lease (a lease means nothing in another location)."""
    return {
        "id": run.id,
        "workflow": run.workflow,
        "version": run.version,
        "status": run.status,
        "trigger": run.trigger,
        "createdAt": iso(run.created_at),
        "variables": run.variables,
        "outputs": run.outputs,
        "error": run.error,
        "response": run.response,
        "endedAt": iso(run.ended_at),
        "parentRun": run.parent_run,
        "epoch": run.epoch,
    }


def run_of(value: JSON, where: str) -> RunRecord:
    item = _object(value, where)
    created = _time(item.get("createdAt"), f"{where}/createdAt")
    if created is None:
        raise InputError(f"{where}/createdAt: expected an ISO 8601 time")
    parent = item.get("parentRun")
    return RunRecord(
        id=_str(item.get("id"), f"{where}/id"),
        workflow=_str(item.get("workflow"), f"{where}/workflow"),
        version=_int(item.get("version"), f"{where}/version"),
        status=_str(item.get("status"), f"{where}/status"),
        trigger=_object(item.get("trigger"), f"{where}/trigger"),
        created_at=created,
        variables=_object(item.get("variables", {}), f"{where}/variables"),
        outputs=_optional_object(item.get("outputs"), f"{where}/outputs"),
        error=_optional_object(item.get("error"), f"{where}/error"),
        response=_optional_object(item.get("response"), f"{where}/response"),
        ended_at=_time(item.get("endedAt"), f"{where}/endedAt"),
        parent_run=parent if isinstance(parent, str) else None,
        epoch=_int(item.get("epoch", 0), f"{where}/epoch"),
    )


def action_json(record: ActionRecord) -> JSONObject:
    return {
        "name": record.name,
        "repetition": record.repetition,
        "status": record.status,
        "attempts": record.attempts,
        "inputs": record.inputs,
        "outputs": record.outputs,
        "error": record.error,
        "code": record.code,
        "startTime": iso(record.start_time),
        "endTime": iso(record.end_time),
        "trackedProperties": record.tracked_properties,
        "state": record.state,
    }


def action_of(run_id: str, value: JSON, where: str) -> ActionRecord:
    item = _object(value, where)
    code = item.get("code")
    return ActionRecord(
        run_id=run_id,
        name=_str(item.get("name"), f"{where}/name"),
        repetition=_str(item.get("repetition", ""), f"{where}/repetition"),
        status=_str(item.get("status"), f"{where}/status"),
        attempts=_int(item.get("attempts", 0), f"{where}/attempts"),
        inputs=item.get("inputs"),
        outputs=item.get("outputs"),
        error=_optional_object(item.get("error"), f"{where}/error"),
        code=code if isinstance(code, str) else None,
        start_time=_time(item.get("startTime"), f"{where}/startTime"),
        end_time=_time(item.get("endTime"), f"{where}/endTime"),
        tracked_properties=_optional_object(item.get("trackedProperties"), f"{where}/trackedProperties"),
        state=_object(item.get("state", {}), f"{where}/state"),
    )


def version_json(version: WorkflowVersion) -> JSONObject:
    return {
        "workflow": version.name,
        "version": version.version,
        "definition": version.definition,
        "parameters": version.parameters,
    }


def version_of(value: JSON, where: str) -> tuple[str, int, JSONObject, JSONObject]:
    """(workflow, origin's version number, definition, parameters)."""
    item = _object(value, where)
    return (
        _str(item.get("workflow"), f"{where}/workflow"),
        _int(item.get("version"), f"{where}/version"),
        _object(item.get("definition"), f"{where}/definition"),
        _object(item.get("parameters", {}), f"{where}/parameters"),
    )
