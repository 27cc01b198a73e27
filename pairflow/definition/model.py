"""The typed, frozen model of a workflow definition that the engine walks.

`build_definition` turns a raw WDL `definition` object (already structurally valid) into this model;
`pairflow.definition.validate` is where the checks with JSON pointers live.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from pairflow.jsontypes import JSON, JSONObject


class Status(StrEnum):
    """Statuses of actions and runs, spelled as Logic Apps spells them."""

    WAITING = "Waiting"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    SKIPPED = "Skipped"
    TIMED_OUT = "TimedOut"
    CANCELLED = "Cancelled"

    @property
    def is_terminal(self) -> bool:
        return self not in (Status.WAITING, Status.RUNNING)


# runAfter accepts these (matched case-insensitively: the corpus has both `Succeeded` and `SUCCEEDED`).
RUN_AFTER_STATUSES: Mapping[str, Status] = MappingProxyType(
    {
        "succeeded": Status.SUCCEEDED,
        "failed": Status.FAILED,
        "skipped": Status.SKIPPED,
        "timedout": Status.TIMED_OUT,
    }
)

# Canonical spelling of every action type the engine knows, keyed by lower case.
CONTROL_TYPES = ("If", "Switch", "Scope", "Foreach", "Until", "Terminate")
EXECUTOR_TYPES = (
    "Compose",
    "InitializeVariable",
    "SetVariable",
    "IncrementVariable",
    "DecrementVariable",
    "AppendToArrayVariable",
    "AppendToStringVariable",
    "ParseJson",
    "Query",
    "Select",
    "Join",
    "Table",
    "Wait",
    "Http",
    "Response",
    "Workflow",
)
KNOWN_ACTION_TYPES: Mapping[str, str] = MappingProxyType(
    {name.lower(): name for name in (*CONTROL_TYPES, *EXECUTOR_TYPES)}
)
KNOWN_TRIGGER_TYPES: Mapping[str, str] = MappingProxyType(
    {
        name.lower(): name
        for name in ("Request", "Recurrence", "Http", "HttpWebhook", "SlidingWindow", "Manual")
    }
)
# Types that are real Logic Apps types but need services pairflow does not provide (yet).
UNSUPPORTED_ACTION_TYPES: Mapping[str, str] = MappingProxyType(
    {
        "apiconnection": "ApiConnection (a managed connector hosted by Azure)",
        "apiconnectionwebhook": "ApiConnectionWebhook (a managed connector hosted by Azure)",
        "serviceprovider": "ServiceProvider (a built-in service provider connector)",
        "javascriptcode": "JavaScriptCode (inline code)",
        "function": "Function (Azure Functions)",
        "apimanagement": "ApiManagement (Azure API Management)",
        "httpwebhook": "HttpWebhook action",
        "expression": "Expression",
        "flatfiledecoding": "FlatFileDecoding (integration account)",
        "xslt": "Xslt (integration account)",
    }
)
UNSUPPORTED_TRIGGER_TYPES: Mapping[str, str] = MappingProxyType(
    {
        "apiconnection": "ApiConnection trigger (a managed connector hosted by Azure)",
        "apiconnectionwebhook": "ApiConnectionWebhook trigger (a managed connector hosted by Azure)",
        "serviceprovider": "ServiceProvider trigger (a built-in service provider connector)",
    }
)


def _frozen(mapping: dict[str, ActionDef]) -> Mapping[str, ActionDef]:
    return MappingProxyType(mapping)


@dataclass(frozen=True, slots=True)
class ActionDef:
    """One action of a definition, with its nested actions already built."""

    name: str
    type: str  # canonical spelling, e.g. "Foreach"
    pointer: str  # JSON pointer inside the definition, e.g. "/actions/Scope/actions/Send"
    parent: str | None  # name of the enclosing action, None at the top level
    branch: str  # which child list of the parent holds it: "actions", "else", "default" or a case name
    raw: JSONObject
    run_after: Mapping[str, frozenset[Status]]
    children: Mapping[str, ActionDef] = field(default_factory=lambda: _frozen({}))
    else_children: Mapping[str, ActionDef] = field(default_factory=lambda: _frozen({}))
    default_children: Mapping[str, ActionDef] = field(default_factory=lambda: _frozen({}))
    cases: Mapping[str, CaseDef] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def inputs(self) -> JSON:
        return self.raw.get("inputs")

    @property
    def runtime_configuration(self) -> JSONObject:
        value = self.raw.get("runtimeConfiguration")
        return value if isinstance(value, dict) else {}

    @property
    def operation_options(self) -> frozenset[str]:
        value = self.raw.get("operationOptions")
        if not isinstance(value, str):
            return frozenset()
        return frozenset(part.strip().lower() for part in value.split(",") if part.strip())

    @property
    def secure_inputs(self) -> bool:
        return "inputs" in _secure_properties(self.runtime_configuration)

    @property
    def secure_outputs(self) -> bool:
        return "outputs" in _secure_properties(self.runtime_configuration)

    def child_lists(self) -> list[tuple[str, Mapping[str, ActionDef]]]:
        """Every list of nested actions, labelled by branch."""
        lists: list[tuple[str, Mapping[str, ActionDef]]] = []
        if self.children:
            lists.append(("actions", self.children))
        if self.else_children:
            lists.append(("else", self.else_children))
        for case_name, case in self.cases.items():
            lists.append((case_name, case.actions))
        if self.default_children:
            lists.append(("default", self.default_children))
        return lists


@dataclass(frozen=True, slots=True)
class CaseDef:
    """One case of a Switch."""

    name: str
    value: JSON
    actions: Mapping[str, ActionDef]


@dataclass(frozen=True, slots=True)
class TriggerDef:
    name: str
    type: str  # canonical spelling
    pointer: str
    raw: JSONObject

    @property
    def kind(self) -> str | None:
        value = self.raw.get("kind")
        return value if isinstance(value, str) else None

    @property
    def inputs(self) -> JSON:
        return self.raw.get("inputs")


@dataclass(frozen=True, slots=True)
class ParameterDef:
    name: str
    type: str  # canonical lower case: string, securestring, int, float, bool, array, object, secureobject
    has_default: bool
    default: JSON
    raw: JSONObject

    @property
    def is_secure(self) -> bool:
        return self.type in ("securestring", "secureobject")


@dataclass(frozen=True, slots=True)
class WorkflowDefinition:
    """A whole definition: triggers, parameters, top-level actions and a flat index of all actions."""

    raw: JSONObject
    triggers: Mapping[str, TriggerDef]
    parameters: Mapping[str, ParameterDef]
    actions: Mapping[str, ActionDef]
    all_actions: Mapping[str, ActionDef]  # every action at any depth; names are unique in a workflow
    outputs: JSONObject

    @property
    def trigger(self) -> TriggerDef | None:
        """The workflow's trigger (Logic Apps allows one; a definition without one is run manually)."""
        return next(iter(self.triggers.values()), None)


PARAMETER_TYPES = ("string", "securestring", "int", "float", "bool", "array", "object", "secureobject")


def _secure_properties(runtime_configuration: JSONObject) -> set[str]:
    secure = runtime_configuration.get("secureData")
    if not isinstance(secure, dict):
        return set()
    props = secure.get("properties")
    return {str(p).lower() for p in props} if isinstance(props, list) else set()


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def canonical_status(value: str) -> Status | None:
    return RUN_AFTER_STATUSES.get(value.lower())


def _build_actions(
    raw_actions: JSON,
    pointer: str,
    parent: str | None,
    branch: str,
    index: dict[str, ActionDef],
) -> Mapping[str, ActionDef]:
    built: dict[str, ActionDef] = {}
    if not isinstance(raw_actions, dict):
        return _frozen(built)
    for name, raw in raw_actions.items():
        if not isinstance(raw, dict):
            continue
        here = f"{pointer}/{_escape(name)}"
        type_name = str(raw.get("type", ""))
        canonical = KNOWN_ACTION_TYPES.get(type_name.lower(), type_name)
        run_after: dict[str, frozenset[Status]] = {}
        raw_run_after = raw.get("runAfter")
        if isinstance(raw_run_after, dict):
            for predecessor, statuses in raw_run_after.items():
                values = statuses if isinstance(statuses, list) else []
                parsed = {canonical_status(str(s)) for s in values}
                run_after[predecessor] = frozenset(s for s in parsed if s is not None) or frozenset(
                    {Status.SUCCEEDED}
                )
        children: Mapping[str, ActionDef] = _frozen({})
        else_children: Mapping[str, ActionDef] = _frozen({})
        default_children: Mapping[str, ActionDef] = _frozen({})
        cases: dict[str, CaseDef] = {}
        if canonical in ("Scope", "Foreach", "Until", "If"):
            children = _build_actions(raw.get("actions"), f"{here}/actions", name, "actions", index)
        if canonical == "If":
            raw_else = raw.get("else")
            if isinstance(raw_else, dict):
                else_children = _build_actions(
                    raw_else.get("actions"), f"{here}/else/actions", name, "else", index
                )
        if canonical == "Switch":
            raw_cases = raw.get("cases")
            if isinstance(raw_cases, dict):
                for case_name, case in raw_cases.items():
                    if isinstance(case, dict):
                        case_pointer = f"{here}/cases/{_escape(case_name)}/actions"
                        cases[case_name] = CaseDef(
                            name=case_name,
                            value=case.get("case"),
                            actions=_build_actions(case.get("actions"), case_pointer, name, case_name, index),
                        )
            raw_default = raw.get("default")
            if isinstance(raw_default, dict):
                default_children = _build_actions(
                    raw_default.get("actions"), f"{here}/default/actions", name, "default", index
                )
        action = ActionDef(
            name=name,
            type=canonical,
            pointer=here,
            parent=parent,
            branch=branch,
            raw=raw,
            run_after=MappingProxyType(run_after),
            children=children,
            else_children=else_children,
            default_children=default_children,
            cases=MappingProxyType(cases),
        )
        built[name] = action
        index[name] = action
    return _frozen(built)


def build_definition(raw: JSONObject) -> WorkflowDefinition:
    """Build the model from a definition object that has passed validation."""
    index: dict[str, ActionDef] = {}
    actions = _build_actions(raw.get("actions"), "/actions", None, "actions", index)
    triggers: dict[str, TriggerDef] = {}
    raw_triggers = raw.get("triggers")
    if isinstance(raw_triggers, dict):
        for name, trigger in raw_triggers.items():
            if isinstance(trigger, dict):
                type_name = str(trigger.get("type", ""))
                triggers[name] = TriggerDef(
                    name=name,
                    type=KNOWN_TRIGGER_TYPES.get(type_name.lower(), type_name),
                    pointer=f"/triggers/{_escape(name)}",
                    raw=trigger,
                )
    parameters: dict[str, ParameterDef] = {}
    raw_parameters = raw.get("parameters")
    if isinstance(raw_parameters, dict):
        for name, param in raw_parameters.items():
            if isinstance(param, dict):
                parameters[name] = ParameterDef(
                    name=name,
                    type=str(param.get("type", "")).lower(),
                    has_default="defaultValue" in param,
                    default=param.get("defaultValue"),
                    raw=param,
                )
    outputs = raw.get("outputs")
    return WorkflowDefinition(
        raw=raw,
        triggers=MappingProxyType(triggers),
        parameters=MappingProxyType(parameters),
        actions=actions,
        all_actions=MappingProxyType(index),
        outputs=outputs if isinstance(outputs, dict) else {},
    )
