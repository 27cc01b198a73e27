"""The fields each action and trigger type needs, checked one type at a time.

Only the shape is checked here; a value computed by an expression (`@…`, or an ARM `[…]` expression in a
template) is accepted wherever a literal of some type is expected, since it is known only at run time.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from pairflow.definition.loader import describe_json_type
from pairflow.jsontypes import JSON, JSONObject

Issues = list[tuple[str, str]]

TERMINATE_STATUSES = ("Failed", "Cancelled", "Succeeded")
VARIABLE_TYPES = ("string", "integer", "float", "boolean", "array", "object")
# The documented recurrence frequencies of the Recurrence and SlidingWindow triggers.
RECURRENCE_FREQUENCIES = ("Second", "Minute", "Hour", "Day", "Week", "Month")
WAIT_UNITS = ("Second", "Minute", "Hour", "Day", "Week", "Month")
TABLE_FORMATS = ("CSV", "HTML")
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE")


def is_computed(value: JSON) -> bool:
    """True for a value known only at run time: a WDL expression or an ARM template expression."""
    if not isinstance(value, str):
        return False
    return (value.startswith("@") and not value.startswith("@@")) or (
        value.startswith("[") and not value.startswith("[[") and value.endswith("]")
    )


def matches_variable_type(value: JSON, type_name: str) -> bool:
    """Whether a literal fits an InitializeVariable type (lower case)."""
    if is_computed(value) or value is None:
        return True
    checks: dict[str, Callable[[JSON], bool]] = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "array": lambda v: isinstance(v, list),
        "object": lambda v: isinstance(v, dict),
    }
    return checks[type_name](value)


def _one_of(value: JSON, allowed: tuple[str, ...]) -> bool:
    return is_computed(value) or (isinstance(value, str) and value.lower() in {a.lower() for a in allowed})


def _listing(allowed: tuple[str, ...]) -> str:
    return ", ".join(allowed[:-1]) + f" or {allowed[-1]}"


class _Checker:
    """Collects issues for one action or trigger."""

    def __init__(self, raw: JSONObject, pointer: str, what: str) -> None:
        self.raw = raw
        self.pointer = pointer
        self.what = what  # e.g. "an If action"
        self.issues: Issues = []

    def add(self, pointer: str, message: str) -> None:
        self.issues.append((pointer, message))

    def require(self, container: JSONObject, pointer: str, key: str, meaning: str) -> JSON | None:
        if key not in container:
            self.add(pointer, f"{self.what} needs '{key}' ({meaning})")
            return None
        return container[key]

    def inputs(self) -> JSONObject | None:
        value = self.raw.get("inputs")
        if isinstance(value, dict):
            return value
        if value is None and "inputs" not in self.raw:
            self.add(self.pointer, f"{self.what} needs an 'inputs' object")
        else:
            self.add(f"{self.pointer}/inputs", f"expected an object, got {describe_json_type(value)}")
        return None

    def input_fields(self, *fields: tuple[str, str]) -> JSONObject | None:
        inputs = self.inputs()
        if inputs is not None:
            for key, meaning in fields:
                self.require(inputs, f"{self.pointer}/inputs", key, meaning)
        return inputs

    def typed(self, value: JSON, pointer: str, check: Callable[[JSON], bool], expected: str) -> None:
        if not is_computed(value) and not check(value):
            self.add(pointer, f"expected {expected}, got {json.dumps(value)[:60]}")


def _positive_int(value: JSON) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _if(c: _Checker) -> None:
    c.require(c.raw, c.pointer, "expression", "the condition to evaluate")


def _foreach(c: _Checker) -> None:
    c.require(c.raw, c.pointer, "foreach", "the array to loop over")


def _until(c: _Checker) -> None:
    c.require(c.raw, c.pointer, "expression", "the condition that ends the loop")
    limit = c.require(c.raw, c.pointer, "limit", "an object with 'count' and/or 'timeout'")
    if isinstance(limit, dict) and "count" in limit:
        c.typed(limit["count"], f"{c.pointer}/limit/count", _positive_int, "a positive integer")
    if isinstance(limit, dict) and "timeout" in limit:
        c.typed(
            limit["timeout"],
            f"{c.pointer}/limit/timeout",
            lambda v: isinstance(v, str),
            "an ISO 8601 duration",
        )


def _switch(c: _Checker) -> None:
    c.require(c.raw, c.pointer, "expression", "the value to switch on")
    cases = c.require(c.raw, c.pointer, "cases", "an object of cases, each with 'case' and 'actions'")
    if not isinstance(cases, dict):
        return
    seen: dict[str, str] = {}
    for case_name, case in cases.items():
        if not isinstance(case, dict):
            continue
        case_pointer = f"{c.pointer}/cases/{case_name.replace('~', '~0').replace('/', '~1')}"
        if "case" not in case:
            c.add(case_pointer, f"case '{case_name}' needs 'case' (the value it matches)")
            continue
        value = case["case"]
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            c.add(f"{case_pointer}/case", f"expected a string or number, got {describe_json_type(value)}")
            continue
        key = json.dumps(value)
        if key in seen:
            c.add(
                f"{case_pointer}/case",
                f"case value {key} is already used by case '{seen[key]}'; case values must be unique",
            )
        else:
            seen[key] = case_name


def _terminate(c: _Checker) -> None:
    inputs = c.input_fields(("runStatus", f"{_listing(TERMINATE_STATUSES)}"))
    if inputs is not None and "runStatus" in inputs and not _one_of(inputs["runStatus"], TERMINATE_STATUSES):
        c.add(
            f"{c.pointer}/inputs/runStatus",
            f"expected {_listing(TERMINATE_STATUSES)}, got {json.dumps(inputs['runStatus'])[:60]}",
        )


def _initialize_variable(c: _Checker) -> None:
    inputs = c.input_fields(("variables", "a list of {name, type, value}"))
    if inputs is None or "variables" not in inputs:
        return
    variables = inputs["variables"]
    pointer = f"{c.pointer}/inputs/variables"
    if not isinstance(variables, list) or not variables:
        c.add(pointer, f"expected a non-empty array of variables, got {describe_json_type(variables)}")
        return
    for index, variable in enumerate(variables):
        here = f"{pointer}/{index}"
        if not isinstance(variable, dict):
            c.add(here, f"expected an object with name, type and value, got {describe_json_type(variable)}")
            continue
        name = variable.get("name")
        if not isinstance(name, str) or not name:
            c.add(here, "a variable needs 'name' (a non-empty string)")
        type_name = variable.get("type")
        if not isinstance(type_name, str) or type_name.lower() not in VARIABLE_TYPES:
            shown = json.dumps(type_name) if "type" in variable else "nothing"
            c.add(
                f"{here}/type" if "type" in variable else here,
                f"expected a variable type ({', '.join(VARIABLE_TYPES)}), got {shown}",
            )
            continue
        if "value" in variable and not matches_variable_type(variable["value"], type_name.lower()):
            c.add(
                f"{here}/value",
                f"expected a value of type {type_name.lower()}, got {describe_json_type(variable['value'])}",
            )


def _named_variable(*, needs_value: bool) -> Callable[[_Checker], None]:
    def check(c: _Checker) -> None:
        fields = [("name", "the variable's name")]
        if needs_value:
            fields.append(("value", "the value to use"))
        inputs = c.input_fields(*fields)
        if inputs is not None and "name" in inputs:
            c.typed(
                inputs["name"],
                f"{c.pointer}/inputs/name",
                lambda v: isinstance(v, str) and bool(v),
                "a non-empty string",
            )

    return check


def _http_request(c: _Checker, inputs: JSONObject | None, base: str) -> None:
    if inputs is None:
        return
    if "method" in inputs and not _one_of(inputs["method"], HTTP_METHODS):
        c.add(
            f"{base}/method",
            f"expected an HTTP method ({', '.join(HTTP_METHODS)}), got {json.dumps(inputs['method'])[:60]}",
        )
    if "uri" in inputs:
        c.typed(inputs["uri"], f"{base}/uri", lambda v: isinstance(v, str) and bool(v), "a URI string")


def _http(c: _Checker) -> None:
    _http_request(
        c, c.input_fields(("method", "the HTTP method"), ("uri", "the URL to call")), f"{c.pointer}/inputs"
    )


def _response(c: _Checker) -> None:
    inputs = c.input_fields(("statusCode", "the HTTP status code to return"))
    if inputs is not None and "statusCode" in inputs:
        c.typed(
            inputs["statusCode"],
            f"{c.pointer}/inputs/statusCode",
            lambda v: isinstance(v, int) and not isinstance(v, bool) and 100 <= v <= 599,
            "an HTTP status code (100-599)",
        )


def _workflow(c: _Checker) -> None:
    inputs = c.input_fields(("host", "an object with workflow.id, the workflow to call"))
    host = inputs.get("host") if inputs is not None else None
    if not isinstance(host, dict):
        if inputs is not None and "host" in inputs:
            c.add(f"{c.pointer}/inputs/host", f"expected an object, got {describe_json_type(host)}")
        return
    workflow = host.get("workflow")
    if not isinstance(workflow, dict) or not isinstance(workflow.get("id"), str):
        c.add(f"{c.pointer}/inputs/host", f"{c.what} needs 'workflow.id' (the workflow to call) in 'host'")


def _wait(c: _Checker) -> None:
    inputs = c.inputs()
    if inputs is None:
        return
    base = f"{c.pointer}/inputs"
    interval, until = inputs.get("interval"), inputs.get("until")
    if isinstance(interval, dict):
        if "count" not in interval or "unit" not in interval:
            c.add(f"{base}/interval", "expected 'count' and 'unit' in the interval")
        else:
            c.typed(
                interval["count"],
                f"{base}/interval/count",
                lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
                "a non-negative integer",
            )
            if not _one_of(interval["unit"], WAIT_UNITS):
                c.add(
                    f"{base}/interval/unit",
                    f"expected {_listing(WAIT_UNITS)}, got {json.dumps(interval['unit'])[:60]}",
                )
    elif isinstance(until, dict):
        if "timestamp" not in until:
            c.add(f"{base}/until", "expected 'timestamp' in until")
    else:
        c.add(base, f"{c.what} needs 'interval' ({{count, unit}}) or 'until' ({{timestamp}})")


def _table(c: _Checker) -> None:
    inputs = c.input_fields(("from", "the array to tabulate"), ("format", "CSV or HTML"))
    if inputs is not None and "format" in inputs and not _one_of(inputs["format"], TABLE_FORMATS):
        c.add(f"{c.pointer}/inputs/format", f"expected CSV or HTML, got {json.dumps(inputs['format'])[:60]}")


def _fields(*fields: tuple[str, str]) -> Callable[[_Checker], None]:
    def check(c: _Checker) -> None:
        c.input_fields(*fields)

    return check


ACTION_RULES: dict[str, Callable[[_Checker], None]] = {
    "If": _if,
    "Foreach": _foreach,
    "Until": _until,
    "Switch": _switch,
    "Terminate": _terminate,
    "InitializeVariable": _initialize_variable,
    "SetVariable": _named_variable(needs_value=True),
    "IncrementVariable": _named_variable(needs_value=False),
    "DecrementVariable": _named_variable(needs_value=False),
    "AppendToArrayVariable": _named_variable(needs_value=True),
    "AppendToStringVariable": _named_variable(needs_value=True),
    "Http": _http,
    "Response": _response,
    "Workflow": _workflow,
    "ParseJson": _fields(("content", "the JSON to parse"), ("schema", "the JSON Schema of the content")),
    "Query": _fields(("from", "the array to filter"), ("where", "the condition each item must meet")),
    "Select": _fields(("from", "the array to map"), ("select", "the shape of each result item")),
    "Join": _fields(("from", "the array to join"), ("joinWith", "the separator")),
    "Table": _table,
    "Wait": _wait,
}


def _recurrence(c: _Checker) -> None:
    recurrence = c.require(c.raw, c.pointer, "recurrence", "an object with frequency and interval")
    if recurrence is None:
        return
    base = f"{c.pointer}/recurrence"
    if not isinstance(recurrence, dict):
        c.add(base, f"expected an object, got {describe_json_type(recurrence)}")
        return
    frequency = c.require(recurrence, base, "frequency", _listing(RECURRENCE_FREQUENCIES))
    if frequency is not None and not _one_of(frequency, RECURRENCE_FREQUENCIES):
        c.add(
            f"{base}/frequency",
            f"expected {_listing(RECURRENCE_FREQUENCIES)}, got {json.dumps(frequency)[:60]}",
        )
    interval = c.require(recurrence, base, "interval", "a positive integer")
    if interval is not None:
        c.typed(interval, f"{base}/interval", _positive_int, "a positive integer")


def _http_trigger(c: _Checker) -> None:
    _http_request(
        c, c.input_fields(("method", "the HTTP method"), ("uri", "the URL to poll")), f"{c.pointer}/inputs"
    )
    _recurrence(c)


def _http_webhook_trigger(c: _Checker) -> None:
    inputs = c.input_fields(("subscribe", "the request that subscribes"))
    if inputs is None:
        return
    for key in ("subscribe", "unsubscribe"):
        request = inputs.get(key)
        if request is None:
            continue
        base = f"{c.pointer}/inputs/{key}"
        if not isinstance(request, dict):
            c.add(base, f"expected an object with method and uri, got {describe_json_type(request)}")
            continue
        for field_name in ("method", "uri"):
            c.require(request, base, field_name, f"the {key} request's {field_name}")
        _http_request(c, request, base)


def _request_trigger(c: _Checker) -> None:
    inputs = c.raw.get("inputs")
    if isinstance(inputs, dict) and "method" in inputs and not _one_of(inputs["method"], HTTP_METHODS):
        c.add(
            f"{c.pointer}/inputs/method", f"expected an HTTP method, got {json.dumps(inputs['method'])[:60]}"
        )


TRIGGER_RULES: dict[str, Callable[[_Checker], None]] = {
    "Recurrence": _recurrence,
    "SlidingWindow": _recurrence,
    "Http": _http_trigger,
    "HttpWebhook": _http_webhook_trigger,
    "Request": _request_trigger,
}


def _article(type_name: str) -> str:
    # "an Http action": the name is read as "aitch-tee-tee-pee".
    return "an" if type_name[:1].lower() in "aeiou" or type_name.startswith("Http") else "a"


def check_action_fields(raw: JSONObject, type_name: str, pointer: str) -> Issues:
    """Problems with the fields an action of canonical type `type_name` needs."""
    rule = ACTION_RULES.get(type_name)
    if rule is None:
        return []
    checker = _Checker(raw, pointer, f"{_article(type_name)} {type_name} action")
    rule(checker)
    return checker.issues


def check_trigger_fields(raw: JSONObject, type_name: str, pointer: str) -> Issues:
    """Problems with the fields a trigger of canonical type `type_name` needs."""
    rule = TRIGGER_RULES.get(type_name)
    if rule is None:
        return []
    checker = _Checker(raw, pointer, f"{_article(type_name)} {type_name} trigger")
    rule(checker)
    return checker.issues
