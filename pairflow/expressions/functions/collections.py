"""Collection functions over strings, arrays and objects: contains, empty, first, last, length,
intersection, union, join, reverse, sort, skip, take, chunk."""

from __future__ import annotations

from functools import cmp_to_key

from pairflow.errors import ExpressionEvaluationError
from pairflow.expressions import limits
from pairflow.expressions.functions import args
from pairflow.expressions.registry import function
from pairflow.expressions.values import equal, is_number, to_string, type_name
from pairflow.jsontypes import JSON


def _collection_error(
    name: str, value: JSON, kinds: str = "a string, an array or an object"
) -> ExpressionEvaluationError:
    return ExpressionEvaluationError(
        f"The template language function '{name}' expects its parameter to be {kinds}. "
        f"The provided value is of type '{type_name(value)}'"
    )


@function("contains", 2)
def contains(collection: JSON, value: JSON) -> JSON:
    if isinstance(collection, str):
        return (
            args.text(value, "contains", 1) in collection
            if isinstance(value, str)
            else to_string(value) in collection
        )
    if isinstance(collection, list):
        return any(equal(item, value) for item in collection)
    if isinstance(collection, dict):
        return isinstance(value, str) and value in collection
    raise _collection_error("contains", collection)


@function("empty", 1)
def empty(value: JSON) -> JSON:
    if value is None:
        return True
    if isinstance(value, str | list | dict):
        return len(value) == 0
    raise _collection_error("empty", value)


@function("first", 1)
def first(value: JSON) -> JSON:
    if isinstance(value, str):
        return value[:1]
    if isinstance(value, list):
        return value[0] if value else None
    raise _collection_error("first", value, "a string or an array")


@function("last", 1)
def last(value: JSON) -> JSON:
    if isinstance(value, str):
        return value[-1:]
    if isinstance(value, list):
        return value[-1] if value else None
    raise _collection_error("last", value, "a string or an array")


@function("length", 1)
def length(value: JSON) -> JSON:
    if isinstance(value, str | list):
        return len(value)
    raise _collection_error("length", value, "a string or an array")


def _same_kind(values: tuple[JSON, ...], name: str) -> str:
    if all(isinstance(value, list) for value in values):
        return "array"
    if all(isinstance(value, dict) for value in values):
        return "object"
    kinds = ", ".join(sorted({type_name(value) for value in values}))
    raise ExpressionEvaluationError(
        f"The template language function '{name}' expects parameters that are all arrays or all objects "
        f"but got {kinds}"
    )


def _unique(items: list[JSON]) -> list[JSON]:
    result: list[JSON] = []
    for item in items:
        if not any(equal(item, seen) and type(item) is type(seen) for seen in result):
            result.append(item)
    return result


@function("union", 1, None)
def union(*values: JSON) -> JSON:
    if _same_kind(values, "union") == "object":
        merged: dict[str, JSON] = {}
        for value in values:
            merged.update(value)
        return merged
    limits.check_array_length(sum(len(value) for value in values), "union")
    return _unique([item for value in values for item in value])


@function("intersection", 1, None)
def intersection(*values: JSON) -> JSON:
    if _same_kind(values, "intersection") == "object":
        common: dict[str, JSON] = {}
        last_value = values[-1]
        for key, item in last_value.items():
            if all(key in other and equal(other[key], item) for other in values):
                common[key] = item
        return common
    first_items = _unique(list(values[0]))
    return [item for item in first_items if all(any(equal(item, x) for x in other) for other in values[1:])]


@function("join", 2)
def join(collection: JSON, delimiter: JSON) -> JSON:
    items = args.array(collection, "join", 0)
    separator = args.text(delimiter, "join", 1)
    texts = [to_string(item) for item in items]
    limits.check_string_length(sum(map(len, texts)) + len(separator) * max(len(texts) - 1, 0), "join")
    return separator.join(texts)


@function("reverse", 1)
def reverse(collection: JSON) -> JSON:
    return list(reversed(args.array(collection, "reverse", 0)))


def _sort_value(item: JSON, name: str) -> JSON:
    if item is None or isinstance(item, str) or is_number(item) or isinstance(item, bool):
        return item
    raise ExpressionEvaluationError(
        f"The template language function '{name}' cannot sort values of type '{type_name(item)}'"
    )


def _compare(left: JSON, right: JSON) -> int:
    if left is None or right is None:
        return (left is not None) - (right is not None)
    if isinstance(left, str) != isinstance(right, str):
        raise ExpressionEvaluationError(
            f"The template language function 'sort' cannot compare '{type_name(left)}' "
            f"with '{type_name(right)}'"
        )
    return int(left > right) - int(left < right)


def _compare_keys(left: tuple[JSON, JSON], right: tuple[JSON, JSON]) -> int:
    return _compare(left[0], right[0])


@function("sort", 1, 2)
def sort(collection: JSON, key: JSON = None) -> JSON:
    items = args.array(collection, "sort", 0)
    keyed: list[tuple[JSON, JSON]]
    if key is None:
        keyed = [(_sort_value(item, "sort"), item) for item in items]
    else:
        name = args.text(key, "sort", 1)
        keyed = []
        for item in items:
            if not isinstance(item, dict):
                raise ExpressionEvaluationError(
                    "The template language function 'sort' with a key expects objects "
                    f"but got '{type_name(item)}'"
                )
            keyed.append((_sort_value(item.get(name), "sort"), item))
    keyed.sort(key=cmp_to_key(_compare_keys))
    return [item for _, item in keyed]


def _count(value: JSON, name: str) -> int:
    count = args.integer(value, name, 1)
    return max(count, 0)


@function("skip", 2)
def skip(collection: JSON, count: JSON) -> JSON:
    if isinstance(collection, str):
        return collection[_count(count, "skip") :]
    return args.array(collection, "skip", 0)[_count(count, "skip") :]


@function("take", 2)
def take(collection: JSON, count: JSON) -> JSON:
    if isinstance(collection, str):
        return collection[: _count(count, "take")]
    if isinstance(collection, list):
        return collection[: _count(count, "take")]
    raise _collection_error("take", collection, "a string or an array")


@function("chunk", 2)
def chunk(collection: JSON, size: JSON) -> JSON:
    length_ = args.integer(size, "chunk", 1)
    if length_ <= 0:
        raise ExpressionEvaluationError(
            "The template language function 'chunk' expects a positive chunk length"
        )
    if not isinstance(collection, str | list):
        raise _collection_error("chunk", collection, "a string or an array")
    limits.check_array_length(-(-len(collection) // length_), "chunk")
    return [collection[i : i + length_] for i in range(0, len(collection), length_)]
