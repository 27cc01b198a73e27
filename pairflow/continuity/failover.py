"""Planned failback, the handing-over half: the active location has stopped taking new work and
collected its trigger state; this sends the state to the other location and only then asks it to
activate above the epoch the old active location held.

Both calls are the management API anyone could make (`/api/continuity/handover`, `/activate`).
"""

from __future__ import annotations

import httpx

from pairflow.continuity.lease import headers
from pairflow.jsontypes import JSON, JSONObject
from pairflow.server.problems import ApiError

TIMEOUT = 30.0


async def _post(http: httpx.AsyncClient, url: str, body: JSONObject, api_key: str | None) -> JSON:
    try:
        answer = await http.post(url, json=body, headers=headers(api_key), timeout=TIMEOUT)
    except httpx.HTTPError as error:
        raise ApiError(502, "HandoverFailed", f"{url}: cannot reach: {error}") from None
    try:
        data: JSON = answer.json()
    except ValueError:
        data = answer.text
    if answer.status_code >= 400:
        problem = data.get("error") if isinstance(data, dict) else None
        message = problem.get("message") if isinstance(problem, dict) else str(data)[:200]
        raise ApiError(502, "HandoverFailed", f"{url}: HTTP {answer.status_code}: {message}")
    return data


async def hand_over(
    http: httpx.AsyncClient,
    to_url: str,
    api_key: str | None,
    *,
    origin: str,
    epoch: int,
    states: list[JSONObject],
) -> JSONObject:
    """Import `states` at `to_url`, then activate it above `epoch`; its status after activating."""
    base = to_url.rstrip("/")
    imported = await _post(
        http,
        base + "/api/continuity/handover",
        {"from": origin, "epoch": epoch, "states": list(states)},
        api_key,
    )
    activated = await _post(
        http,
        base + "/api/continuity/activate",
        {"reason": f"failback from {origin}", "afterEpoch": epoch, "detail": {"handover": imported}},
        api_key,
    )
    return activated if isinstance(activated, dict) else {"answer": activated}
