"""Finding the workflow definition inside whatever file holds it.

A definition arrives in one of four shapes: a bare `definition` object, a Logic Apps Standard
`workflow.json` (`{"definition": …, "kind": …}`), an exported `Microsoft.Logic/workflows` resource
(`{id, type, name, properties: {definition, parameters}}`) or an ARM template whose `resources` hold
one or more such workflows. `load_workflow` reads the file (its only I/O) and `locate_workflow` is the
pure part that picks the definition out of the parsed document.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from pairflow.errors import DefinitionError
from pairflow.jsontypes import JSON, JSONObject

WORKFLOW_RESOURCE_TYPE = "microsoft.logic/workflows"
MAX_NESTING = 200  # levels of JSON objects/arrays accepted; far beyond any real workflow

_SIMPLE_ARM_REFERENCE = re.compile(r"^\[\s*(parameters|variables)\(\s*'([^']*)'\s*\)\s*\]$", re.IGNORECASE)
_DEFINITION_KEYS = ("triggers", "actions", "$schema")


@dataclass(frozen=True, slots=True)
class LoadedWorkflow:
    """A definition as found in its file, with where it sat and what came with it."""

    name: str
    definition: JSONObject  # the raw `definition` object
    kind: str | None  # "Stateful" / "Stateless" from a workflow.json, else None
    source: str  # what to call the input in messages, e.g. the file path
    parameters: dict[str, JSON] = field(default_factory=dict)  # parameter values embedded in the file
    pointer: str = ""  # JSON pointer of the definition inside the file, e.g. "/properties/definition"


def load_workflow(source: str | Path | JSONObject, name: str | None = None) -> LoadedWorkflow:
    """Load a workflow from a file path or an already-parsed document.

    `name` picks one workflow out of an ARM template holding several; for other shapes it overrides
    the default name (the file stem, or the resource's name).
    """
    if isinstance(source, dict):
        return locate_workflow(source, source="<definition>", default_name="workflow", name=name)
    path = Path(source)
    document = parse_json_text(_read_text(path), str(path))
    return locate_workflow(document, source=str(path), default_name=path.stem, name=name)


def _read_text(path: Path) -> str:
    source = str(path)
    if path.is_dir():
        raise DefinitionError([("", "is a directory, not a workflow file")], source)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DefinitionError([("", "no such file")], source) from None
    except OSError as error:
        raise DefinitionError([("", f"cannot read: {error.strerror or error}")], source) from None
    try:
        # utf-8-sig: files saved by Visual Studio carry a byte order mark (three corpus files do).
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DefinitionError(
            [("", f"not UTF-8 text (invalid byte at offset {error.start})")], source
        ) from None


def parse_json_text(text: str, source: str) -> JSON:
    """Parse JSON, turning every failure into a one-line DefinitionError with line and column."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        message = f"invalid JSON at line {error.lineno} column {error.colno}: {error.msg}"
        raise DefinitionError([("", message)], source) from None
    except RecursionError:
        raise DefinitionError([("", f"JSON nested deeper than {MAX_NESTING} levels")], source) from None
    deep = _too_deep(document)
    if deep is not None:
        raise DefinitionError([(deep, f"JSON nested deeper than {MAX_NESTING} levels")], source)
    return document


def _too_deep(document: JSON) -> str | None:
    """The pointer of the first value nested beyond MAX_NESTING, walked without recursion."""
    stack: list[tuple[JSON, str, int]] = [(document, "", 0)]
    while stack:
        value, pointer, depth = stack.pop()
        if depth > MAX_NESTING:
            return pointer
        if isinstance(value, dict):
            stack.extend(
                (child, f"{pointer}/{escape_pointer(key)}", depth + 1) for key, child in value.items()
            )
        elif isinstance(value, list):
            stack.extend((child, f"{pointer}/{index}", depth + 1) for index, child in enumerate(value))
    return None


def escape_pointer(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def locate_workflow(
    document: JSON, source: str, default_name: str, name: str | None = None
) -> LoadedWorkflow:
    """Pick the definition out of a parsed document of any of the four shapes."""
    if not isinstance(document, dict):
        raise DefinitionError([("", f"expected a JSON object, got {describe_json_type(document)}")], source)
    if isinstance(document.get("resources"), list):
        return _from_arm_template(document, source, default_name, name)
    definition = document.get("definition")
    if isinstance(definition, dict):
        kind = document.get("kind")
        return LoadedWorkflow(
            name=name or default_name,
            definition=definition,
            kind=kind if isinstance(kind, str) else None,
            source=source,
            parameters=_embedded_values(document.get("parameters")),
            pointer="/definition",
        )
    properties = document.get("properties")
    if isinstance(properties, dict) and isinstance(properties.get("definition"), dict):
        resource_name = document.get("name")
        return LoadedWorkflow(
            name=name
            or (resource_name if isinstance(resource_name, str) and resource_name else default_name),
            definition=properties["definition"],
            kind=None,
            source=source,
            parameters=_embedded_values(properties.get("parameters")),
            pointer="/properties/definition",
        )
    if any(key in document for key in _DEFINITION_KEYS):
        return LoadedWorkflow(name=name or default_name, definition=document, kind=None, source=source)
    raise DefinitionError(
        [
            (
                "",
                "no workflow definition found: expected a definition (with 'triggers' or 'actions'), "
                "a workflow.json ('definition'), a Microsoft.Logic/workflows resource "
                "('properties.definition') or an ARM template ('resources')",
            )
        ],
        source,
    )


def _embedded_values(parameters: JSON) -> dict[str, JSON]:
    """Values of `{"name": {"value": …}}` parameters shipped beside the definition."""
    if not isinstance(parameters, dict):
        return {}
    return {
        key: entry["value"]
        for key, entry in parameters.items()
        if isinstance(entry, dict) and "value" in entry
    }


@dataclass(frozen=True, slots=True)
class _Candidate:
    index: int
    raw_name: str
    resolved: str | None  # None when the name is an ARM expression we cannot resolve
    resource: JSONObject

    @property
    def shown(self) -> str:
        """The name to choose this workflow by: its resolved name, else its parameter's name."""
        if self.resolved is not None:
            return self.resolved
        match = _SIMPLE_ARM_REFERENCE.match(self.raw_name)
        return match.group(2) if match is not None else self.raw_name

    def answers_to(self, wanted: str) -> bool:
        if wanted in (self.resolved, self.raw_name):
            return True
        match = _SIMPLE_ARM_REFERENCE.match(self.raw_name)
        # An unresolved `[parameters('x')]` may be picked by its parameter name `x`.
        return self.resolved is None and match is not None and match.group(2) == wanted


def _from_arm_template(
    template: JSONObject, source: str, default_name: str, name: str | None
) -> LoadedWorkflow:
    candidates: list[_Candidate] = []
    for index, resource in enumerate(template["resources"]):
        if not isinstance(resource, dict):
            continue
        if str(resource.get("type", "")).lower() != WORKFLOW_RESOURCE_TYPE:
            continue
        raw_name = str(resource.get("name", ""))
        candidates.append(_Candidate(index, raw_name, resolve_arm_name(raw_name, template), resource))
    if not candidates:
        raise DefinitionError(
            [("/resources", "the ARM template holds no Microsoft.Logic/workflows resource")], source
        )
    listed = ", ".join(f"'{c.shown}'" for c in candidates)
    if name is None:
        if len(candidates) > 1:
            raise DefinitionError(
                [
                    (
                        "/resources",
                        f"the ARM template holds {len(candidates)} workflows ({listed}); choose one by name",
                    )
                ],
                source,
            )
        chosen = candidates[0]
    else:
        matching = [c for c in candidates if c.answers_to(name)]
        if not matching:
            raise DefinitionError(
                [("/resources", f"no workflow named '{name}' in the ARM template ({listed})")], source
            )
        if len(matching) > 1:
            raise DefinitionError(
                [("/resources", f"{len(matching)} workflows answer to '{name}' ({listed})")], source
            )
        chosen = matching[0]
    pointer = f"/resources/{chosen.index}/properties/definition"
    properties = chosen.resource.get("properties")
    if not isinstance(properties, dict) or not isinstance(properties.get("definition"), dict):
        raise DefinitionError([(pointer, "expected the workflow's definition object here")], source)
    if chosen.resolved is not None:
        workflow_name = chosen.resolved
    else:
        # An expression we cannot evaluate names it: use the name asked for, else the file's stem.
        workflow_name = name if name is not None else default_name
    return LoadedWorkflow(
        name=workflow_name,
        definition=properties["definition"],
        kind=None,
        source=source,
        parameters=_embedded_values(properties.get("parameters")),
        pointer=pointer,
    )


def resolve_arm_name(raw: str, template: JSONObject) -> str | None:
    """The value of a literal name or of `[parameters('x')]`/`[variables('x')]` with a literal default.

    Returns None for anything else (other ARM functions, parameters without a default).
    """
    if not raw.startswith("["):
        return raw
    if raw.startswith("[["):  # ARM's escape for a literal leading bracket
        return raw[1:]
    match = _SIMPLE_ARM_REFERENCE.match(raw)
    if match is None:
        return None
    section, key = match.group(1).lower(), match.group(2)
    if section == "parameters":
        declared = template.get("parameters")
        entry = declared.get(key) if isinstance(declared, dict) else None
        value = entry.get("defaultValue") if isinstance(entry, dict) else None
    else:
        declared = template.get("variables")
        value = declared.get(key) if isinstance(declared, dict) else None
    if isinstance(value, str) and value and not value.startswith("["):
        return value
    return None


def describe_json_type(value: JSON) -> str:
    """'an object', 'a string', … as used in messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
