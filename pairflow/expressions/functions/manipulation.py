"""JSON and XML manipulation: addProperty, setProperty, removeProperty, coalesce, xpath.

Objects are copied, never changed in place: values may be shared with the run's state.
"""

from __future__ import annotations

from pairflow.errors import ExpressionEvaluationError
from pairflow.expressions.functions import args
from pairflow.expressions.registry import function
from pairflow.expressions.xmljson import xml_bytes, xpath
from pairflow.jsontypes import JSON


@function("addProperty", 3)
def add_property(target: JSON, name: JSON, value: JSON) -> JSON:
    obj = args.obj(target, "addProperty", 0)
    key = args.text(name, "addProperty", 1)
    if key in obj:
        raise ExpressionEvaluationError(
            f"The template language function 'addProperty' cannot add property '{key}' "
            "because it already exists"
        )
    return {**obj, key: value}


@function("setProperty", 3)
def set_property(target: JSON, name: JSON, value: JSON) -> JSON:
    obj = args.obj(target, "setProperty", 0)
    return {**obj, args.text(name, "setProperty", 1): value}


@function("removeProperty", 2)
def remove_property(target: JSON, name: JSON) -> JSON:
    obj = args.obj(target, "removeProperty", 0)
    key = args.text(name, "removeProperty", 1)
    return {k: v for k, v in obj.items() if k != key}


@function("coalesce", 1, None)
def coalesce(*values: JSON) -> JSON:
    for value in values:
        if value is not None:
            return value
    return None


@function("xpath", 2)
def xpath_(document: JSON, expression: JSON) -> JSON:
    return xpath(xml_bytes(document, "xpath"), args.text(expression, "xpath", 1))
