"""Conversion functions: array, createArray, bool, int, float, decimal, string, json, xml, and the
encodings (base64, binary, data URIs, URI components).

Binary results are Logic Apps content objects ({"$content-type", "$content"}); string inputs are
UTF-8 encoded.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from urllib.parse import quote, unquote, unquote_to_bytes

from pairflow.errors import ExpressionEvaluationError
from pairflow.expressions import limits
from pairflow.expressions.functions import args
from pairflow.expressions.numberformat import parse_localized_number
from pairflow.expressions.registry import function
from pairflow.expressions.values import (
    OCTET_STREAM,
    content_bytes,
    is_content,
    make_content,
    to_string,
    type_name,
    value_bytes,
)
from pairflow.expressions.xmljson import json_to_xml, parse_xml, xml_content, xml_to_json
from pairflow.jsontypes import JSON

_DATA_URI = re.compile(r"^data:([^,]*?)(;base64)?,(.*)$", re.DOTALL | re.IGNORECASE)


@function("array", 1)
def array(value: JSON) -> JSON:
    return [value]


@function("createArray", 1, None)
def create_array(*values: JSON) -> JSON:
    return list(values)


@function("bool", 1)
def bool_(value: JSON) -> JSON:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
    raise ExpressionEvaluationError(
        f"The template language function 'bool' cannot convert the value '{to_string(value)[:100]}' "
        f"of type '{type_name(value)}' to a Boolean"
    )


@function("int", 1)
def int_(value: JSON) -> JSON:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return round(value)
    if isinstance(value, str):
        parsed = parse_localized_number(value, "en-us", allow_fraction=False)
        if isinstance(parsed, int):
            return parsed
    raise ExpressionEvaluationError(
        f"The template language function 'int' was invoked with a parameter that is not valid: "
        f"'{to_string(value)[:100]}' cannot be converted to an integer"
    )


def _to_float(value: JSON, name: str, locale: JSON = "en-us") -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        parsed = parse_localized_number(text, args.text(locale, name, 1), allow_fraction=True)
        if parsed is not None and math.isfinite(parsed):
            return float(parsed)
    raise ExpressionEvaluationError(
        f"The template language function '{name}' was invoked with a parameter that is not valid: "
        f"'{to_string(value)[:100]}' cannot be converted to a number"
    )


@function("float", 1, 2)
def float_(value: JSON, locale: JSON = "en-us") -> JSON:
    return _to_float(value, "float", locale)


@function("decimal", 1)
def decimal(value: JSON) -> JSON:
    return _to_float(value, "decimal")


@function("string", 1)
def string(value: JSON) -> JSON:
    return to_string(value)


@function("json", 1)
def json_(value: JSON) -> JSON:
    if value is None:
        return {}  # documented: "If the string is null, the function returns an empty object"
    if isinstance(value, dict) and is_content(value):
        content_type = str(value.get("$content-type", "")).lower()
        if "xml" in content_type:
            return xml_to_json(content_bytes(value))
        value = to_string(value)
    if not isinstance(value, str):
        raise args.wrong_type("json", 0, "a string or XML", value)
    try:
        return json.loads(value)
    except json.JSONDecodeError as error:
        raise ExpressionEvaluationError(
            f"The template language function 'json' parameter is not valid: {error.msg} at line "
            f"{error.lineno} column {error.colno}"
        ) from None


@function("xml", 1)
def xml(value: JSON) -> JSON:
    if isinstance(value, dict) and is_content(value):
        if "xml" in str(value.get("$content-type", "")).lower():
            return value
        value = to_string(value)
    if isinstance(value, str):
        stripped = value.lstrip()
        if stripped.startswith("<"):
            data = value.encode("utf-8")
            parse_xml(data)
            return xml_content(data)
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise ExpressionEvaluationError(
                "The template language function 'xml' expects XML or a JSON object"
            ) from None
    return xml_content(json_to_xml(value))


@function("base64", 1)
def base64_(value: JSON) -> JSON:
    data = value_bytes(value)
    limits.check_string_length(len(data) * 4 // 3 + 4, "base64")
    return base64.b64encode(data).decode("ascii")


def _b64decode(value: JSON, name: str) -> bytes:
    if isinstance(value, dict) and is_content(value):
        return content_bytes(value)
    text = args.text(value, name, 0).strip()
    try:
        padded = text + "=" * (-len(text) % 4)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        raise ExpressionEvaluationError(
            f"The template language function '{name}' expects a valid base64 string"
        ) from None


def _utf8(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


@function("base64ToBinary", 1)
def base64_to_binary(value: JSON) -> JSON:
    return make_content(_b64decode(value, "base64ToBinary"))


@function("base64ToString", 1)
def base64_to_string(value: JSON) -> JSON:
    return _utf8(_b64decode(value, "base64ToString"))


@function("decodeBase64", 1)
def decode_base64(value: JSON) -> JSON:
    return _utf8(_b64decode(value, "decodeBase64"))


@function("binary", 1)
def binary(value: JSON) -> JSON:
    if isinstance(value, dict) and is_content(value):
        return make_content(content_bytes(value))
    return make_content(value_bytes(value))


@function("dataUri", 1)
def data_uri(value: JSON) -> JSON:
    if isinstance(value, dict) and is_content(value):
        content_type = str(value.get("$content-type") or OCTET_STREAM)
        return f"data:{content_type};base64,{value['$content']}"
    data = value_bytes(value)
    return "data:text/plain;charset=utf-8;base64," + base64.b64encode(data).decode("ascii")


def _parse_data_uri(value: JSON, name: str) -> tuple[str, bytes]:
    if isinstance(value, dict) and is_content(value):
        return str(value.get("$content-type") or OCTET_STREAM), content_bytes(value)
    text = args.text(value, name, 0)
    match = _DATA_URI.match(text.strip())
    if not match:
        raise ExpressionEvaluationError(f"The template language function '{name}' expects a data URI")
    media, is_base64, payload = match.groups()
    if is_base64:
        try:
            data = base64.b64decode(payload + "=" * (-len(payload) % 4), validate=True)
        except (binascii.Error, ValueError):
            raise ExpressionEvaluationError(
                f"The data URI passed to '{name}' has invalid base64 data"
            ) from None
    else:
        data = unquote_to_bytes(payload)
    return media or "text/plain;charset=US-ASCII", data


@function("dataUriToBinary", 1)
def data_uri_to_binary(value: JSON) -> JSON:
    media, data = _parse_data_uri(value, "dataUriToBinary")
    return make_content(data, media)


@function("decodeDataUri", 1)
def decode_data_uri(value: JSON) -> JSON:
    media, data = _parse_data_uri(value, "decodeDataUri")
    return make_content(data, media)


@function("dataUriToString", 1)
def data_uri_to_string(value: JSON) -> JSON:
    return _utf8(_parse_data_uri(value, "dataUriToString")[1])


def _encode_component(value: JSON) -> str:
    text = to_string(value)
    return quote(text.encode("utf-8", errors="surrogatepass"), safe="")


@function("uriComponent", 1)
def uri_component(value: JSON) -> JSON:
    return _encode_component(value)


@function("encodeUriComponent", 1, None)
def encode_uri_component(*values: JSON) -> JSON:
    """Published Microsoft templates call it with several arguments in connector paths
    (`encodeURIComponent('workflows/', name, '/runs')`); the runtime joins them, then encodes."""
    return _encode_component("".join(to_string(value) for value in values))


@function("uriComponentToString", 1)
def uri_component_to_string(value: JSON) -> JSON:
    return unquote(args.text(value, "uriComponentToString", 0), errors="replace")


@function("decodeUriComponent", 1)
def decode_uri_component(value: JSON) -> JSON:
    return unquote(args.text(value, "decodeUriComponent", 0), errors="replace")


@function("uriComponentToBinary", 1)
def uri_component_to_binary(value: JSON) -> JSON:
    return make_content(unquote_to_bytes(args.text(value, "uriComponentToBinary", 0)))
