"""Injected failures: throttling, outages, latency and broken connections.

Graph throttles (429 with ``Retry-After``), has transient outages (503/504),
limits every app to 4 concurrent requests per mailbox (429
``ApplicationThrottled``, "Application is over its MailboxConcurrency limit.";
Microsoft Graph throttling limits, Outlook service limits:
https://learn.microsoft.com/en-us/graph/throttling-limits#outlook-service-limits
— the items of a ``$batch`` count as concurrent requests, as reported in
https://learn.microsoft.com/en-us/answers/questions/734143 and
https://learn.microsoft.com/en-us/answers/questions/1660054), and networks drop
connections — sometimes after the server did the work, which is why event
creation must be idempotent. Tests configure these per case; each fault matches
on method, a path regex and whether the request is a ``$batch`` item, and fires
a number of times or with a probability drawn from a seeded RNG (so runs are
reproducible).

The fault plan and the per-mailbox limiter are tenant-side state (tests set
them up on ``Sandbox.faults`` like users or events); ``graph/`` and ``server/``
consult them for each request, so this module imports nothing above it.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email.utils import formatdate

KINDS = ("status", "drop", "drop_after", "latency")

_DEFAULT_ERRORS = {
    # Graph's documented throttling answer.
    429: ("TooManyRequests", "Please retry again later."),
    500: ("generalException", "An unspecified error has occurred."),
    502: ("badGateway", "The service is temporarily unavailable."),
    503: ("serviceNotAvailable", "The service is temporarily unavailable. Please retry later."),
    504: ("timeout", "The operation timed out before completion."),
}


@dataclass
class Fault:
    """One configured fault; the handle returned by :meth:`FaultInjector.add`."""

    status: int
    kind: str = "status"
    path: re.Pattern | None = None
    method: str | None = None
    in_batch: bool | None = None
    times: int | None = 1
    probability: float | None = None
    retry_after: float | int | None = None
    retry_after_date: bool = False
    code: str | None = None
    message: str | None = None
    delay: float | None = None
    after: int = 0
    passed: int = 0
    fired: int = 0
    active: bool = True
    _injector: FaultInjector | None = field(default=None, repr=False)

    @property
    def remaining(self) -> int | None:
        return None if self.times is None else max(0, self.times - self.fired)

    def cancel(self) -> None:
        self.active = False

    def matches(self, method: str, path: str, in_batch: bool) -> bool:
        if not self.active or (self.times is not None and self.fired >= self.times):
            return False
        if self.method and self.method.upper() != method.upper():
            return False
        if self.in_batch is not None and self.in_batch != in_batch:
            return False
        return self.path is None or self.path.search(path) is not None

    def error(self) -> tuple[str, str]:
        code, message = _DEFAULT_ERRORS.get(self.status, ("UnknownError", "An error occurred."))
        return self.code or code, self.message or message

    def headers(self) -> dict:
        """``Retry-After`` in seconds, or as an HTTP date when ``retry_after_date``.

        RFC 9110 §10.2.3 allows both forms (``delay-seconds`` or ``HTTP-date``);
        Graph's throttling guidance ("Microsoft Graph throttling guidance",
        learn.microsoft.com/graph/throttling) tells clients to honour the header,
        and services behind Graph (SharePoint, Azure front doors) send either form,
        so a client must read both.
        """
        if self.retry_after is None:
            return {}
        value = self.retry_after
        if self.retry_after_date:
            return {"Retry-After": formatdate(time.time() + float(value), usegmt=True)}
        text = str(int(value)) if float(value).is_integer() else str(value)
        return {"Retry-After": text}


class FaultInjector:
    """The set of faults of one sandbox plus its per-mailbox concurrency limiter."""

    def __init__(self, rng_seed: int = 0):
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._rng = random.Random(rng_seed)
        # Outlook: at most 4 concurrent requests per app and mailbox; None disables.
        self.mailbox_concurrency: int | None = 4
        # Seconds advertised in Retry-After of ApplicationThrottled answers.
        self.concurrency_retry_after: float | int | None = 1
        self._inflight: Counter = Counter()
        # The highest number of requests in flight seen per (app, mailbox): what
        # tests read to show that jobs running together stay within the limit.
        self.peak: Counter = Counter()

    def add(
        self,
        status: int = 429,
        *,
        path: str | None = None,
        method: str | None = None,
        in_batch: bool | None = None,
        times: int | None = 1,
        probability: float | None = None,
        retry_after: float | int | None = None,
        retry_after_date: bool = False,
        code: str | None = None,
        kind: str = "status",
        delay: float | None = None,
        message: str | None = None,
        after: int = 0,
    ) -> Fault:
        """Add a fault.

        kind: "status" answers ``status`` with Graph's error body (``code`` and
        ``Retry-After`` optional; ``retry_after_date`` sends it as an HTTP date);
        "drop" closes the connection without an answer and without doing the work;
        "drop_after" does the work, then closes the connection; "latency" sleeps
        ``delay`` seconds then serves normally.
        ``times=None`` fires without limit; ``probability`` fires at random
        (seeded); ``after=N`` lets the first N matching requests through (a failure
        in the middle of a paged read). A drop matched by a batch item drops the
        whole ``$batch`` call.
        """
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {KINDS}")
        fault = Fault(
            status=status,
            kind=kind,
            path=re.compile(path) if path else None,
            method=method,
            in_batch=in_batch,
            times=times,
            probability=probability,
            retry_after=retry_after,
            retry_after_date=retry_after_date,
            code=code,
            message=message,
            delay=delay,
            after=after,
            _injector=self,
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self._inflight.clear()
            self.peak.clear()
        self.mailbox_concurrency = 4

    @property
    def faults(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def fire(self, method: str, path: str, in_batch: bool) -> tuple[float, Fault | None]:
        """Faults firing for one request: (extra latency, answering fault or None)."""
        delay, answer = 0.0, None
        with self._lock:
            for fault in self._faults:
                if not fault.matches(method, path, in_batch):
                    continue
                if fault.kind != "latency" and answer is not None:
                    continue
                if fault.probability is not None and self._rng.random() >= fault.probability:
                    continue
                if fault.passed < fault.after:
                    fault.passed += 1
                    continue
                fault.fired += 1
                if fault.kind == "latency":
                    delay += fault.delay or 0.0
                else:
                    answer = fault
        return delay, answer

    # -- per-mailbox concurrency --------------------------------------------------

    def acquire(self, key) -> bool:
        """Count one in-flight request for ``key`` (app, mailbox); False if over the limit."""
        with self._lock:
            limit = self.mailbox_concurrency
            if limit is not None and self._inflight[key] >= limit:
                return False
            self._inflight[key] += 1
            self.peak[key] = max(self.peak[key], self._inflight[key])
            return True

    def release(self, key) -> None:
        with self._lock:
            self._inflight[key] -= 1
            if self._inflight[key] <= 0:
                del self._inflight[key]

    def inflight(self, key) -> int:
        with self._lock:
            return self._inflight[key]
