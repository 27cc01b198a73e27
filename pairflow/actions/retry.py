"""Retry policies of outbound calls, as Logic Apps defines them: none, fixed and exponential, with the
Default policy (exponential, up to 4 retries, intervals scaling by 7.5 s and kept between 5 s and 45 s).

Pure: the caller supplies the random source (seeded per attempt, so a replay waits the same) and does
the waiting on the injected clock.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from pairflow.actions.common import parse_duration
from pairflow.jsontypes import JSON

MAX_RETRIES = 90  # Logic Apps' limit on `count`
RETRYABLE_STATUS = frozenset({408, 429})  # and every 5xx


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    kind: str  # "none", "fixed" or "exponential"
    count: int  # retries after the first request
    interval: float  # seconds
    minimum: float = 0.0  # seconds; exponential only
    maximum: float = 0.0  # seconds; exponential only

    def delay(self, retry: int, rng: random.Random) -> float:
        """Seconds to wait before retry number `retry` (1-based).

        Exponential: a random value in [max(interval·2^(n-2), minimum), min(interval·2^(n-1), maximum)],
        the first range starting at `minimum` — the table in Logic Apps' documentation."""
        if self.kind == "fixed":
            return self.interval
        low = max(self.interval * 2 ** (retry - 2) if retry > 1 else 0.0, self.minimum)
        high = min(self.interval * 2 ** (retry - 1), self.maximum)
        if high <= low:
            return min(low, self.maximum) if self.maximum else low
        return rng.uniform(low, high)


DEFAULT_POLICY = RetryPolicy("exponential", 4, 7.5, 5.0, 45.0)
NO_RETRY = RetryPolicy("none", 0, 0.0)


def is_retryable(status: int) -> bool:
    return status in RETRYABLE_STATUS or status >= 500


def parse_retry_policy(value: JSON) -> RetryPolicy:
    """The policy of an action's `retryPolicy` input (absent: the Default policy).

    Raises ValueError with a message naming the bad property."""
    if value is None:
        return DEFAULT_POLICY
    if not isinstance(value, dict):
        raise ValueError("The 'retryPolicy' property must be an object")
    kind = value.get("type")
    kind = kind.lower() if isinstance(kind, str) else ""
    if kind == "none":
        return NO_RETRY
    if kind not in ("fixed", "exponential"):
        raise ValueError(
            f"The retry policy type '{value.get('type')}' is not one of 'none, fixed, exponential'"
        )
    count = value.get("count", 4)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_RETRIES:
        raise ValueError(
            f"The retry policy 'count' must be an integer from 1 to {MAX_RETRIES}, not '{count}'"
        )
    if kind == "fixed":
        return RetryPolicy("fixed", count, _seconds(value, "interval", 20.0))
    return RetryPolicy(
        "exponential",
        count,
        _seconds(value, "interval", 7.5),
        _seconds(value, "minimumInterval", 5.0),
        _seconds(value, "maximumInterval", 86400.0),
    )


def _seconds(policy: dict[str, JSON], key: str, default: float) -> float:
    if key not in policy:
        return default
    try:
        return parse_duration(policy[key])
    except ValueError as err:
        raise ValueError(f"The retry policy '{key}': {err}") from err
