"""The JSON value type used across pairflow's pure core."""

from __future__ import annotations

from typing import Any, TypeAlias

# A JSON value as produced by json.loads. Kept as Any because mypy cannot express a recursive union
# cheaply at our call rates; the name documents intent.
JSON: TypeAlias = Any
JSONObject: TypeAlias = dict[str, Any]
