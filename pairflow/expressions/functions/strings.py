"""String functions: concat, endsWith, startsWith, formatNumber, guid, indexOf, lastIndexOf,
nthIndexOf, isInt, isFloat, replace, slice, split, substring, toLower, toUpper, trim.

indexOf, lastIndexOf, startsWith and endsWith ignore case, as documented; the rest are case-sensitive.
"""

from __future__ import annotations

import uuid

from pairflow.errors import ExpressionEvaluationError
from pairflow.expressions import limits
from pairflow.expressions.functions import args
from pairflow.expressions.numberformat import format_number, parse_localized_number
from pairflow.expressions.registry import function
from pairflow.expressions.values import to_string
from pairflow.jsontypes import JSON


@function("concat", 1, None)
def concat(*values: JSON) -> JSON:
    texts = [to_string(value) for value in values]
    limits.check_string_length(sum(map(len, texts)), "concat")
    return "".join(texts)


@function("endsWith", 2)
def ends_with(value: JSON, search: JSON) -> JSON:
    return args.text(value, "endsWith", 0).lower().endswith(args.text(search, "endsWith", 1).lower())


@function("startsWith", 2)
def starts_with(value: JSON, search: JSON) -> JSON:
    return args.text(value, "startsWith", 0).lower().startswith(args.text(search, "startsWith", 1).lower())


@function("indexOf", 2)
def index_of(value: JSON, search: JSON) -> JSON:
    return args.text(value, "indexOf", 0).lower().find(args.text(search, "indexOf", 1).lower())


@function("lastIndexOf", 2)
def last_index_of(value: JSON, search: JSON) -> JSON:
    text = args.text(value, "lastIndexOf", 0)
    needle = args.text(search, "lastIndexOf", 1)
    if not needle:
        return max(len(text) - 1, 0)
    return text.lower().rfind(needle.lower())


@function("nthIndexOf", 3)
def nth_index_of(value: JSON, search: JSON, occurrence: JSON) -> JSON:
    text = args.text(value, "nthIndexOf", 0)
    needle = args.text(search, "nthIndexOf", 1)
    nth = args.integer(occurrence, "nthIndexOf", 2)
    if nth == 0:
        raise ExpressionEvaluationError(
            "The template language function 'nthIndexOf' expects a non-zero occurrence"
        )
    if not needle:
        raise ExpressionEvaluationError(
            "The template language function 'nthIndexOf' expects a non-empty search string"
        )
    positions: list[int] = []
    position = text.find(needle)
    while position >= 0:
        positions.append(position)
        position = text.find(needle, position + 1)
    if abs(nth) > len(positions):
        return -1
    return positions[nth - 1] if nth > 0 else positions[nth]


@function("replace", 3)
def replace(value: JSON, old: JSON, new: JSON) -> JSON:
    text = args.text(value, "replace", 0)
    old_text = args.text(old, "replace", 1)
    new_text = args.text(new, "replace", 2)
    if not old_text:
        raise ExpressionEvaluationError(
            "The template language function 'replace' expects a non-empty old value"
        )
    count = text.count(old_text)
    limits.check_string_length(len(text) + count * (len(new_text) - len(old_text)), "replace")
    return text.replace(old_text, new_text)


@function("slice", 2, 3)
def slice_(value: JSON, start: JSON, end: JSON = None) -> JSON:
    text = args.text(value, "slice", 0)
    begin = args.integer(start, "slice", 1)
    if end is None:
        return text[begin:]
    return text[begin : args.integer(end, "slice", 2)]


@function("split", 2)
def split(value: JSON, delimiter: JSON) -> JSON:
    text = args.text(value, "split", 0)
    separator = args.text(delimiter, "split", 1)
    if not separator:
        return [text]
    limits.check_array_length(text.count(separator) + 1, "split")
    return text.split(separator)


@function("substring", 2, 3)
def substring(value: JSON, start: JSON, length: JSON = None) -> JSON:
    text = args.text(value, "substring", 0)
    begin = args.integer(start, "substring", 1)
    size = len(text) - begin if length is None else args.integer(length, "substring", 2)
    if begin < 0 or size < 0 or begin + size > len(text):
        raise ExpressionEvaluationError(
            "The template language function 'substring' parameters are out of range: 'start index' and "
            "'length' must be non-negative integers and their sum must be no larger than the length of "
            f"the string ({len(text)})"
        )
    return text[begin : begin + size]


@function("toLower", 1)
def to_lower(value: JSON) -> JSON:
    return args.text(value, "toLower").lower()


@function("toUpper", 1)
def to_upper(value: JSON) -> JSON:
    return args.text(value, "toUpper").upper()


@function("trim", 1)
def trim(value: JSON) -> JSON:
    return args.text(value, "trim").strip()


@function("guid", 0, 1)
def guid(format_: JSON = "D") -> JSON:
    kind = args.text(format_, "guid").upper() or "D"
    value = uuid.uuid4()
    plain = str(value)
    if kind == "D":
        return plain
    if kind == "N":
        return value.hex
    if kind == "B":
        return "{" + plain + "}"
    if kind == "P":
        return "(" + plain + ")"
    if kind == "X":
        h = value.hex
        tail = ",".join(f"0x{h[i : i + 2]}" for i in range(16, 32, 2))
        return f"{{0x{h[0:8]},0x{h[8:12]},0x{h[12:16]},{{{tail}}}}}"
    raise ExpressionEvaluationError(
        "The template language function 'guid' expects a format of 'N', 'D', 'B', 'P' or 'X' "
        f"but got '{kind}'"
    )


@function("formatNumber", 2, 3)
def format_number_(value: JSON, format_: JSON, locale: JSON = "en-us") -> JSON:
    number = args.number(value, "formatNumber", 0)
    pattern = args.text(format_, "formatNumber", 1)
    culture = args.text(locale, "formatNumber", 2)
    return format_number(number, pattern, culture)


@function("isInt", 1, 2)
def is_int(value: JSON, locale: JSON = "en-us") -> JSON:
    text = args.text(value, "isInt", 0)
    parsed = parse_localized_number(text, args.text(locale, "isInt", 1), allow_fraction=False)
    return isinstance(parsed, int)


@function("isFloat", 1, 2)
def is_float(value: JSON, locale: JSON = "en-us") -> JSON:
    text = args.text(value, "isFloat", 0)
    return parse_localized_number(text, args.text(locale, "isFloat", 1), allow_fraction=True) is not None
