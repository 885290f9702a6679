"""Sending the outbox's operations to a calendar through ``$batch``.

Why this file exists: the decisions about the outbox (what to send, when to retry,
who wins a 412) are pure and live in :mod:`m365_graph.sync.outbox`; this is the I/O
half. :func:`push_operations` sends the operations of one mailbox through ``$batch``
(20 per round trip, in :data:`LANES` ``dependsOn`` chains) and returns one typed
:class:`~m365_graph.sync.outbox.PushResult` each: creations carry their
``transactionId``, so resending a ``$batch`` whose answer was lost never creates a
second event; updates carry ``If-Match``; a 404 on a deletion is a success.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from ..core.client import GraphClient
from ..core.errors import BadResponse, GraphError, GraphUnavailable
from ..core.mailbox import UNIT_LANES
from ..core.types import BatchRequest, GraphEvent
from ..sync.outbox import PushOperation, PushResult, plan_batches
from .calendar import calendar_path
from .events import if_match, write_permission

__all__ = ["LANES", "push_operations"]

#: Parallel dependsOn chains per ``$batch``: the unit's share of Outlook's 4
#: concurrent requests per mailbox, the rest kept for busy time (core.mailbox).
LANES = UNIT_LANES


def _event_url(mailbox: str, calendar_id: str | None, event_id: str) -> str:
    return f"{calendar_path(mailbox, calendar_id)}/events/{quote(event_id, safe='')}"


def _request(mailbox: str, op: PushOperation, ident: str) -> BatchRequest:
    if op.operation == "create":
        body = dict(op.payload or {})
        body["transactionId"] = op.transaction_id
        return BatchRequest(
            id=ident,
            method="POST",
            url=f"{calendar_path(mailbox, op.calendar_id)}/events",
            body=body,
            # Safe to resend: Graph answers a known transactionId with the same event.
            retry_safe=True,
        )
    url = _event_url(mailbox, op.calendar_id, op.event_id)  # type: ignore[arg-type]
    if op.operation == "update":
        headers = {"If-Match": if_match(op.change_key)} if op.change_key else {}
        return BatchRequest(
            id=ident,
            method="PATCH",
            url=url,
            headers=headers,
            body=dict(op.payload or {}),
            retry_safe=True,
        )
    return BatchRequest(id=ident, method="DELETE", url=url)


def _lanes(requests: list[BatchRequest], lanes: int = LANES) -> list[BatchRequest]:
    """Chain the requests into ``lanes`` sequential ``dependsOn`` chains.

    Outlook allows 4 concurrent requests per app and mailbox, and counts the items
    of a ``$batch`` as concurrent: 20 independent writes to one calendar earn 16
    ``429 ApplicationThrottled``. Items chained with ``dependsOn`` run one after the
    other, so 3 chains (of 7, 7 and 6) leave one request of the mailbox to busy time
    running at the same time on another worker, and the batch still saves 19 of 20
    round trips. A failed item makes only the rest of its own chain answer 424;
    those are sent again.
    """
    return [
        dataclasses.replace(req, depends_on=(requests[i - lanes].id,)) if i >= lanes else req
        for i, req in enumerate(requests)
    ]


_VERBS = {"create": "Creating", "update": "Updating", "delete": "Deleting"}


def push_operations(
    client: GraphClient, mailbox: str, operations: Iterable[PushOperation]
) -> list[PushResult]:
    """Send ``operations`` to the calendar of ``mailbox`` (``"me"`` or a user id/UPN).

    One failed operation never stops the others; a failure of a whole ``$batch``
    call (outage, sign-in) is reported on each of its operations. When the client's
    circuit breaker opens (:class:`~m365_graph.core.errors.GraphUnavailable`), nothing
    more is sent: that chunk and every later one carry the error (``wait_graph``).
    """
    ops = list(operations)
    permission = write_permission(client, mailbox)
    results: list[PushResult] = []
    chunks = plan_batches(ops)
    for index, chunk in enumerate(chunks):
        requests = _lanes([_request(mailbox, op, str(i)) for i, op in enumerate(chunk)])
        what = f"Writing {len(chunk)} event(s) to the calendar of {mailbox}"
        try:
            answers = client.batch(requests, what=what)
        except GraphUnavailable as exc:
            for rest in chunks[index:]:
                results.extend(PushResult(op.key, op.operation, error=exc) for op in rest)
            break
        except GraphError as exc:
            results.extend(PushResult(op.key, op.operation, error=exc) for op in chunk)
            continue
        for op, answer in zip(chunk, answers, strict=True):
            results.append(_result(op, answer, mailbox, permission))
    return results


def _result(op: PushOperation, answer: Any, mailbox: str, permission: str) -> PushResult:
    what = f"{_VERBS[op.operation]} an event in the calendar of {mailbox}"
    if op.operation == "delete":
        if answer.status == 404:
            return PushResult(op.key, op.operation, gone=True)
        error = answer.error(what, permission)
        return PushResult(op.key, op.operation, error=error)
    error = answer.error(what, permission)
    if error is not None:
        return PushResult(op.key, op.operation, error=error)
    try:
        event = GraphEvent.from_graph(answer.body)
    except BadResponse as exc:
        return PushResult(op.key, op.operation, error=exc)
    return PushResult(op.key, op.operation, event=event)
