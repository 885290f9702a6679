"""When and how long to wait before trying a Graph request again.

Why this file exists: Graph's throttling rules (docs/architecture.md, "Microsoft Graph rules")
are the same for plain requests and for ``$batch`` sub-requests — honour
``Retry-After`` when Graph sends it, otherwise back off exponentially with jitter,
and give up after a bounded number of attempts. Keeping the policy in one object
with an injectable ``sleep`` and ``clock`` lets tests run retries instantly and lets
a cron job choose to fail fast rather than wait a long ``Retry-After`` out.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timezone
from email.utils import parsedate_to_datetime

from .errors import GraphUnavailable

__all__ = ["RETRYABLE_STATUSES", "Budget", "RetryPolicy", "parse_retry_after"]

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
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return _finite(float(value))
    text = str(value).strip()
    if not text:
        return None
    try:
        return _finite(float(text))
    except (ValueError, OverflowError):
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:  # RFC 7231 dates are GMT; "-0000" parses naive
        when = when.replace(tzinfo=timezone.utc)
    try:
        return _finite(when.timestamp() - clock())
    except (OverflowError, ValueError, OSError):
        return None


def _finite(seconds: float) -> float | None:
    """A wait in seconds: NaN is no answer, negative is now, infinite is "very long"."""
    if math.isnan(seconds):
        return None
    return min(max(0.0, seconds), 10.0**9)


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
    :class:`~m365_graph.core.errors.Throttled` carrying the wait, so a cron job can
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


@dataclass
class Budget:
    """A job's circuit breaker: how long it may wait on Graph, how many failures in a row.

    One budget is shared by every request of a job (one client, all its threads,
    ``$batch`` rounds included). It counts the seconds spent waiting before retries
    plus the seconds spent in attempts that failed (a time-out costs its time-out),
    and the failed requests in a row (5xx, 429, dropped connections; a success
    resets the count). When the next wait would exceed ``max_wait`` seconds, or
    ``max_failures`` requests failed in a row, the breaker opens: the request raises
    :class:`~m365_graph.core.errors.GraphUnavailable` and so does every later one at
    once, without a request — the job stops, says "Graph unavailable" and the next
    run resumes. ``None`` disables a limit.

    The defaults keep a unit of work well inside Odoo's default 120 s cron limit.
    """

    max_wait: float | None = 60.0
    max_failures: int | None = 8
    waited: float = 0.0
    failures: int = 0
    opened: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def _open(self, why: str) -> None:
        if self.opened is None:
            self.opened = why

    def failed(self, seconds: float = 0.0) -> None:
        """A request failed (retryable): count it and the time it took."""
        with self._lock:
            self.failures += 1
            self.waited += max(0.0, seconds)
            if self.max_failures is not None and self.failures >= self.max_failures:
                self._open("failures")

    def succeeded(self) -> None:
        with self._lock:
            self.failures = 0

    def allow_wait(self, seconds: float) -> bool:
        """Charge a wait of ``seconds`` if it fits; False (and the breaker opens) if not."""
        with self._lock:
            if self.opened is not None:
                return False
            if self.max_wait is not None and self.waited + max(0.0, seconds) > self.max_wait:
                self._open("wait")
                return False
            self.waited += max(0.0, seconds)
            return True

    @property
    def is_open(self) -> bool:
        return self.opened is not None

    def error(self, what: str, host: str | None = None, last: str | None = None):
        """The :class:`GraphUnavailable` to raise, in plain words."""
        if self.opened == "wait":
            why = (
                f"waiting for it would take this run past its budget of {self.max_wait:g} s "
                f"of waiting ({self.waited:.0f} s spent)"
            )
        else:
            why = f"{self.failures} requests in a row failed"
        detail = f" Last answer: {last}" if last else ""
        return GraphUnavailable(
            f"{what}: Microsoft Graph is unavailable — {why}. The run stops here and the "
            f"next run resumes where this one stopped.{detail}",
            host=host,
            failures=self.failures,
            waited=self.waited,
            budget=self.max_wait,
            attempts=self.failures,
            detail=last,
        )
