"""The data operations: ParseJson, Query (Filter array), Select, Join and Table (Create CSV/HTML table).

Query's `where`, Select's `select` and Table's column values are evaluated once per element with
`item()` bound to it, as Logic Apps does; everything else is evaluated once up front.
"""

from __future__ import annotations

import html
import json
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError

from pairflow.actions.base import ActionContext, ActionResult, executor
from pairflow.actions.common import (
    ExecutorFailure,
    evaluate,
    guarded,
    json_type,
    require_object,
    succeeded,
    template_failure,
    to_text,
)
from pairflow.definition.model import ActionDef
from pairflow.jsontypes import JSON, JSONObject


def _raw_inputs(action: ActionDef) -> JSONObject:
    raw = action.inputs
    if not isinstance(raw, dict):
        raise template_failure(
            action.name, f"The inputs must be an object but were of type '{json_type(raw)}'."
        )
    return raw


def _from_array(ctx: ActionContext, raw: JSONObject, kind: str) -> list[JSON]:
    value = evaluate(ctx, raw.get("from"))
    if not isinstance(value, list):
        raise template_failure(
            ctx.action.name,
            f"The 'from' property value in the '{kind}' action inputs is of type '{json_type(value)}'. "
            "The value must be an array.",
        )
    return value


# --- ParseJson --------------------------------------------------------------------------------------


@executor("ParseJson")
@guarded
async def parse_json(ctx: ActionContext) -> ActionResult:
    action = ctx.action.name
    inputs = require_object(evaluate(ctx, ctx.action.inputs), "inputs", action)
    content = inputs.get("content")
    schema = inputs.get("schema", {})
    if content is None or content == "":
        failure = template_failure(
            action, "Required property 'content' expects a value but got null.", inputs=inputs
        )
        failure.status_code = "BadRequest"
        raise failure
    if isinstance(content, dict) and "$content" in content:
        raise ExecutorFailure(
            "The property 'content' must be of type JSON in the 'ParseJson' action inputs, but was of type "
            f"'{content.get('$content-type', 'application/octet-stream')}'.",
            "BadRequest",
            inputs=inputs,
        )
    if isinstance(content, str):
        try:
            content = json.loads(content) if content.strip() else None
        except json.JSONDecodeError as err:
            raise ExecutorFailure(
                "The 'content' property of actions of type 'ParseJson' must be valid JSON. "
                f"The provided value cannot be parsed: '{err.msg} at line {err.lineno}, column {err.colno}'.",
                "InvalidJSON",
                inputs=inputs,
            ) from err
    if not isinstance(schema, dict | bool):
        raise template_failure(action, "The 'schema' property must be a JSON schema object.", inputs=inputs)
    errors = schema_errors(content, schema)
    if errors:
        raise ExecutorFailure(
            "The schema validation failed.", "ValidationFailed", inputs=inputs, outputs={"errors": errors}
        )
    return succeeded(inputs=inputs, outputs={"body": content})


def schema_errors(value: JSON, schema: JSONObject | bool) -> list[JSONObject]:
    """Every violation of `schema` by `value`, shaped like Logic Apps' (Newtonsoft's) error entries."""
    validator_class: Any = jsonschema.validators.validator_for(schema, default=jsonschema.Draft4Validator)
    try:
        validator_class.check_schema(schema)
    except jsonschema.SchemaError as err:
        raise ExecutorFailure(
            f"The 'schema' property is not a valid JSON schema: {err.message}", "BadRequest"
        ) from err
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    found = sorted(validator.iter_errors(value), key=_document_order)
    entries: list[JSONObject] = []
    for violation in found:
        entry = _error_entry(violation)
        if entry not in entries:  # jsonschema reports `required` once per missing name; Newtonsoft once
            entries.append(entry)
    return entries


def _document_order(err: ValidationError) -> list[tuple[int, int | str]]:
    """Errors in document order, an object's own `required` after those of its members."""
    key: list[tuple[int, int | str]] = [(0, p) if isinstance(p, int) else (1, p) for p in err.absolute_path]
    return [*key, (2, "")] if err.validator == "required" else key


def _error_entry(err: ValidationError) -> JSONObject:
    entry: JSONObject = {
        "message": _message(err),
        "lineNumber": 0,
        "linePosition": 0,
        "path": _path(list(err.absolute_path)),
        "schemaId": "#" + "".join(f"/{part}" for part in list(err.absolute_schema_path)[:-1]),
        "errorType": str(err.validator),
        "childErrors": [_error_entry(child) for child in err.context or []],
    }
    if not isinstance(err.instance, dict | list) and err.instance is not None:
        entry["value"] = err.instance
    return entry


def _message(err: ValidationError) -> str:
    if err.validator == "type":
        expected = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
        wanted = ", ".join(str(t).capitalize() for t in expected)
        got = "Number" if isinstance(err.instance, float) else json_type(err.instance)
        return f"Invalid type. Expected {wanted} but got {got}."
    if err.validator == "required" and isinstance(err.instance, dict):
        required = err.validator_value if isinstance(err.validator_value, list) else []
        missing = [name for name in required if name not in err.instance]
        return f"Required properties are missing from object: {', '.join(missing)}."
    return err.message


def _path(parts: list[str | int]) -> str:
    """Newtonsoft's path: `rows[1].name`, quoting names that are not plain identifiers."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part.replace("_", "a").isalnum():
            text += f".{part}" if text else part
        else:
            text += "['" + part.replace("'", "\\'") + "']"
    return text


# --- Query, Select, Join ----------------------------------------------------------------------------


@executor("Query")
@guarded
async def query(ctx: ActionContext) -> ActionResult:
    raw = _raw_inputs(ctx.action)
    items = _from_array(ctx, raw, "query")
    where = raw.get("where")
    kept: list[JSON] = []
    for element in items:
        keep = evaluate(ctx, where, item=element)
        if not isinstance(keep, bool):
            raise template_failure(
                ctx.action.name,
                f"The 'where' property of the 'query' action inputs must evaluate to a boolean, "
                f"not a value of type '{json_type(keep)}'.",
            )
        if keep:
            kept.append(element)
    return succeeded(inputs={"from": items, "where": where}, outputs={"body": kept})


@executor("Select")
@guarded
async def select(ctx: ActionContext) -> ActionResult:
    raw = _raw_inputs(ctx.action)
    items = _from_array(ctx, raw, "select")
    mapping = raw.get("select")
    body = [evaluate(ctx, mapping, item=element) for element in items]
    return succeeded(inputs={"from": items, "select": mapping}, outputs={"body": body})


@executor("Join")
@guarded
async def join(ctx: ActionContext) -> ActionResult:
    action = ctx.action.name
    inputs = require_object(evaluate(ctx, ctx.action.inputs), "inputs", action)
    items = inputs.get("from")
    if not isinstance(items, list):
        raise template_failure(
            action,
            f"The 'from' property value in the 'join' action inputs is of type '{json_type(items)}'. "
            "The value must be an array.",
            inputs=inputs,
        )
    separator = inputs.get("joinWith", "")
    if not isinstance(separator, str):
        raise template_failure(action, "The 'joinWith' property must be a string.", inputs=inputs)
    return succeeded(inputs=inputs, outputs={"body": separator.join(to_text(v) for v in items)})


# --- Table ------------------------------------------------------------------------------------------


@executor("Table")
@guarded
async def table(ctx: ActionContext) -> ActionResult:
    action = ctx.action.name
    raw = _raw_inputs(ctx.action)
    items = _from_array(ctx, raw, "table")
    table_format = evaluate(ctx, raw.get("format"))
    if not isinstance(table_format, str) or table_format.upper() not in ("CSV", "HTML"):
        raise template_failure(
            action, f"The 'format' property must be 'CSV' or 'HTML', not '{table_format}'."
        )
    raw_columns = raw.get("columns")
    if raw_columns is None:
        headers = _keys_in_order(items, action)
        rows = [[element.get(h) for h in headers] for element in items]
    else:
        if not isinstance(raw_columns, list) or not raw_columns:
            raise template_failure(action, "The 'columns' property must be a non-empty array.")
        columns = [require_object(c, f"'columns[{i}]' value", action) for i, c in enumerate(raw_columns)]
        headers = [to_text(evaluate(ctx, c.get("header", ""))) for c in columns]
        rows = [[evaluate(ctx, c.get("value"), item=element) for c in columns] for element in items]
    text = _csv(headers, rows) if table_format.upper() == "CSV" else _html(headers, rows)
    inputs: JSONObject = {"from": items, "format": table_format}
    if raw_columns is not None:
        inputs["columns"] = raw_columns
    return succeeded(inputs=inputs, outputs={"body": text})


def _keys_in_order(items: list[JSON], action: str) -> list[str]:
    headers: dict[str, None] = {}
    for index, element in enumerate(items):
        if not isinstance(element, dict):
            raise template_failure(
                action,
                f"The 'from' array item at index {index} is of type '{json_type(element)}'; "
                "without 'columns' every item must be an object.",
            )
        headers.update(dict.fromkeys(element))
    return list(headers)


def _csv_cell(value: JSON) -> str:
    text = to_text(value)
    if any(ch in text for ch in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv(headers: list[str], rows: list[list[JSON]]) -> str:
    lines = [",".join(_csv_cell(h) for h in headers)]
    lines += [",".join(_csv_cell(v) for v in row) for row in rows]
    return "".join(f"{line}\r\n" for line in lines)


def _html(headers: list[str], rows: list[list[JSON]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(to_text(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
