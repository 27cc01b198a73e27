"""How expression values look to Logic Apps: type names in messages, the string form used by
interpolation and `string()`, equality and ordering, and binary/XML content objects.

Binary and XML values travel as Logic Apps content objects: {"$content-type": …, "$content": base64}.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from typing import Any

from pairflow.errors import ExpressionEvaluationError
from pairflow.jsontypes import JSON, JSONObject

OCTET_STREAM = "application/octet-stream"
XML_CONTENT_TYPE = "application/xml;charset=utf-8"


def type_name(value: JSON) -> str:
    """The Logic Apps name of a value's type, as shown in error messages."""
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "Float"
    if isinstance(value, str):
        return "String"
    if isinstance(value, list):
        return "Array"
    if isinstance(value, dict):
        return "Object"
    return "Unknown"


def is_number(value: JSON) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def format_float(value: float) -> str:
    """A float as .NET prints it: integral values without '.0', exponents as 'E+XX'."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        sign = "-" if exponent.startswith("-") else "+"
        text = f"{mantissa}E{sign}{exponent.lstrip('+-').zfill(2)}"
    return text


def to_json_text(value: JSON) -> str:
    """Compact JSON, as Logic Apps renders objects and arrays inside strings."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def to_string(value: JSON) -> str:
    """The string form used by `@{…}` interpolation and `string()`."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, dict) and is_content(value):
        text = content_text(value)
        if text is not None:
            return text
    try:
        return to_json_text(value)
    except (TypeError, ValueError) as error:
        raise ExpressionEvaluationError(f"The value cannot be converted to a string: {error}") from None


def is_content(value: JSON) -> bool:
    return isinstance(value, dict) and "$content" in value and isinstance(value.get("$content"), str)


def make_content(data: bytes, content_type: str = OCTET_STREAM) -> JSONObject:
    return {"$content-type": content_type, "$content": base64.b64encode(data).decode("ascii")}


def content_bytes(value: JSONObject) -> bytes:
    try:
        return base64.b64decode(str(value["$content"]), validate=True)
    except (binascii.Error, ValueError):
        raise ExpressionEvaluationError("The content object's '$content' is not valid base64") from None


def content_text(value: JSONObject) -> str | None:
    """The content decoded as UTF-8 text, or None when it is not text."""
    try:
        return content_bytes(value).decode("utf-8")
    except (UnicodeDecodeError, ExpressionEvaluationError):
        return None


def value_bytes(value: JSON) -> bytes:
    """The bytes a value stands for: a content object's data, otherwise its string form in UTF-8."""
    if isinstance(value, dict) and is_content(value):
        return content_bytes(value)
    return to_string(value).encode("utf-8", errors="surrogatepass")


def equal(left: JSON, right: JSON) -> bool:
    """Logic Apps equality: numbers by value (booleans count as 0/1 against numbers), null equals
    the empty string, arrays and objects deeply; strings are case-sensitive."""
    if left is None:
        left = ""
    if right is None:
        right = ""
    if type(left) is type(right) and not isinstance(left, list | dict | float):
        return bool(left == right)
    if (is_number(left) or isinstance(left, bool)) and (is_number(right) or isinstance(right, bool)):
        return (
            bool(float(left) == float(right))
            if isinstance(left, float) or isinstance(right, float)
            else bool(int(left) == int(right))
        )
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(equal(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(equal(left[k], right[k]) for k in left)
    return False


def comparable(left: JSON, right: JSON, function: str) -> tuple[Any, Any]:
    """Operands for greater/less: two numbers or two strings (null counts as '')."""
    if left is None:
        left = ""
    if right is None:
        right = ""
    if is_number(left) and is_number(right):
        return left, right
    if isinstance(left, str) and isinstance(right, str):
        return left, right
    raise ExpressionEvaluationError(
        f"The template language function '{function}' expects two parameters of matching types "
        f"(numbers or strings) but got '{type_name(left)}' and '{type_name(right)}'"
    )
