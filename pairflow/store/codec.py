"""How store values become column text and back: compact JSON, and UTC datetimes as ISO text.

Shared by the backends that keep JSON and times as text. Datetimes are written with a fixed width
(`YYYY-MM-DDTHH:MM:SS.ffffffZ`) so that comparing the text compares the times: lease expiry is
decided inside one SQL statement.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from pairflow.errors import StoreError
from pairflow.jsontypes import JSON

# One encoder for every call: `json.dumps` with options builds a new one each time (a commit encodes many).
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode


def dump_json(value: JSON, place: str, field: str) -> str:
    """Compact JSON, keeping non-ASCII text and key order; NaN and non-JSON values are refused."""
    if value == {} and type(value) is dict:  # most variables and states: no encoder call
        return "{}"
    try:
        return _ENCODE(value)
    except (TypeError, ValueError) as exc:
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
