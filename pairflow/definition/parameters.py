"""Parameter values for a run: reading a parameter file and checking values against the declarations.

A parameter file is either the ARM shape (`{"$schema", "contentVersion", "parameters": {"x": {"value": …}}}`)
or a plain `{"x": value}` object. Every problem is reported at once, each naming the file and the JSON
pointer of the offending value, e.g.
`parameters.west.json: /parameters/apiUrl/value: expected a string, got 3`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from pairflow.definition.loader import describe_json_type, escape_pointer, parse_json_text
from pairflow.definition.model import WorkflowDefinition
from pairflow.definition.types import expected_for, matches_parameter_type
from pairflow.errors import DefinitionError, ParameterError
from pairflow.jsontypes import JSON

Issues = list[tuple[str, str]]


class ParameterIssuesError(ParameterError):
    """Parameter values are missing or of the wrong type; `issues` holds every one as (pointer, message)."""

    def __init__(self, issues: Issues, source: str = "") -> None:
        self.issues = issues
        self.source = source
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        prefix = f"{self.source}: " if self.source else ""
        return [f"{prefix}{pointer or '/'}: {message}" for pointer, message in self.issues]


class SuppliedParameters(dict[str, JSON]):
    """Values by parameter name, remembering the JSON pointer each value had in its file."""

    def __init__(
        self, values: Mapping[str, JSON], pointers: Mapping[str, str], source: str, *, arm_shape: bool = False
    ) -> None:
        super().__init__(values)
        self.pointers = dict(pointers)
        self.source = source
        self.arm_shape = arm_shape

    def pointer_of(self, name: str) -> str:
        """Where the value of `name` is, or would go, in the file."""
        if name in self.pointers:
            return self.pointers[name]
        return f"/parameters/{escape_pointer(name)}/value" if self.arm_shape else f"/{escape_pointer(name)}"


def _is_arm_parameter_file(document: dict[str, JSON]) -> bool:
    return isinstance(document.get("parameters"), dict) and (
        "$schema" in document or "contentVersion" in document or set(document) == {"parameters"}
    )


def parameters_from_document(document: JSON, source: str) -> SuppliedParameters:
    """The values in a parsed parameter file of either shape (pure)."""
    if not isinstance(document, dict):
        raise ParameterIssuesError(
            [("", f"expected a JSON object, got {describe_json_type(document)}")], source
        )
    if not _is_arm_parameter_file(document):
        plain = {name: f"/{escape_pointer(name)}" for name in document}
        return SuppliedParameters(document, plain, source)
    values: dict[str, JSON] = {}
    pointers: dict[str, str] = {}
    issues: Issues = []
    for name, entry in document["parameters"].items():
        pointer = f"/parameters/{escape_pointer(name)}"
        if isinstance(entry, dict) and "value" in entry:
            values[name] = entry["value"]
            pointers[name] = f"{pointer}/value"
        elif isinstance(entry, dict) and "reference" in entry:
            issues.append(
                (
                    f"{pointer}/reference",
                    "Key Vault references are not supported by pairflow yet; give a 'value'",
                )
            )
        else:
            issues.append((pointer, "expected an object with 'value'"))
    if issues:
        raise ParameterIssuesError(issues, source)
    return SuppliedParameters(values, pointers, source, arm_shape=True)


def load_parameter_file(path: str | Path) -> SuppliedParameters:
    """Read a parameter file of either shape; a dict of values by name."""
    path = Path(path)
    source = path.name
    if path.is_dir():
        raise ParameterIssuesError([("", "is a directory, not a parameter file")], source)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise ParameterIssuesError([("", "no such file")], source) from None
    except OSError as error:
        raise ParameterIssuesError([("", f"cannot read: {error.strerror or error}")], source) from None
    except UnicodeDecodeError:
        raise ParameterIssuesError([("", "not UTF-8 text")], source) from None
    try:
        document = parse_json_text(text, source)
    except DefinitionError as error:
        raise ParameterIssuesError(error.issues, source) from None
    return parameters_from_document(document, source)


def _shown(value: JSON, secure: bool) -> str:
    if secure:
        return describe_json_type(value) + " (value hidden)"
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def resolve_parameters(
    definition: WorkflowDefinition, supplied: Mapping[str, JSON], source: str = ""
) -> dict[str, JSON]:
    """The value of every declared parameter: supplied, else its default.

    Raises ParameterIssuesError (a ParameterError) naming every unknown name, wrongly typed value and
    missing required value.
    """
    pointer_of = (
        supplied.pointer_of
        if isinstance(supplied, SuppliedParameters)
        else (lambda n: f"/{escape_pointer(n)}")
    )
    if not source and isinstance(supplied, SuppliedParameters):
        source = supplied.source
    issues: Issues = []
    resolved: dict[str, JSON] = {}
    declared = definition.parameters
    for name, value in supplied.items():
        declaration = declared.get(name)
        if declaration is None:
            known = ", ".join(f"'{n}'" for n in declared) or "none"
            issues.append((pointer_of(name), f"unknown parameter '{name}' (the workflow declares: {known})"))
            continue
        if not matches_parameter_type(value, declaration.type):
            issues.append(
                (
                    pointer_of(name),
                    f"expected {expected_for(declaration.type)}, got {_shown(value, declaration.is_secure)}",
                )
            )
            continue
        allowed = declaration.raw.get("allowedValues")
        if isinstance(allowed, list) and value not in allowed:
            issues.append(
                (
                    pointer_of(name),
                    f"expected one of the allowedValues, got {_shown(value, declaration.is_secure)}",
                )
            )
            continue
        resolved[name] = value
    for name, declaration in declared.items():
        if name in supplied:
            continue
        if declaration.has_default:
            resolved[name] = declaration.default
        else:
            issues.append(
                (
                    pointer_of(name),
                    f"missing value for parameter '{name}' ({declaration.type} with no defaultValue)",
                )
            )
    if issues:
        raise ParameterIssuesError(issues, source)
    return resolved


__all__ = [
    "ParameterIssuesError",
    "SuppliedParameters",
    "load_parameter_file",
    "parameters_from_document",
    "resolve_parameters",
]
