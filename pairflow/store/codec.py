"""How store values become column text and back: compact JSON, and UTC datetimes as ISO text.

Shared by the backends that keep JSON and times as text. Datetimes are written with a fixed width
(`YYYY-MM-DDTHH:MM:SS.ffffffZ`) so that comparing the text compares the times: lease expiry is
decided inside one SQL statement.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from json import encoder as _json_encoder
from typing import Any

from pairflow.errors import StoreError
from pairflow.jsontypes import JSON


def _not_json(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _compact_encoder() -> Callable[[JSON], str]:
    """Compact JSON text, non-ASCII kept, NaN refused. CPython's C encoder called directly: through
    `JSONEncoder.encode` each call builds a new C encoder and a circular-reference table first,
    which costs more than encoding a small object (a run's commit encodes a dozen). Values here are
    trees parsed from JSON or made by expressions, never cyclic; one that were would raise
    RecursionError instead of ValueError."""
    make = getattr(_json_encoder, "c_make_encoder", None)
    if make is None:  # an interpreter without the accelerator
        return json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
    chunks = make(None, _not_json, _json_encoder.encode_basestring, None, ":", ",", False, False, False)
    return lambda value: "".join(chunks(value, 0))


encode_json = _compact_encoder()


def dump_json(value: JSON, place: str, field: str) -> str:
    """Compact JSON, keeping non-ASCII text and key order; NaN and non-JSON values are refused."""
    if value == {} and type(value) is dict:  # most variables and states: no encoder call
        return "{}"
    try:
        return encode_json(value)
    except (TypeError, ValueError, RecursionError) as exc:
        raise StoreError(f"{place}: {field}: value is not JSON: {exc}") from exc


def dump_optional_json(value: JSON, place: str, field: str) -> str | None:
    """None stays SQL NULL (absent), anything else is JSON text."""
    return None if value is None else dump_json(value, place, field)


def load_json(text: str | None) -> JSON:
    return None if text is None else json.loads(text)


def canonical_json(value: JSON) -> str:
    """A text equal for equal JSON regardless of key order: used to decide whether content changed."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True, allow_nan=False)


def dump_time(value: datetime, place: str, field: str) -> str:
    """A timezone-aware datetime as fixed-width UTC text; a naive one is refused, not guessed."""
    if value.tzinfo is UTC:  # the clocks' own: no conversion (several per run on the hot path)
        return value.isoformat(timespec="microseconds")[:-6] + "Z"
    if value.tzinfo is None or value.utcoffset() is None:
        raise StoreError(f"{place}: {field}: datetime {value.isoformat()} has no timezone")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def dump_optional_time(value: datetime | None, place: str, field: str) -> str | None:
    return None if value is None else dump_time(value, place, field)


def load_time(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def load_optional_time(text: str | None) -> datetime | None:
    return None if text is None else load_time(text)
