"""What a deployment would change, without changing anything: the comparison a location makes for
`PUT /api/workflows/{name}?whatIf=true` and the lines `pairflow deploy --what-if` prints.

The location compares, because only it holds the secure parameter values: the answer names what
changed (definition, parameters, mode, split, connections, …), never a value.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pairflow.continuity.roles import Deployment
from pairflow.jsontypes import JSON, JSONObject
from pairflow.store.records import WorkflowVersion

CREATE, UPDATE, UNCHANGED = "create", "update", "unchanged"
_RECORD_FIELDS = (
    ("mode", "mode"),
    ("split", "split"),
    ("connections", "connections"),
    ("triggerState", "trigger state"),
    ("locationRole", "location role"),
)


def compare(
    latest: WorkflowVersion | None,
    recorded: Deployment | None,
    definition: JSONObject,
    parameters: JSONObject,
    wanted: Deployment | None,
) -> JSONObject:
    """{"change": create|update|unchanged, "changed": [what]} for deploying `definition` and
    `parameters` (resolved) with deployment `wanted` (None: the recorded one stays)."""
    if latest is None:
        return {"change": CREATE, "changed": []}
    changed: list[JSON] = []
    if latest.definition != definition:
        changed.append("definition")
    if latest.parameters != parameters:
        changed.append("parameters")
    if wanted is not None:
        old = recorded.to_json() if recorded is not None else {}
        new = wanted.to_json()
        changed.extend(label for key, label in _RECORD_FIELDS if old.get(key) != new.get(key))
    return {"change": UPDATE if changed else UNCHANGED, "changed": changed}


def line(name: str, answer: JSONObject, mode: str | None = None) -> str:
    """One line of the what-if report for a workflow of the template."""
    change = answer.get("change")
    shown = f" [{mode}]" if mode else ""
    if change == CREATE:
        return f"+ {name}: create{shown}"
    if change == UPDATE:
        what = answer.get("changed")
        listed = ", ".join(str(w) for w in what) if isinstance(what, list) else ""
        return f"~ {name}: update ({listed} changed){shown}"
    return f"= {name}: unchanged{shown}"


def report(answers: Sequence[tuple[str, JSONObject, str | None]], deployed: Iterable[str]) -> list[str]:
    """Every line: the template's workflows in order, then the location's others (left alone)."""
    lines = [line(name, answer, mode) for name, answer, mode in answers]
    ours = {name for name, _, _ in answers}
    lines += [f"- {name}: not in template (left alone)" for name in sorted(set(deployed) - ours)]
    return lines
