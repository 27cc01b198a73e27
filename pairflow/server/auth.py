"""API-key authentication of the management API: `Authorization: Bearer KEY` or `x-api-key: KEY`.

Every configured key is compared in constant time (hmac.compare_digest), and all of them are always
compared, so the answer's timing tells nothing about which key, or how much of one, matched.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from starlette.datastructures import Headers

from pairflow.server.problems import ApiError


def presented_key(headers: Headers) -> str | None:
    authorization = headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    key = headers.get("x-api-key")
    return key.strip() if key else None


def key_is_valid(presented: str, keys: Sequence[str]) -> bool:
    given = presented.encode("utf-8", "surrogateescape")
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(given, key.encode("utf-8"))
    return matched


def require_api_key(headers: Headers, keys: Sequence[str]) -> None:
    presented = presented_key(headers)
    if presented is None:
        raise ApiError(
            401,
            "AuthenticationRequired",
            "The management API needs an API key: 'Authorization: Bearer KEY' or 'x-api-key: KEY'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not key_is_valid(presented, keys):
        raise ApiError(
            401, "InvalidApiKey", "The API key is not valid.", headers={"WWW-Authenticate": "Bearer"}
        )
