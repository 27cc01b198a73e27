"""Deployment templates and per-location parameter files: reading them, checking every value, and
resolving what one location gets (docs/templates.md).

A template declares the locations, the template parameters (ARM-like `{type, defaultValue}`), the
connections (shared by every location, or one per location) and the workflows with their mode
(active-active or active-passive), split schedule and workflow parameter values. Strings of the
whole-string form `[parameters('x')]` are replaced by the value of template parameter `x`, taken
from the location's parameter file or the parameter's defaultValue; `[[` escapes a literal `[`.
No other ARM expression is evaluated: one is refused, naming its pointer.

`plan_location` collects every problem of the template, the parameter file and the workflows before
it answers, each as (file, JSON pointer, message); a value of a secure parameter is never shown.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pairflow.continuity import roles
from pairflow.definition.loader import describe_json_type, escape_pointer, locate_workflow, parse_json_text
from pairflow.definition.model import WorkflowDefinition, build_definition
from pairflow.definition.parameters import ParameterIssuesError, resolve_parameters
from pairflow.definition.validate import validate_definition
from pairflow.errors import DefinitionError, InputError
from pairflow.jsontypes import JSON, JSONObject

PARAMETER_TYPES = ("string", "securestring", "int", "bool", "object", "secureobject", "array")
SECURE_TYPES = frozenset({"securestring", "secureobject"})
CONNECTIONS_PARAMETER = "$connections"
HIDDEN = "(value hidden)"
_REFERENCE = re.compile(r"^\[\s*parameters\(\s*'([^']*)'\s*\)\s*\]$")


@dataclass(frozen=True, slots=True)
class Issue:
    source: str  # the file, e.g. "template.json" or "parameters.west.json"
    pointer: str
    message: str

    def line(self) -> str:
        return f"{self.source}: {self.pointer or '/'}: {self.message}"


class TemplateError(InputError):
    """The template or parameter file is not valid; `issues` holds every problem found."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        return [issue.line() for issue in self.issues]


def is_template(document: JSON) -> bool:
    """A deployment template, as opposed to a workflow file: it has "workflows" and "locations"."""
    return isinstance(document, dict) and "workflows" in document and "locations" in document


# -- what a location gets ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class WorkflowDeployment:
    """One workflow as deployed to one location: the body of its PUT /api/workflows/{name}."""

    name: str
    definition: JSONObject
    parameters: JSONObject
    deployment: roles.Deployment
    # The key that signs the workflow's callback URLs, when the template gives one: the same key in
    # every location lets a front door send one signed URL to whichever location is active.
    access_key: str | None = None

    def body(self) -> JSONObject:
        record = self.deployment.to_json()
        return {"definition": self.definition, "parameters": self.parameters, **record}


@dataclass(frozen=True, slots=True)
class LocationPlan:
    location: str
    role: str
    url: str | None
    workflows: tuple[WorkflowDeployment, ...]
    secrets: frozenset[str] = field(default_factory=frozenset)  # texts never to print

    def scrub(self, text: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, HIDDEN)
        return text


# -- reading -----------------------------------------------------------------------------------------
def read_document(path: Path) -> JSON:
    """A JSON (or, by extension, YAML) file; DefinitionError naming the file when unreadable."""
    source = path.name
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise DefinitionError([("", "no such file")], source) from None
    except IsADirectoryError:
        raise DefinitionError([("", "is a directory")], source) from None
    except OSError as error:
        raise DefinitionError([("", f"cannot read: {error.strerror or error}")], source) from None
    except UnicodeDecodeError:
        raise DefinitionError([("", "not UTF-8 text")], source) from None
    if path.suffix.lower() in (".yaml", ".yml"):
        return _parse_yaml(text, source)
    return parse_json_text(text, source)


def _parse_yaml(text: str, source: str) -> JSON:
    try:
        yaml: Any = importlib.import_module("yaml")
    except ImportError:
        raise DefinitionError([("", "YAML needs the PyYAML package; use JSON")], source) from None
    try:
        document: JSON = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise DefinitionError([("", f"invalid YAML: {error}".splitlines()[0])], source) from None
    # Round-trip through JSON so that dates and other YAML-only values are refused, not smuggled in.
    try:
        return json.loads(json.dumps(document))
    except (TypeError, ValueError):
        raise DefinitionError([("", "YAML values must be JSON values (quote dates)")], source) from None


def plan_from_files(template_path: Path, parameters_path: Path | None, location: str) -> LocationPlan:
    """Read the template, its workflow files and the parameter file; plan one location."""
    issues: list[Issue] = []
    template = _read(template_path, issues)
    parameters: JSON = {"parameters": {}}
    parameters_source = "(no parameter file)"
    if parameters_path is not None:
        parameters_source = parameters_path.name
        parameters = _read(parameters_path, issues)
    if issues:
        raise TemplateError(issues)
    base = template_path.parent

    def read_file(name: str) -> JSON:
        return read_document(base / name)

    return plan_location(
        template, template_path.name, parameters, parameters_source, location, read_file=read_file
    )


def _read(path: Path, issues: list[Issue]) -> JSON:
    try:
        return read_document(path)
    except DefinitionError as error:
        issues.extend(Issue(error.source, pointer, message) for pointer, message in error.issues)
        return None


# -- planning (pure but for `read_file`) -------------------------------------------------------------
@dataclass
class _Values:
    """Template parameter values for one location, and which texts are secret."""

    values: dict[str, JSON] = field(default_factory=dict)
    declared: set[str] = field(default_factory=set)
    secure: set[str] = field(default_factory=set)
    secrets: set[str] = field(default_factory=set)


def plan_location(
    template: JSON,
    template_source: str,
    parameter_file: JSON,
    parameters_source: str,
    location: str,
    *,
    read_file: Callable[[str], JSON],
) -> LocationPlan:
    """What `location` gets from the template with this parameter file; TemplateError listing every
    problem of both files (and of the workflow files) otherwise."""
    issues: list[Issue] = []

    def problem(pointer: str, message: str, source: str = template_source) -> None:
        issues.append(Issue(source, pointer, message))

    if not isinstance(template, dict):
        problem("", f"expected a template object, got {describe_json_type(template)}")
        raise TemplateError(issues)
    for key in ("locations", "workflows"):
        if key not in template:
            problem(f"/{key}", f"missing: a template declares its {key}")
    values = _parameter_values(template, parameter_file, parameters_source, problem)

    def resolve(value: JSON, pointer: str) -> JSON:
        return _substitute(value, pointer, values, problem)

    def blocked(value: JSON) -> bool:
        """Whether `value` refers to a declared parameter that has no usable value (reported already)."""
        return any(name not in values.values for name in _references(value))

    role, url, index, count = _location(template, location, resolve, problem)
    connections = _connections(template, resolve, blocked, problem)
    secrets = frozenset(values.secrets)
    workflows = _workflows(
        template,
        template_source,
        count,
        index,
        role,
        connections,
        resolve,
        blocked,
        secrets,
        read_file,
        issues,
    )
    if issues:
        secrets = frozenset(values.secrets)
        raise TemplateError([Issue(i.source, i.pointer, _scrub(i.message, secrets)) for i in issues])
    return LocationPlan(location, role, url, tuple(workflows), frozenset(values.secrets))


def _scrub(text: str, secrets: frozenset[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, HIDDEN)
    return text


Problem = Callable[..., None]


def _parameter_values(template: JSONObject, parameter_file: JSON, source: str, problem: Problem) -> _Values:
    found = _Values()
    declared = template.get("parameters", {})
    if not isinstance(declared, dict):
        problem("/parameters", "expected an object of parameter declarations")
        declared = {}
    supplied, pointers = _supplied(parameter_file, source, problem)
    types: dict[str, str] = {}
    for name, declaration in declared.items():
        pointer = f"/parameters/{escape_pointer(name)}"
        if not isinstance(declaration, dict):
            problem(pointer, "expected an object with 'type'")
            continue
        kind = declaration.get("type")
        if not isinstance(kind, str) or kind.lower() not in PARAMETER_TYPES:
            problem(f"{pointer}/type", f"expected one of {', '.join(PARAMETER_TYPES)}, got {kind!r}")
            continue
        types[name] = kind.lower()
        found.declared.add(name)
        if kind.lower() in SECURE_TYPES:
            found.secure.add(name)
        if "defaultValue" in declaration and not _fits(declaration["defaultValue"], kind.lower()):
            problem(
                f"{pointer}/defaultValue",
                f"expected {_expected(kind.lower())}, got "
                f"{_shown(declaration['defaultValue'], kind.lower() in SECURE_TYPES)}",
            )
    for name, value in supplied.items():
        kind_or_none = types.get(name)
        if name not in declared:
            known = ", ".join(f"'{n}'" for n in declared) or "none"
            problem(
                pointers[name], f"'{name}' is not a parameter of the template (it declares: {known})", source
            )
            continue
        if kind_or_none is None:
            continue
        secure = kind_or_none in SECURE_TYPES
        if secure:
            found.secrets |= _texts(value)
        if not _fits(value, kind_or_none):
            problem(
                pointers[name], f"expected {_expected(kind_or_none)}, got {_shown(value, secure)}", source
            )
            continue
        found.values[name] = value
    for name, kind in types.items():
        declaration = declared[name]
        if name in supplied:
            continue
        if isinstance(declaration, dict) and "defaultValue" in declaration:
            found.values[name] = declaration["defaultValue"]
            if kind in SECURE_TYPES:
                found.secrets |= _texts(declaration["defaultValue"])
        else:
            where = f"/parameters/{escape_pointer(name)}/value"
            problem(
                where, f"missing value for template parameter '{name}' ({kind} with no defaultValue)", source
            )
    return found


def _supplied(document: JSON, source: str, problem: Problem) -> tuple[dict[str, JSON], dict[str, str]]:
    """Values of an ARM parameter file `{"parameters": {"x": {"value": …}}}`, with their pointers."""
    if not isinstance(document, dict):
        problem("", f"expected a parameter file object, got {describe_json_type(document)}", source)
        return {}, {}
    entries = document.get("parameters")
    if not isinstance(entries, dict):
        problem(
            "/parameters", 'missing: an ARM parameter file holds {"parameters": {name: {"value": …}}}', source
        )
        return {}, {}
    values: dict[str, JSON] = {}
    pointers: dict[str, str] = {}
    for name, entry in entries.items():
        pointer = f"/parameters/{escape_pointer(name)}"
        if isinstance(entry, dict) and "value" in entry:
            values[name] = entry["value"]
            pointers[name] = f"{pointer}/value"
        elif isinstance(entry, dict) and "reference" in entry:
            problem(f"{pointer}/reference", "Key Vault references are not supported; give a 'value'", source)
        else:
            problem(pointer, "expected an object with 'value'", source)
    return values, pointers


def _fits(value: JSON, kind: str) -> bool:
    if kind in ("string", "securestring"):
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind in ("object", "secureobject"):
        return isinstance(value, dict)
    return isinstance(value, list)


def _expected(kind: str) -> str:
    return {
        "string": "a string",
        "securestring": "a string",
        "int": "an integer",
        "bool": "a boolean",
        "object": "an object",
        "secureobject": "an object",
        "array": "an array",
    }[kind]


def _shown(value: JSON, secure: bool) -> str:
    if secure:
        return f"{describe_json_type(value)} {HIDDEN}"
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _texts(value: JSON) -> set[str]:
    """Every string inside a secure value (and its JSON form), to be kept out of messages."""
    if isinstance(value, str):
        return {value} if value else set()
    if isinstance(value, dict):
        return set().union(*(_texts(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_texts(v) for v in value)) if value else set()
    return set()


def _substitute(value: JSON, pointer: str, values: _Values, problem: Problem) -> JSON:
    """`value` with every whole-string `[parameters('x')]` replaced; other ARM expressions refused."""
    if isinstance(value, dict):
        return {
            k: _substitute(v, f"{pointer}/{escape_pointer(k)}", values, problem) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_substitute(v, f"{pointer}/{i}", values, problem) for i, v in enumerate(value)]
    if not isinstance(value, str) or not value.startswith("["):
        return value
    if value.startswith("[["):
        return value[1:]
    matched = _REFERENCE.match(value)
    if matched is None:
        if value.endswith("]"):
            problem(pointer, f"only the whole-string form [parameters('name')] is supported, not {value!r}")
        return value
    name = matched.group(1)
    if name in values.values:
        return values.values[name]
    if name not in values.declared:
        problem(pointer, f"[parameters('{name}')]: '{name}' is not a parameter of the template")
    return None  # a declared parameter without a usable value is reported where its value belongs


def _location(
    template: JSONObject, location: str, resolve: Callable[[JSON, str], JSON], problem: Problem
) -> tuple[str, str | None, int, int]:
    """(role, url, split index, number of locations) of the chosen location."""
    locations = template.get("locations")
    if not isinstance(locations, dict) or not locations:
        if "locations" in template:
            problem("/locations", 'expected an object of locations, e.g. {"west": {"role": "primary"}}')
        return "primary", None, 0, 1
    roles_by_name: dict[str, str] = {}
    for name, entry in locations.items():
        pointer = f"/locations/{escape_pointer(name)}"
        if not isinstance(entry, dict):
            problem(pointer, "expected an object with 'role' and 'url'")
            continue
        role = entry.get("role")
        if role not in roles.LOCATION_ROLES:
            problem(f"{pointer}/role", f"expected 'primary' or 'secondary', got {role!r}")
            continue
        roles_by_name[name] = str(role)
    primaries = [name for name, role in roles_by_name.items() if role == "primary"]
    if len(roles_by_name) == len(locations) and len(primaries) != 1:
        problem("/locations", f"expected exactly one primary location, found {len(primaries)}")
    if location not in locations:
        known = ", ".join(f"'{n}'" for n in locations)
        problem("/locations", f"unknown location '{location}' (the template declares: {known})")
        return "primary", None, 0, len(locations)
    entry = locations[location]
    pointer = f"/locations/{escape_pointer(location)}"
    url: str | None = None
    if isinstance(entry, dict) and "url" in entry:
        resolved = resolve(entry["url"], f"{pointer}/url")
        if isinstance(resolved, str) and resolved.startswith(("http://", "https://")):
            url = resolved
        elif resolved is not None:
            problem(f"{pointer}/url", f"expected an http:// or https:// URL, got {_shown(resolved, False)}")
    ordered = sorted(roles_by_name, key=lambda n: (roles_by_name[n] != "primary", list(locations).index(n)))
    index = ordered.index(location) if location in ordered else 0
    return roles_by_name.get(location, "primary"), url, index, len(locations)


@dataclass(frozen=True, slots=True)
class _Connection:
    shared: bool
    value: JSON
    secure: bool
    blocked: bool  # it refers to a parameter without a usable value


def _connections(
    template: JSONObject,
    resolve: Callable[[JSON, str], JSON],
    blocked: Callable[[JSON], bool],
    problem: Problem,
) -> dict[str, _Connection]:
    declared = template.get("connections", {})
    if not isinstance(declared, dict):
        problem("/connections", "expected an object of connections")
        return {}
    secure_names = _secure_parameter_names(template)
    found: dict[str, _Connection] = {}
    for name, entry in declared.items():
        pointer = f"/connections/{escape_pointer(name)}"
        if not isinstance(entry, dict):
            problem(pointer, "expected an object with 'shared' and 'value'")
            continue
        shared = entry.get("shared")
        if not isinstance(shared, bool):
            problem(
                f"{pointer}/shared",
                f"expected true (one connection for every location) or false "
                f"(one per location), got {shared!r}",
            )
            continue
        if "value" not in entry:
            problem(f"{pointer}/value", "missing: the connection's value (e.g. its connection string)")
            continue
        raw = entry["value"]
        references = _references(raw)
        if not shared and not references:
            problem(
                f"{pointer}/value",
                "a per-location connection (shared: false) must take its value from "
                "the parameter file ([parameters('…')]); a literal would be the same in every location",
            )
            continue
        found[name] = _Connection(
            shared, resolve(raw, f"{pointer}/value"), bool(references & secure_names), blocked(raw)
        )
    return found


def _secure_parameter_names(template: JSONObject) -> set[str]:
    declared = template.get("parameters")
    if not isinstance(declared, dict):
        return set()
    return {
        name
        for name, entry in declared.items()
        if isinstance(entry, dict)
        and isinstance(entry.get("type"), str)
        and entry["type"].lower() in SECURE_TYPES
    }


def _references(value: JSON) -> set[str]:
    if isinstance(value, str):
        matched = _REFERENCE.match(value)
        return {matched.group(1)} if matched else set()
    if isinstance(value, dict):
        return set().union(*(_references(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_references(v) for v in value)) if value else set()
    return set()


def _workflows(
    template: JSONObject,
    template_source: str,
    count: int,
    index: int,
    role: str,
    connections: Mapping[str, _Connection],
    resolve: Callable[[JSON, str], JSON],
    blocked: Callable[[JSON], bool],
    secrets: frozenset[str],
    read_file: Callable[[str], JSON],
    issues: list[Issue],
) -> list[WorkflowDeployment]:
    def problem(pointer: str, message: str, source: str = template_source) -> None:
        issues.append(Issue(source, pointer, message))

    declared = template.get("workflows")
    if not isinstance(declared, dict) or not declared:
        if "workflows" in template:
            problem("/workflows", "expected an object of workflows by name")
        return []
    planned: list[WorkflowDeployment] = []
    for name, entry in declared.items():
        pointer = f"/workflows/{escape_pointer(name)}"
        if not isinstance(entry, dict):
            problem(pointer, "expected an object with 'definition' or 'file'")
            continue
        definition = _definition(name, entry, pointer, template_source, read_file, issues)
        if definition is None:
            continue
        found = _one_workflow(
            name,
            entry,
            pointer,
            definition,
            count,
            index,
            role,
            connections,
            resolve,
            blocked,
            secrets,
            problem,
        )
        if found is not None:
            planned.append(found)
    return planned


def _definition(
    name: str,
    entry: JSONObject,
    pointer: str,
    template_source: str,
    read_file: Callable[[str], JSON],
    issues: list[Issue],
) -> JSONObject | None:
    has_inline, has_file = "definition" in entry, "file" in entry
    if has_inline == has_file:
        issues.append(Issue(template_source, pointer, "expected exactly one of 'definition' or 'file'"))
        return None
    if has_file:
        file = entry["file"]
        if not isinstance(file, str) or not file:
            issues.append(Issue(template_source, f"{pointer}/file", "expected a file name"))
            return None
        try:
            document = read_file(file)
            loaded = locate_workflow(document, source=file, default_name=name)
        except DefinitionError as error:
            issues.extend(Issue(error.source or file, p, m) for p, m in error.issues)
            return None
        source, prefix, definition = file, loaded.pointer, loaded.definition
    else:
        raw = entry["definition"]
        if not isinstance(raw, dict):
            issues.append(Issue(template_source, f"{pointer}/definition", "expected a definition object"))
            return None
        source, prefix, definition = template_source, f"{pointer}/definition", raw
    found = validate_definition(definition)
    if found:
        issues.extend(Issue(source, f"{prefix}{p}", m) for p, m in found)
        return None
    return definition


def _one_workflow(
    name: str,
    entry: JSONObject,
    pointer: str,
    definition: JSONObject,
    count: int,
    index: int,
    role: str,
    connections: Mapping[str, _Connection],
    resolve: Callable[[JSON, str], JSON],
    blocked: Callable[[JSON], bool],
    secrets: frozenset[str],
    problem: Problem,
) -> WorkflowDeployment | None:
    before = _Counter(problem)
    state = entry.get("triggerState")
    if state is not None and state not in roles.TRIGGER_STATES:
        before(f"{pointer}/triggerState", f"expected 'client' or 'server', got {state!r}")
        state = None
    trigger = roles.first_trigger(definition)
    polling = trigger is not None and trigger[1].lower() in ("http", "apiconnection")
    if state is not None and not polling:
        before(f"{pointer}/triggerState", "applies to polling triggers (Http, ApiConnection) only")
    mode = entry.get("mode", roles.default_mode(definition, state))
    if not isinstance(mode, str) or mode not in roles.MODES:
        before(f"{pointer}/mode", f"expected 'active-active' or 'active-passive', got {mode!r}")
        return None
    why = roles.mode_issue(name, definition, mode, state)
    if why is not None:
        before(f"{pointer}/mode", why)
    split = entry.get("split", False)
    split_record: roles.Split | None = None
    if not isinstance(split, bool):
        before(f"{pointer}/split", f"expected true or false, got {split!r}")
    elif split:
        why = roles.split_issue(name, definition, mode, count)
        if why is not None:
            before(f"{pointer}/split", why)
        split_record = roles.Split(count, index)
    used = entry.get("connections", [])
    if not isinstance(used, list) or not all(isinstance(u, str) for u in used):
        before(f"{pointer}/connections", "expected an array of connection names")
        used = []
    record: JSONObject = {}
    values: JSONObject = {}
    for position, connection in enumerate(used):
        assert isinstance(connection, str)
        found = connections.get(connection)
        if found is None:
            before(
                f"{pointer}/connections/{position}",
                f"unknown connection '{connection}' (declared: {', '.join(connections) or 'none'})",
            )
            continue
        if found.blocked:
            before.count += 1  # reported where the parameter's value belongs
        values[connection] = found.value
        record[connection] = {
            "shared": found.shared,
            "secure": found.secure,
            **({} if found.secure else {"value": found.value}),
        }
    raw_parameters = entry.get("parameters", {})
    if not isinstance(raw_parameters, dict):
        before(f"{pointer}/parameters", "expected an object of workflow parameter values")
        raw_parameters = {}
    resolved = resolve(raw_parameters, f"{pointer}/parameters")
    parameters = dict(resolved) if isinstance(resolved, dict) else {}
    model = build_definition(definition)
    if CONNECTIONS_PARAMETER in model.parameters and values and CONNECTIONS_PARAMETER not in parameters:
        parameters[CONNECTIONS_PARAMETER] = values
    if before.count or blocked(raw_parameters):
        return None
    try:
        checked = resolve_parameters(model, parameters)
    except ParameterIssuesError:
        for where, message in _masked_issues(model, parameters, secrets):
            problem(f"{pointer}/parameters{where}", message)
        return None
    access_key = resolve(entry.get("accessKey"), f"{pointer}/accessKey")
    if access_key is not None and not _valid_access_key(access_key):
        problem(
            f"{pointer}/accessKey",
            "expected 32 to 512 printable ASCII characters without spaces (best a securestring parameter)",
        )
        return None
    deployment = roles.Deployment(
        mode=mode,
        split=split_record,
        connections=record,
        trigger_state=state if isinstance(state, str) else None,
        location_role=role,
    )
    return WorkflowDeployment(name, definition, checked, deployment, access_key)


def _valid_access_key(value: JSON) -> bool:
    return isinstance(value, str) and 32 <= len(value) <= 512 and all(33 <= ord(c) <= 126 for c in value)


def _masked_issues(
    model: WorkflowDefinition, parameters: JSONObject, secrets: frozenset[str]
) -> list[tuple[str, str]]:
    """The parameter issues, found again with every secret text replaced by a placeholder of the same
    type, so that no message can show a secret, not even cut short."""

    def mask(value: JSON) -> JSON:
        if isinstance(value, str):
            return HIDDEN if any(secret in value for secret in secrets) else value
        if isinstance(value, dict):
            return {k: mask(v) for k, v in value.items()}
        if isinstance(value, list):
            return [mask(v) for v in value]
        return value

    try:
        resolve_parameters(model, {name: mask(value) for name, value in parameters.items()})
    except ParameterIssuesError as error:
        return list(error.issues)
    return [("", f"a value is not among the allowedValues {HIDDEN}")]


class _Counter:
    """Report problems and count them, to know whether this workflow had any."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.count = 0

    def __call__(self, pointer: str, message: str) -> None:
        self.count += 1
        self.problem(pointer, message)


__all__ = [
    "Issue",
    "LocationPlan",
    "TemplateError",
    "WorkflowDeployment",
    "is_template",
    "plan_from_files",
    "plan_location",
    "read_document",
]
