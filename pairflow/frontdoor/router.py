"""Routing decisions, free of I/O: which locations a call to a workflow should try, in order, and
whether a failed attempt may be tried again on the next one.

Active-passive: healthy locations that report themselves active (or report nothing) come first, the
higher epoch before the lower (after a failover the old primary may still believe it is active; the
epoch says who won), then configured priority. Locations that report themselves passive, or answered
LocationPassive for this workflow, follow as a last resort: their refusal is safe to retry, and the
probe that would tell us they became active may not have run yet.

Active-active: healthy locations in turn (round-robin on a per-workflow counter); the others follow
as fallbacks for a retry.

A retry is allowed only when the location cannot have created a run, because a Request trigger call is
not idempotent: a second location would start a second run. That is the case when the connection was
never established (refused, connect timeout), or when the location answered with an error it gives
before writing anything (LocationPassive; ServiceUnavailable while it starts or stops) and without a
run id. A timeout or a dropped connection after the request was sent is never retried: the run may
have been committed, and the caller must decide (the front door answers 504 or 502).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import httpx

from pairflow.frontdoor.config import Mode
from pairflow.frontdoor.health import LocationHealth

# Error codes a location answers before it writes anything, so another location may take the call.
RETRYABLE_CODES = frozenset({"LocationPassive", "ServiceUnavailable"})
RETRYABLE_STATUSES = frozenset({409, 502, 503})
RUN_ID_HEADER = "x-ms-workflow-run-id"


def candidates(mode: Mode, locations: Sequence[LocationHealth], workflow: str, turn: int = 0) -> list[str]:
    """The names of the locations to try for a call to `workflow`, best first; only healthy ones."""
    healthy = [(index, health) for index, health in enumerate(locations) if health.up]
    if mode == "active-active":
        preferred = [h for _, h in healthy if workflow not in h.passive_for]
        spare = [h for _, h in healthy if workflow in h.passive_for]
        if preferred:
            start = turn % len(preferred)
            preferred = preferred[start:] + preferred[:start]
        return [h.name for h in (*preferred, *spare)]

    def willing(health: LocationHealth) -> bool:
        return health.active is not False and workflow not in health.passive_for

    first = sorted(
        (pair for pair in healthy if willing(pair[1])),
        key=lambda pair: (-(pair[1].epoch if pair[1].epoch is not None else -1), pair[0]),
    )
    rest = [pair for pair in healthy if not willing(pair[1])]
    return [health.name for _, health in (*first, *rest)]


def may_retry_error(error: httpx.HTTPError) -> bool:
    """True when the call failed before the location could have received the request."""
    return isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def error_code(body: bytes) -> str | None:
    """The Logic Apps error code in `{"error": {"code": ...}}`, when the body is that."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None
    error = document.get("error") if isinstance(document, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None


def may_retry_answer(status: int, headers: Mapping[str, str], body: bytes) -> bool:
    """True when the location refused the call before creating a run, so another may take it."""
    if status not in RETRYABLE_STATUSES or RUN_ID_HEADER in {k.lower() for k in headers}:
        return False
    return error_code(body) in RETRYABLE_CODES


def wants_body(status: int) -> bool:
    """Whether the proxy must read the answer's body to decide on a retry."""
    return status in RETRYABLE_STATUSES
