"""When and how long to wait before trying a Graph request again.

Why this file exists: Graph's throttling rules (DESIGN.md, "Microsoft Graph rules")
are the same for plain requests and for ``$batch`` sub-requests — honour
``Retry-After`` when Graph sends it, otherwise back off exponentially with jitter,
and give up after a bounded number of attempts. Keeping the policy in one object
with an injectable ``sleep`` and ``clock`` lets tests run retries instantly and lets
a cron job choose to fail fast rather than wait a long ``Retry-After`` out.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

__all__ = ["RETRYABLE_STATUSES", "RetryPolicy", "parse_retry_after"]

# 429: throttled. 503: service unavailable (Graph also throttles with 503).
# 500/502/504: gateway and back-end hiccups Graph documents as transient.
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# Statuses where the request was certainly not applied, so even a non-idempotent
# request may be sent again.
NOT_APPLIED_STATUSES = frozenset({429, 503})


def parse_retry_after(
    value: str | float | None, clock: Callable[[], float] = time.time
) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP date)."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return max(0.0, float(value))
    text = str(value).strip()
    if not text:
        return None
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - clock())


def retry_after_from_headers(
    headers: Mapping[str, str] | None, clock: Callable[[], float] = time.time
) -> float | None:
    """``Retry-After`` from a header mapping whatever its casing (batch items use any)."""
    if not headers:
        return None
    for key, value in headers.items():
        if str(key).lower() == "retry-after":
            return parse_retry_after(value, clock)
    return None


@dataclass
class RetryPolicy:
    """Bounded retries with ``Retry-After`` first and jittered exponential backoff second.

    ``max_attempts`` counts the first try. A ``Retry-After`` longer than
    ``max_retry_after`` is not waited out: the request fails at once with
    :class:`~m365_graph.errors.Throttled` carrying the wait, so a cron job can
    reschedule instead of holding a worker for minutes.
    """

    max_attempts: int = 6
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    max_retry_after: float = 300.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    rng: random.Random = field(default_factory=random.Random)

    def backoff(self, retry_number: int) -> float:
        """Wait before retry ``retry_number`` (1 = first retry) without ``Retry-After``.

        "Equal jitter": half the exponential step is fixed, half is random, so
        clients that failed together do not come back together yet always wait.
        """
        step = min(self.backoff_max, self.backoff_base * (2 ** max(0, retry_number - 1)))
        return step / 2 + self.rng.uniform(0, step / 2)

    def delay(self, retry_number: int, retry_after: float | None) -> float:
        """Seconds to wait before retry ``retry_number`` given Graph's ``Retry-After``."""
        if retry_after is not None:
            return retry_after
        return self.backoff(retry_number)

    def should_give_up(self, attempt: int, retry_after: float | None) -> bool:
        """``attempt`` is the number of tries made so far."""
        if attempt >= self.max_attempts:
            return True
        return retry_after is not None and retry_after > self.max_retry_after

    def retry_after(self, headers: Mapping[str, str] | None) -> float | None:
        return retry_after_from_headers(headers, self.clock)
