"""Validation of a definition: every problem at once, each as (JSON pointer, what was expected).

Structure comes from the JSON Schema (structure.py); meaning is checked here: known types, the fields
each type needs (rules.py), runAfter (graph.py), unique action names, parameter declarations, and the
expressions (parsed by pairflow.expressions) with the actions they name.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from pairflow.definition.graph import check_run_after
from pairflow.definition.loader import LoadedWorkflow, describe_json_type, escape_pointer, load_workflow
from pairflow.definition.model import (
    KNOWN_ACTION_TYPES,
    KNOWN_TRIGGER_TYPES,
    PARAMETER_TYPES,
    UNSUPPORTED_ACTION_TYPES,
    UNSUPPORTED_TRIGGER_TYPES,
    WorkflowDefinition,
    build_definition,
)
from pairflow.definition.rules import check_action_fields, check_trigger_fields
from pairflow.definition.structure import check_structure
from pairflow.definition.types import expected_for, matches_parameter_type
from pairflow.errors import DefinitionError, ExpressionError
from pairflow.expressions import check_templates, referenced_actions
from pairflow.jsontypes import JSON, JSONObject

Issues = list[tuple[str, str]]

# Properties of an action that hold other actions (walked as actions) or text that is never evaluated.
_NOT_EVALUATED = frozenset(
    {"type", "runAfter", "actions", "else", "cases", "default", "description", "metadata"}
)


@dataclass(frozen=True, slots=True)
class _Action:
    name: str
    pointer: str
    raw: JSONObject
    type: str  # canonical spelling when known, else as written
    list_pointer: str
    siblings: JSONObject


def validate_definition(definition: JSON) -> Issues:
    """Every problem with a definition, in a stable order; empty when it is valid."""
    issues = check_structure(definition)
    if not isinstance(definition, dict):
        return issues
    actions = list(_walk_actions(definition.get("actions"), "/actions"))
    issues += _check_names(actions)
    issues += _check_types_and_fields(definition, actions)
    issues += _check_run_after(definition, actions)
    issues += _check_parameters(definition.get("parameters"))
    issues += _check_expressions(definition, actions)
    return _unique(issues)


def _unique(issues: Issues) -> Issues:
    seen: set[tuple[str, str]] = set()
    result: Issues = []
    for issue in issues:
        if issue not in seen:
            seen.add(issue)
            result.append(issue)
    return result


def _walk_actions(raw_actions: JSON, list_pointer: str) -> Iterator[_Action]:
    """Every action at any depth, parents before their children."""
    if not isinstance(raw_actions, dict):
        return
    for name, raw in raw_actions.items():
        if not isinstance(raw, dict):
            continue
        pointer = f"{list_pointer}/{escape_pointer(name)}"
        written = raw.get("type")
        written = written if isinstance(written, str) else ""
        canonical = KNOWN_ACTION_TYPES.get(written.lower(), written)
        yield _Action(name, pointer, raw, canonical, list_pointer, raw_actions)
        for child_list, child_pointer in _child_lists(raw, pointer):
            yield from _walk_actions(child_list, child_pointer)


def _child_lists(raw: JSONObject, pointer: str) -> Iterator[tuple[JSON, str]]:
    # Nested lists are walked whatever the type says, so a mistyped Scope still has its children checked.
    if "actions" in raw:
        yield raw["actions"], f"{pointer}/actions"
    for branch in ("else", "default"):
        value = raw.get(branch)
        if isinstance(value, dict) and "actions" in value:
            yield value["actions"], f"{pointer}/{branch}/actions"
    cases = raw.get("cases")
    if isinstance(cases, dict):
        for case_name, case in cases.items():
            if isinstance(case, dict) and "actions" in case:
                yield case["actions"], f"{pointer}/cases/{escape_pointer(case_name)}/actions"


def _check_names(actions: list[_Action]) -> Issues:
    issues: Issues = []
    first: dict[str, str] = {}
    for action in actions:
        if action.name in first:
            issues.append(
                (
                    action.pointer,
                    f"action name '{action.name}' is already used at {first[action.name]}; "
                    "action names must be unique across the whole workflow",
                )
            )
        else:
            first[action.name] = action.pointer
    return issues


def _check_types_and_fields(definition: JSONObject, actions: list[_Action]) -> Issues:
    issues: Issues = []
    triggers = definition.get("triggers")
    if isinstance(triggers, dict):
        if len(triggers) > 1:
            issues.append(
                (
                    "/triggers",
                    f"more than one trigger is not supported by pairflow yet (found {len(triggers)})",
                )
            )
        for name, raw in triggers.items():
            if not isinstance(raw, dict) or not isinstance(raw.get("type"), str) or not raw["type"]:
                continue
            pointer = f"/triggers/{escape_pointer(name)}"
            written = raw["type"]
            canonical = KNOWN_TRIGGER_TYPES.get(written.lower())
            if canonical is not None:
                issues += check_trigger_fields(raw, canonical, pointer)
            elif written.lower() in UNSUPPORTED_TRIGGER_TYPES:
                described = UNSUPPORTED_TRIGGER_TYPES[written.lower()]
                issues.append((pointer, f"trigger type '{written}' ({_explanation(described)}) {_NOT_YET}"))
            else:
                issues.append(
                    (
                        pointer,
                        f"unknown trigger type '{written}' (expected one of {_known(KNOWN_TRIGGER_TYPES)})",
                    )
                )
    for action in actions:
        written = action.raw.get("type")
        if not isinstance(written, str) or not written:
            continue
        if written.lower() in KNOWN_ACTION_TYPES:
            issues += check_action_fields(action.raw, action.type, action.pointer)
        elif written.lower() in UNSUPPORTED_ACTION_TYPES:
            described = UNSUPPORTED_ACTION_TYPES[written.lower()]
            issues.append((action.pointer, f"action type '{written}' ({_explanation(described)}) {_NOT_YET}"))
        else:
            issues.append(
                (
                    action.pointer,
                    f"unknown action type '{written}' (expected one of {_known(KNOWN_ACTION_TYPES)})",
                )
            )
    return issues


_NOT_YET = "is not supported by pairflow yet"


def _explanation(described: str) -> str:
    """'ApiConnection (a managed connector hosted by Azure)' -> 'a managed connector hosted by Azure'."""
    if described.endswith(")") and "(" in described:
        return described[described.index("(") + 1 : -1]
    return described


def _known(table: Mapping[str, str]) -> str:
    return ", ".join(sorted(table.values()))


def _check_run_after(definition: JSONObject, actions: list[_Action]) -> Issues:
    where_defined: dict[str, str] = {}
    for action in actions:
        where_defined.setdefault(action.name, action.pointer)
    issues: Issues = []
    seen_lists: set[str] = set()
    lists: list[tuple[JSON, str]] = [(definition.get("actions"), "/actions")]
    lists += [(a.siblings, a.list_pointer) for a in actions]
    for siblings, list_pointer in lists:
        if list_pointer in seen_lists or not isinstance(siblings, dict):
            continue
        seen_lists.add(list_pointer)
        issues += check_run_after(siblings, list_pointer, where_defined)
    return issues


def _check_parameters(parameters: JSON) -> Issues:
    if not isinstance(parameters, dict):
        return []
    issues: Issues = []
    for name, declaration in parameters.items():
        if not isinstance(declaration, dict):
            continue
        pointer = f"/parameters/{escape_pointer(name)}"
        written = declaration.get("type")
        if not isinstance(written, str):
            continue
        type_name = written.lower()
        if type_name not in PARAMETER_TYPES:
            issues.append(
                (
                    f"{pointer}/type",
                    f"expected a parameter type ({', '.join(PARAMETER_TYPES)}), got '{written}'",
                )
            )
            continue
        allowed = declaration.get("allowedValues")
        if isinstance(allowed, list):
            for index, value in enumerate(allowed):
                if not matches_parameter_type(value, type_name):
                    issues.append(
                        (
                            f"{pointer}/allowedValues/{index}",
                            f"expected {expected_for(type_name)} ({type_name}), "
                            f"got {describe_json_type(value)}",
                        )
                    )
        if "defaultValue" not in declaration:
            continue
        default = declaration["defaultValue"]
        if not matches_parameter_type(default, type_name):
            issues.append(
                (
                    f"{pointer}/defaultValue",
                    f"expected {expected_for(type_name)} ({type_name}), got {describe_json_type(default)}",
                )
            )
        elif isinstance(allowed, list) and default not in allowed:
            issues.append(
                (
                    f"{pointer}/defaultValue",
                    f"expected one of the allowedValues, got {json.dumps(default)[:60]}",
                )
            )
    return issues


def _evaluated_parts(definition: JSONObject, actions: list[_Action]) -> Iterator[tuple[str, str, JSON, str]]:
    """(pointer, property, value, owner) for every part of the definition that holds expressions."""
    triggers = definition.get("triggers")
    if isinstance(triggers, dict):
        for name, raw in triggers.items():
            if isinstance(raw, dict):
                for key, value in raw.items():
                    if key not in _NOT_EVALUATED:
                        yield (
                            f"/triggers/{escape_pointer(name)}/{escape_pointer(key)}",
                            key,
                            value,
                            f"trigger '{name}'",
                        )
    for action in actions:
        for key, value in action.raw.items():
            if key not in _NOT_EVALUATED:
                yield f"{action.pointer}/{escape_pointer(key)}", key, value, f"action '{action.name}'"
    outputs = definition.get("outputs")
    if isinstance(outputs, dict):
        for name, output in outputs.items():
            if isinstance(output, dict) and "value" in output:
                yield f"/outputs/{escape_pointer(name)}/value", "value", output["value"], f"output '{name}'"


def _check_expressions(definition: JSONObject, actions: list[_Action]) -> Issues:
    names = {action.name for action in actions}
    issues: Issues = []
    for pointer, key, value, owner in _evaluated_parts(definition, actions):
        issues += check_templates(value, pointer)
        try:
            referenced = referenced_actions(value)
        except ExpressionError:  # an expression that does not parse is reported by check_templates
            continue
        missing = sorted(name for name in referenced if name not in names)
        if missing:
            listed = ", ".join(f"'{name}'" for name in missing)
            noun = "action" if len(missing) == 1 else "actions"
            verb = "is" if len(missing) == 1 else "are"
            issues.append(
                (
                    pointer,
                    f"the {noun} {listed} referenced by '{key}' in {owner} {verb} "
                    "not defined in the workflow",
                )
            )
    return issues


def validate_loaded(loaded: LoadedWorkflow) -> WorkflowDefinition:
    """The model of a loaded workflow; DefinitionError lists every problem with pointers into the file."""
    issues = validate_definition(loaded.definition)
    if issues:
        raise DefinitionError(
            [(f"{loaded.pointer}{pointer}", message) for pointer, message in issues], loaded.source
        )
    return build_definition(loaded.definition)


def load_and_validate(
    source: str | Path | JSONObject, name: str | None = None
) -> tuple[LoadedWorkflow, WorkflowDefinition]:
    """Load a workflow from any of its shapes and validate it; raise DefinitionError listing every problem."""
    loaded = load_workflow(source, name)
    return loaded, validate_loaded(loaded)
