"""Asking the voters: one lease round (POST /api/continuity/lease to every peer and witness at once)
and reading a location's continuity status, each bounded by a timeout.

An unreachable voter, a timeout or an unreadable answer is an `Answer` with `reached=False`: it
counts as no confirmation, never as an error, so a round always finishes within its timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from pairflow.jsontypes import JSONObject

LEASE_PATH = "/api/continuity/lease"
STATUS_PATH = "/api/continuity/status"
EPOCH_HEADER = "x-pairflow-epoch"


@dataclass(frozen=True, slots=True)
class Answer:
    """One voter's answer to a lease request."""

    url: str
    reached: bool
    accepted: bool = False
    epoch: int = 0
    location: str = ""
    active: bool = False
    leader_url: str = ""
    reason: str = ""


def headers(api_key: str | None, epoch: int | None = None) -> dict[str, str]:
    found = {"x-api-key": api_key} if api_key else {}
    if epoch is not None:
        found[EPOCH_HEADER] = str(epoch)
    return found


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


async def ask(
    http: httpx.AsyncClient, url: str, body: JSONObject, api_key: str | None, timeout: float
) -> Answer:
    try:
        answer = await http.post(url + LEASE_PATH, json=body, headers=headers(api_key), timeout=timeout)
        data = answer.json()
    except (httpx.HTTPError, ValueError) as error:
        return Answer(url, False, reason=f"{type(error).__name__}: {error}")
    if not isinstance(data, dict) or "accepted" not in data:
        return Answer(url, False, reason=f"HTTP {answer.status_code}")
    leader = data.get("leader")
    leader_url = leader.get("url") if isinstance(leader, dict) else ""
    return Answer(
        url,
        True,
        accepted=data.get("accepted") is True,
        epoch=_int(data.get("epoch")),
        location=str(data.get("location") or ""),
        active=data.get("active") is True,
        leader_url=leader_url if isinstance(leader_url, str) else "",
        reason=str(data.get("reason") or ""),
    )


async def lease_round(
    http: httpx.AsyncClient,
    voters: Sequence[str],
    body: JSONObject,
    api_key: str | None,
    timeout: float,
) -> list[Answer]:
    """Ask every voter at once; every answer arrives within `timeout`."""
    return list(await asyncio.gather(*(ask(http, url, body, api_key, timeout) for url in voters)))


async def status_of(
    http: httpx.AsyncClient, url: str, api_key: str | None, timeout: float
) -> JSONObject | None:
    """A location's (or witness's) continuity status; None when it cannot be read."""
    try:
        answer = await http.get(url + STATUS_PATH, headers=headers(api_key), timeout=timeout)
        data = answer.json()
    except (httpx.HTTPError, ValueError):
        return None
    return data if answer.status_code == 200 and isinstance(data, dict) else None
