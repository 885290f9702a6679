"""Retry policy: Retry-After parsing, jittered backoff, bounds."""

from __future__ import annotations

import random
from datetime import datetime, timezone
from email.utils import format_datetime

import pytest

from m365_graph.core.retry import RetryPolicy, parse_retry_after, retry_after_from_headers


def test_retry_after_seconds_and_fractions():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after(3) == 3.0
    assert parse_retry_after("-4") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("soon") is None


def test_retry_after_http_date_uses_injected_clock():
    now = datetime(2025, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
    later = datetime(2025, 3, 1, 12, 0, 30, tzinfo=timezone.utc)
    assert parse_retry_after(format_datetime(later, usegmt=True), clock=now.timestamp) == 30.0


def test_retry_after_header_lookup_ignores_case():
    assert retry_after_from_headers({"retry-after": "2"}) == 2.0
    assert retry_after_from_headers({"RETRY-AFTER": "3"}) == 3.0
    assert retry_after_from_headers({"Content-Type": "x"}) is None
    assert retry_after_from_headers(None) is None


def test_backoff_grows_exponentially_with_bounded_jitter():
    policy = RetryPolicy(backoff_base=1.0, backoff_max=8.0, rng=random.Random(3))
    for retry_number, step in [(1, 1), (2, 2), (3, 4), (4, 8), (5, 8), (9, 8)]:
        for _ in range(50):
            wait = policy.backoff(retry_number)
            assert step / 2 <= wait <= step


def test_jitter_differs_between_draws():
    policy = RetryPolicy(rng=random.Random(5))
    assert len({round(policy.backoff(4), 6) for _ in range(20)}) > 10


def test_delay_prefers_retry_after():
    policy = RetryPolicy(rng=random.Random(1))
    assert policy.delay(1, 12.0) == 12.0
    assert 0.5 <= policy.delay(1, None) <= 1.0


@pytest.mark.parametrize(
    ("attempt", "retry_after", "give_up"),
    [(1, None, False), (4, None, False), (5, None, True), (1, 299.0, False), (1, 301.0, True)],
)
def test_bounded_attempts_and_long_retry_after(attempt, retry_after, give_up):
    policy = RetryPolicy(max_attempts=5, max_retry_after=300)
    assert policy.should_give_up(attempt, retry_after) is give_up
