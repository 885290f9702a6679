"""Thread-safe request counters of one Graph client.

Why this file exists: every ``m365.sync.run`` row records how many HTTP requests a
job made and how many were throttled; the busy-time reader runs batches from a
thread pool, so the counts are kept behind a lock and read as a snapshot.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, fields

__all__ = ["CounterSnapshot", "Counters"]


@dataclass(frozen=True)
class CounterSnapshot:
    """Counts at one moment.

    ``requests``: HTTP round trips to Graph (a ``$batch`` counts once);
    ``throttled``: 429/503 answers, including ``$batch`` sub-responses;
    ``retried``: requests or sub-requests sent again;
    ``batch_items``: sub-requests sent inside ``$batch`` (retries included);
    ``failed``: requests that ended in an error after retries.
    """

    requests: int = 0
    throttled: int = 0
    retried: int = 0
    batch_items: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class Counters:
    """Mutable, lock-protected counters; ``snapshot()`` returns a frozen copy."""

    _names = tuple(f.name for f in fields(CounterSnapshot))

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values = dict.fromkeys(self._names, 0)

    def add(self, **increments: int) -> None:
        with self._lock:
            for name, value in increments.items():
                if name not in self._values:
                    raise KeyError(f"unknown counter {name!r}")
                self._values[name] += value

    def snapshot(self) -> CounterSnapshot:
        with self._lock:
            return CounterSnapshot(**self._values)

    def reset(self) -> None:
        with self._lock:
            self._values = dict.fromkeys(self._names, 0)

    def __getattr__(self, name: str) -> int:
        if name in Counters._names:
            with self._lock:
                return self._values[name]
        raise AttributeError(name)
