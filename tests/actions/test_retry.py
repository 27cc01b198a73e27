from __future__ import annotations

import random

import pytest

from pairflow.actions.retry import DEFAULT_POLICY, NO_RETRY, RetryPolicy, is_retryable, parse_retry_policy


def test_absent_retry_policy_is_the_default_exponential_policy_with_four_retries() -> None:
    assert parse_retry_policy(None) == RetryPolicy("exponential", 4, 7.5, 5.0, 45.0)


@pytest.mark.parametrize("seed", range(20))
def test_default_policy_waits_grow_within_the_documented_5_to_45_second_bounds(seed: int) -> None:
    rng = random.Random(seed)
    delays = [DEFAULT_POLICY.delay(n, rng) for n in range(1, 5)]
    bounds = [(5.0, 7.5), (7.5, 15.0), (15.0, 30.0), (30.0, 45.0)]
    for delay, (low, high) in zip(delays, bounds, strict=True):
        assert low <= delay <= high


def test_fixed_policy_waits_its_interval() -> None:
    policy = parse_retry_policy({"type": "fixed", "count": 2, "interval": "PT30S"})
    assert policy == RetryPolicy("fixed", 2, 30.0)
    assert policy.delay(2, random.Random(0)) == 30.0


def test_exponential_policy_reads_its_intervals() -> None:
    policy = parse_retry_policy(
        {
            "type": "Exponential",
            "count": 3,
            "interval": "PT10S",
            "minimumInterval": "PT1S",
            "maximumInterval": "PT1M",
        }
    )
    assert policy == RetryPolicy("exponential", 3, 10.0, 1.0, 60.0)


def test_none_policy_never_retries() -> None:
    assert parse_retry_policy({"type": "none"}) == NO_RETRY


@pytest.mark.parametrize(
    "value",
    [
        {"type": "sometimes"},
        {"type": "fixed", "count": 0, "interval": "PT1S"},
        {"type": "fixed", "interval": "soon"},
        3,
    ],
)
def test_invalid_retry_policies_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match="retry"):
        parse_retry_policy(value)


@pytest.mark.parametrize(
    ("status", "retry"),
    [(408, True), (429, True), (500, True), (503, True), (404, False), (400, False), (200, False)],
)
def test_only_408_429_and_5xx_are_retried(status: int, retry: bool) -> None:
    assert is_retryable(status) is retry
