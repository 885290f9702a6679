"""At most N requests in flight per mailbox, across the threads of one process.

Why this file exists: Outlook throttles per app *and mailbox* — 4 concurrent
requests (docs/architecture.md, "Microsoft Graph rules"). A thread pool pushing events or
reading calendars can easily put a fifth request on the same mailbox and earn a
429 for all of them. :class:`MailboxLimiter` hands out per-mailbox slots;
``$batch`` requests take one slot per sub-request for each mailbox they touch (Graph
counts sub-requests individually), capped at the limit so a batch with many items
for one mailbox still proceeds. Slots are always taken in sorted mailbox order, so
two batches cannot deadlock each other.

The limiter counts one process's requests only; the budget below is what keeps the
jobs within Graph's limit *together*, across processes and servers: busy time
reads at most :data:`BUSY_SHARE` request per mailbox at a time (one calendarView
per mailbox per ``$batch``, shards cover disjoint users), and every unit that
targets one mailbox (a personal pull, an outbox batch) holds that mailbox's
PostgreSQL advisory lock in the addon — one such unit per mailbox at a time — and
sends at most :data:`UNIT_LANES` requests to it at once (``dependsOn`` lanes of
its ``$batch`` calls). 1 + 3 ≤ 4: Microsoft Graph throttling limits, Outlook
service limits, https://learn.microsoft.com/en-us/graph/throttling-limits#outlook-service-limits
("4 concurrent requests" per app and mailbox; ``$batch`` items count each).
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from urllib.parse import unquote, urlsplit

__all__ = ["BUSY_SHARE", "MAILBOX_CONCURRENCY", "UNIT_LANES", "MailboxLimiter", "mailbox_of"]

#: Outlook's limit: concurrent requests per app and mailbox.
MAILBOX_CONCURRENCY = 4
#: The share of busy time (one calendarView per mailbox in flight).
BUSY_SHARE = 1
#: The share of the one unit (pull or outbox batch) that holds a mailbox's lock.
UNIT_LANES = MAILBOX_CONCURRENCY - BUSY_SHARE

# /users/{id|upn}/<mailbox resource>…  or /me/<mailbox resource>…
_USER_PATH = re.compile(r"^/(?:v1\.0/|beta/)?users/([^/?]+)/([^/?]+)", re.IGNORECASE)
_ME_PATH = re.compile(r"^/(?:v1\.0/|beta/)?me/([^/?]+)", re.IGNORECASE)
_MAILBOX_SEGMENTS = frozenset(
    {
        "events",
        "calendar",
        "calendars",
        "calendarview",
        "calendargroups",
        "messages",
        "mailfolders",
        "contacts",
        "contactfolders",
        "mailboxsettings",
        "findmeetingtimes",
        "getschedule",
        "outlook",
    }
)


def mailbox_of(url: str) -> str | None:
    """The mailbox a request touches (``"me"`` for ``/me/…``), or ``None`` (directory…)."""
    path = urlsplit(url).path if "://" in url else url.split("?", 1)[0]
    match = _USER_PATH.match(path)
    if match and match.group(2).lower() in _MAILBOX_SEGMENTS:
        return unquote(match.group(1)).lower()
    match = _ME_PATH.match(path)
    if match and match.group(1).lower() in _MAILBOX_SEGMENTS:
        return "me"
    return None


class MailboxLimiter:
    """Per-mailbox counting semaphores, created on demand."""

    def __init__(self, limit: int = MAILBOX_CONCURRENCY):
        if limit < 1:
            raise ValueError("the per-mailbox limit must be at least 1")
        self.limit = limit
        self._lock = threading.Lock()
        self._semaphores: dict[str, threading.BoundedSemaphore] = {}
        self._in_flight: Counter[str] = Counter()
        self.peak = 0  # highest in-flight count seen for any one mailbox

    def _semaphore(self, mailbox: str) -> threading.BoundedSemaphore:
        with self._lock:
            sem = self._semaphores.get(mailbox)
            if sem is None:
                sem = self._semaphores[mailbox] = threading.BoundedSemaphore(self.limit)
            return sem

    @contextmanager
    def hold(self, mailboxes: Iterable[str | None]) -> Iterator[None]:
        """Hold one slot per occurrence of each mailbox (capped at the limit)."""
        wanted = Counter(m for m in mailboxes if m)
        plan = [(m, min(n, self.limit)) for m, n in sorted(wanted.items())]
        taken: list[tuple[str, int]] = []
        try:
            for mailbox, count in plan:
                sem = self._semaphore(mailbox)
                for _ in range(count):
                    sem.acquire()
                taken.append((mailbox, count))
                with self._lock:
                    self._in_flight[mailbox] += count
                    self.peak = max(self.peak, self._in_flight[mailbox])
            yield
        finally:
            for mailbox, count in reversed(taken):
                with self._lock:
                    self._in_flight[mailbox] -= count
                    if not self._in_flight[mailbox]:
                        del self._in_flight[mailbox]
                sem = self._semaphore(mailbox)
                for _ in range(count):
                    sem.release()
