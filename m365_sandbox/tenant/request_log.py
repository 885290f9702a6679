"""What the sandbox was asked: one record per HTTP request and per ``$batch`` item.

Tests assert on client behaviour through it: how many requests a sync made,
whether retries honoured ``Retry-After``, that ``Prefer`` headers were sent,
that batch items went to the right mailbox. It is thread-safe (the server
answers from many threads) and can be cleared between steps.

It is tenant-side (like the audit log of a real tenant) so that the handler
context, which carries it to ``graph/`` and ``server/``, stays in the bottom
layer; ``HeaderDict``, the case-insensitive headers it records, lives here for
the same reason.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field


class HeaderDict(dict):
    """A dict of headers whose lookups ignore case (keys are stored lower-case)."""

    def __init__(self, items=()):
        super().__init__()
        pairs = items.items() if isinstance(items, dict) else items
        for key, value in pairs:
            super().__setitem__(str(key).lower(), value)

    def __getitem__(self, key):
        return super().__getitem__(str(key).lower())

    def __setitem__(self, key, value):
        super().__setitem__(str(key).lower(), value)

    def __contains__(self, key):
        return super().__contains__(str(key).lower())

    def get(self, key, default=None):
        return super().get(str(key).lower(), default)


@dataclass
class LogRecord:
    method: str
    path: str  # always the full path, e.g. /v1.0/users/{id}/events, also for batch items
    query: dict
    headers: HeaderDict
    status: int = 0
    in_batch: bool = False
    mailbox: str | None = None  # Graph user id of the mailbox addressed, if any
    request_id: str = ""
    batch_item_id: str | None = None
    started: float = 0.0
    duration: float = 0.0
    fault: str | None = None  # kind of injected fault that answered, if any
    extra: dict = field(default_factory=dict)


class RequestLog:
    """Thread-safe, list-like log of :class:`LogRecord`."""

    def __init__(self):
        self._records: list[LogRecord] = []
        self._lock = threading.Lock()

    def append(self, record: LogRecord) -> None:
        with self._lock:
            self._records.append(record)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def records(self) -> list[LogRecord]:
        with self._lock:
            return list(self._records)

    def __iter__(self) -> Iterator[LogRecord]:
        return iter(self.records())

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def __getitem__(self, index):
        with self._lock:
            return self._records[index]

    def filter(
        self,
        path_regex: str | None = None,
        in_batch: bool | None = None,
        method: str | None = None,
        status: int | None = None,
        mailbox: str | None = None,
    ) -> list[LogRecord]:
        pattern = re.compile(path_regex) if path_regex else None
        return [
            r
            for r in self.records()
            if (pattern is None or pattern.search(r.path))
            and (in_batch is None or r.in_batch == in_batch)
            and (method is None or r.method.upper() == method.upper())
            and (status is None or r.status == status)
            and (mailbox is None or r.mailbox == mailbox)
        ]

    def count(
        self,
        path_regex: str | None = None,
        in_batch: bool | None = None,
        method: str | None = None,
        status: int | None = None,
        mailbox: str | None = None,
    ) -> int:
        return len(self.filter(path_regex, in_batch, method, status, mailbox))
