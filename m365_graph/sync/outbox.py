"""The decisions of the transactional outbox (no I/O).

Why this file exists: the addon writes every push to Outlook as an ``m365.outbox``
row in the same transaction as the Odoo change, and a cron drains the rows. What
to do with them is decided here, as pure functions tested without Odoo:

* :func:`coalesce` — several changes of one record before a drain become one
  operation (three edits → one PATCH; created then deleted before anything was
  sent → nothing at all);
* :class:`RetrySchedule` — when a failed row is tried again (exponential, honouring
  Graph's ``Retry-After``) and when the retry budget is spent (the row is then
  *failed*, shown to its owner, and retried only by hand);
* :func:`classify` — which failures are worth retrying, which wait for the user
  (a sign-in to renew), which fail at once (a missing permission, a request Graph
  refuses);
* :func:`resolve_conflict` — the rule applied when Outlook answers 412 to an
  update (the event changed there since Odoo last synchronised it).

:class:`PushOperation` is one write, :class:`PushResult` what became of it, and
:func:`plan_batches` cuts operations into ``$batch`` calls; sending them is
:func:`m365_graph.resources.outbox.push_operations` (creations carry their
``transactionId``, updates ``If-Match``; a 404 on a deletion is a success).

The conflict rule (documented for users in the addon's usage notes):

1. The side that changed since the last synchronisation wins. Odoo's side changed
   (there is an outbox row whose body differs from the one last sent); Outlook's
   side changed if the event read back differs, in what Odoo shows, from the
   version last synchronised (a new change key alone — e.g. Outlook recording a
   reminder dismissal — is not a change).
2. Both changed: the later change wins, comparing Outlook's
   ``lastModifiedDateTime`` with the moment the user saved in Odoo (recorded on
   the outbox row, not the time of the drain, nor Odoo's ``write_date`` which
   every sync bumps). Outlook's clock is first brought onto Odoo's with the
   offset measured on our own last write (Graph stamps it; we know when we sent
   it), so two servers' clocks are never compared blindly. Both stamps keep whole
   seconds and the offset is measured across a network round trip, so changes less
   than :data:`TIE` apart are a tie, and a tie goes to Odoo (the change in hand).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..core.errors import (
    AuthError,
    BadResponse,
    GraphError,
    GraphUnavailable,
    NotFound,
    PermissionMissing,
    PreconditionFailed,
    Throttled,
    Transient,
)
from ..core.timezones import as_utc
from ..core.types import GraphEvent

__all__ = [
    "OPERATIONS",
    "ConflictDecision",
    "PushOperation",
    "PushResult",
    "RetrySchedule",
    "classify",
    "clock_offset",
    "coalesce",
    "plan_batches",
    "resolve_conflict",
]

OPERATIONS = ("create", "update", "delete")

#: Graph refuses requests above 4 MB; a ``$batch`` counts all its bodies together.
MAX_BATCH_BYTES = 3_000_000
MAX_BATCH_ITEMS = 20
#: Changes closer than this are a tie in the 412 rule (see the module docstring).
TIE = timedelta(seconds=2)


# --------------------------------------------------------------------------- coalescing


def coalesce(pending: str, new: str, *, sent: bool = False) -> str | None:
    """The one operation that replaces a queued ``pending`` one followed by ``new``.

    ``sent`` says the pending operation was already tried (it may have reached
    Graph). ``None``: nothing is left to do.

    ========  ========  =====================================================
    pending   new       result
    ========  ========  =====================================================
    create    update    create (with the newest body)
    create    delete    nothing — unless the creation may have reached Graph
                        (``sent``): then delete
    update    update    update (one PATCH with the newest body)
    update    delete    delete
    delete    create    update (the record came back; its event still exists)
    delete    update    update
    x         x         x
    ========  ========  =====================================================
    """
    if pending not in OPERATIONS or new not in OPERATIONS:
        raise ValueError(f"unknown operation {pending!r} / {new!r}")
    if new == "delete":
        if pending == "create" and not sent:
            return None
        return "delete"
    if pending == "create":
        return "create"
    return "update"


# --------------------------------------------------------------------------- retries


@dataclass(frozen=True)
class RetrySchedule:
    """When a failed outbox row is tried again.

    The n-th failure waits ``first * 2**(n-1)``, at most ``longest``, and at least
    what Graph asked for in ``Retry-After``. With the defaults (1 min doubling to
    6 h, 14 tries) a row keeps trying for about 32 hours — an outage of several
    hours loses nothing — before it is marked failed.
    """

    first: timedelta = timedelta(minutes=1)
    longest: timedelta = timedelta(hours=6)
    budget: int = 14

    def delay(self, failures: int, retry_after: float | None = None) -> timedelta:
        """Wait after the ``failures``-th failure in a row (1 = first)."""
        step = self.first * (2 ** max(0, min(failures, 40) - 1))
        wait = min(step, self.longest)
        if retry_after is not None:
            wait = max(wait, timedelta(seconds=float(retry_after)))
        return wait

    def exhausted(self, failures: int) -> bool:
        return failures >= self.budget

    def total(self) -> timedelta:
        """How long a row keeps trying before it is marked failed."""
        return sum((self.delay(n) for n in range(1, self.budget)), timedelta(0))


#: What :func:`classify` answers.
RETRY, WAIT_ACCOUNT, FAIL = "retry", "wait_account", "fail"
#: Graph itself is unavailable (the job's circuit breaker opened): the row waits
#: and is sent by a later run, without spending one of its tries.
WAIT_GRAPH = "wait_graph"


def classify(error: GraphError) -> str:
    """``retry`` later, ``wait_account`` (the user must act), ``wait_graph`` (Graph is
    unavailable: wait without spending a try), or ``fail`` now."""
    if isinstance(error, GraphUnavailable):
        return WAIT_GRAPH
    if isinstance(error, AuthError):
        return WAIT_ACCOUNT  # sign-in expired or consent missing: nothing to retry yet
    if isinstance(error, PermissionMissing):
        return FAIL  # 403: an administrator must grant the named permission
    if isinstance(error, (Throttled, Transient, BadResponse, PreconditionFailed)):
        return RETRY
    # 424: a chained item did not run because the one before it failed.
    if error.status is not None and (error.status >= 500 or error.status in (408, 424, 429)):
        return RETRY
    if error.status is None:
        return RETRY  # no answer at all: a network problem
    return FAIL  # 400-style refusals do not get better by resending the same body


# --------------------------------------------------------------------------- conflicts


@dataclass(frozen=True)
class ConflictDecision:
    """``winner`` is ``"odoo"`` (send Odoo's version again) or ``"remote"`` (keep Outlook's)."""

    winner: str
    reason: str


def clock_offset(remote_stamp: datetime | None, sent_at: datetime) -> timedelta | None:
    """How far Graph's clock is ahead of ours, from the stamp Graph put on our own write."""
    if remote_stamp is None:
        return None
    return as_utc(remote_stamp) - as_utc(sent_at)


def resolve_conflict(
    *,
    odoo_changed: bool,
    remote_fingerprint: str | None,
    synced_fingerprint: str | None,
    remote_modified: datetime | None,
    odoo_changed_at: datetime,
    offset: timedelta | None = None,
    tolerance: timedelta = TIE,
) -> ConflictDecision:
    """Who wins after a 412 (see the module docstring for the rule)."""
    remote_changed = not synced_fingerprint or remote_fingerprint != synced_fingerprint
    if not remote_changed:
        return ConflictDecision("odoo", "only Odoo changed the appointment since the last sync")
    if not odoo_changed:
        return ConflictDecision(
            "remote", "only Outlook changed the appointment since the last sync"
        )
    if remote_modified is None:
        return ConflictDecision("odoo", "Outlook did not say when it changed the appointment")
    remote_local = as_utc(remote_modified) - (offset or timedelta(0))
    if remote_local > as_utc(odoo_changed_at) + tolerance:
        return ConflictDecision(
            "remote", "both changed the appointment; the change in Outlook is the more recent"
        )
    return ConflictDecision(
        "odoo", "both changed the appointment; the change in Odoo is the more recent"
    )


# --------------------------------------------------------------------------- operations


@dataclass(frozen=True)
class PushOperation:
    """One write to one calendar. ``key`` is the caller's (the outbox row id)."""

    key: str
    operation: str
    payload: Mapping[str, Any] | None = None
    event_id: str | None = None
    change_key: str | None = None
    transaction_id: str | None = None
    calendar_id: str | None = None

    def __post_init__(self) -> None:
        if self.operation not in OPERATIONS:
            raise ValueError(f"unknown operation {self.operation!r}")
        if self.operation == "create" and not self.transaction_id:
            raise ValueError("a creation needs a transactionId so that a resend is not doubled")
        if self.operation != "create" and not self.event_id:
            raise ValueError(f"an {self.operation} needs the event id")

    def size(self) -> int:
        return len(json.dumps(self.payload or {}, ensure_ascii=False).encode()) + 200


@dataclass(frozen=True)
class PushResult:
    """What became of one :class:`PushOperation`.

    ``event``: the event as Graph stored it (creations and updates); ``gone``: a
    deletion found the event already deleted; ``error``: the failure, in the
    taxonomy of :mod:`m365_graph.core.errors` (``PreconditionFailed`` for a 412, ``NotFound``
    when an updated event no longer exists).
    """

    key: str
    operation: str
    event: GraphEvent | None = None
    error: GraphError | None = None
    gone: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class _Chunk:
    items: list[PushOperation] = field(default_factory=list)
    size: int = 0


def plan_batches(
    operations: Sequence[PushOperation],
    *,
    max_items: int = MAX_BATCH_ITEMS,
    max_bytes: int = MAX_BATCH_BYTES,
) -> list[list[PushOperation]]:
    """Split into ``$batch`` calls of at most ``max_items`` and about ``max_bytes``."""
    chunks: list[_Chunk] = []
    current = _Chunk()
    for op in operations:
        size = op.size()
        if current.items and (len(current.items) >= max_items or current.size + size > max_bytes):
            chunks.append(current)
            current = _Chunk()
        current.items.append(op)
        current.size += size
    if current.items:
        chunks.append(current)
    return [chunk.items for chunk in chunks]


def is_conflict(error: GraphError | None) -> bool:
    return isinstance(error, PreconditionFailed)


def is_missing(error: GraphError | None) -> bool:
    return isinstance(error, NotFound)
