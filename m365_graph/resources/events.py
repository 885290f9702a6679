"""Creating, updating and deleting calendar events (activity export, personal sync).

Why this file exists: writes have Graph rules of their own (docs/architecture.md):

* creation sends a ``transactionId`` that is stable per Odoo record; if the
  connection drops after Graph accepted the POST, the retry carries the same id and
  Graph does not create a second event — this is what makes the POST safe to resend;
* updates send ``If-Match`` with the change key we last saw; 412 (or Outlook's 409
  ``ErrorIrresolvableConflict``) becomes :class:`~m365_graph.core.errors.PreconditionFailed`
  and the caller re-reads and decides again;
* the body comes from :mod:`m365_graph.sync.push` (``build_payload`` for Odoo
  appointments, ``event_payload`` for plain values);
* deleting an event that is already gone is not an error for a sync engine;
* checking many events at once (did it go, or did it only leave the pulled window?)
  goes through ``$batch``, 20 reads per round trip, and a 404 is an answer, not an
  error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

from ..core.client import GraphClient
from ..core.errors import BadResponse, GraphError, NotFound
from ..core.mailbox import UNIT_LANES
from ..core.types import BatchRequest, BatchResponse, GraphEvent, SkippedItem
from .calendar import calendar_path, read_permission, window_params

__all__ = [
    "batch_reads",
    "create_event",
    "delete_event",
    "get_event",
    "if_match",
    "list_instances",
    "read_events",
    "update_event",
    "write_permission",
]


def write_permission(client: GraphClient, mailbox: str) -> str:
    if client.kind == "delegated" and mailbox not in {"me", ""}:
        return "Calendars.ReadWrite.Shared"
    return "Calendars.ReadWrite"


def if_match(change_key: str) -> str:
    """``If-Match`` value for a change key: Graph's ETag is ``W/"<changeKey>"``."""
    if change_key.startswith(('W/"', '"')):
        return change_key
    return f'W/"{change_key}"'


def _event_path(mailbox: str, event_id: str) -> str:
    return f"{calendar_path(mailbox)}/events/{quote(event_id, safe='')}"


def create_event(
    client: GraphClient,
    mailbox: str,
    payload: Mapping[str, Any],
    *,
    transaction_id: str,
    calendar_id: str | None = None,
) -> GraphEvent:
    """Create an event; safe to retry thanks to ``transaction_id``."""
    if not transaction_id:
        raise ValueError("a transactionId is required so that a retried creation is not doubled")
    body = dict(payload)
    body["transactionId"] = transaction_id
    response = client.request(
        "POST",
        f"{calendar_path(mailbox, calendar_id)}/events",
        json=body,
        retry_safe=True,
        what=f"Creating an event in the calendar of {mailbox}",
        permission=write_permission(client, mailbox),
    )
    return GraphEvent.from_graph(response.json_object("Creating an event"))


def update_event(
    client: GraphClient,
    mailbox: str,
    event_id: str,
    changes: Mapping[str, Any],
    *,
    change_key: str | None,
) -> GraphEvent:
    """PATCH an event; with ``change_key`` a concurrent change raises ``PreconditionFailed``."""
    headers = {"If-Match": if_match(change_key)} if change_key else {}
    response = client.request(
        "PATCH",
        _event_path(mailbox, event_id),
        json=dict(changes),
        headers=headers,
        # Resending the same PATCH is harmless: at worst the If-Match no longer
        # matches our own first write, and the caller re-reads.
        retry_safe=True,
        what=f"Updating an event in the calendar of {mailbox}",
        permission=write_permission(client, mailbox),
    )
    if response.body is None:  # Prefer: return=minimal style answers
        return get_event(client, mailbox, event_id)
    return GraphEvent.from_graph(response.json_object("Updating an event"))


def delete_event(
    client: GraphClient, mailbox: str, event_id: str, *, change_key: str | None = None
) -> bool:
    """Delete an event; ``False`` if it was already gone."""
    headers = {"If-Match": if_match(change_key)} if change_key else {}
    try:
        client.request(
            "DELETE",
            _event_path(mailbox, event_id),
            headers=headers,
            what=f"Deleting an event in the calendar of {mailbox}",
            permission=write_permission(client, mailbox),
        )
    except NotFound:
        return False
    return True


def get_event(
    client: GraphClient, mailbox: str, event_id: str, *, select: Sequence[str] | None = None
) -> GraphEvent:
    """Read one event (after a 412, to decide again)."""
    params = {"$select": ",".join(select)} if select else None
    body = client.get_json(
        _event_path(mailbox, event_id),
        params=params,
        what=f"Reading an event in the calendar of {mailbox}",
        permission=write_permission(client, mailbox),
    )
    return GraphEvent.from_graph(body)


def read_events(
    client: GraphClient, mailbox: str, event_ids: Sequence[str]
) -> dict[str, GraphEvent | GraphError | None]:
    """Read several events through ``$batch``: ``{id: event, None if 404, or the error}``.

    Used to tell a deleted event (404) from one that only left a calendarView window.
    One failed read never stops the others; only a failure of ``$batch`` itself raises.
    """
    ids = list(dict.fromkeys(event_ids))
    if not ids:
        return {}
    what = f"Reading events in the calendar of {mailbox}"
    permission = read_permission(client, mailbox)
    answers = batch_reads(client, [_event_path(mailbox, event_id) for event_id in ids], what)
    out: dict[str, GraphEvent | GraphError | None] = {}
    for event_id, answer in zip(ids, answers, strict=True):
        if answer.status == 404:
            out[event_id] = None
            continue
        error = answer.error(what, permission)
        if error is not None:
            out[event_id] = error
            continue
        try:
            out[event_id] = GraphEvent.from_graph(answer.body)
        except BadResponse as exc:
            out[event_id] = exc
    return out


#: Parallel ``dependsOn`` chains of a read ``$batch`` to one mailbox: the share of a
#: unit holding the mailbox (a pull, an outbox batch), one request left to busy time.
READ_LANES = UNIT_LANES


def batch_reads(client: GraphClient, urls: Sequence[str], what: str) -> list[BatchResponse]:
    """GET ``urls`` of one mailbox through ``$batch``; answers in input order.

    Outlook allows 4 concurrent requests per mailbox and counts the items of a
    ``$batch`` as concurrent (Graph docs, "Microsoft Graph throttling limits", Outlook
    service limits), so 20 independent reads earn 16 ``429``: the reads go in 3
    ``dependsOn`` chains instead (``core.mailbox.UNIT_LANES``: one request of the
    mailbox stays free for busy time read by another worker). A read that fails (a 404
    is a normal answer here) makes the rest of its chain answer ``424 Failed
    Dependency`` (Graph docs, "Combine multiple HTTP requests using JSON batching"):
    those are sent again, in the next ``$batch``, until every read has its own answer.
    """
    answers: dict[int, BatchResponse] = {}
    pending = list(range(len(urls)))
    while pending:
        chunk, rest = pending[:20], pending[20:]
        requests = [
            BatchRequest(
                id=str(index),
                method="GET",
                url=urls[index],
                depends_on=(str(chunk[pos - READ_LANES]),) if pos >= READ_LANES else (),
            )
            for pos, index in enumerate(chunk)
        ]
        resend = []
        results = client.batch(requests, what=what)
        for pos, (index, answer) in enumerate(zip(chunk, results, strict=True)):
            if answer.status == 424 and pos >= READ_LANES:
                resend.append(index)  # its chain broke before it: ask again
            else:
                answers[index] = answer  # a chain's head always answers for itself
        pending = resend + rest
    return [answers[index] for index in range(len(urls))]


def list_instances(
    client: GraphClient,
    mailbox: str,
    series_id: str,
    start: datetime,
    end: datetime,
    *,
    page_size: int = 100,
    skipped: list[SkippedItem] | None = None,
) -> list[GraphEvent]:
    """The occurrences (and changed occurrences) of a series between ``start`` and ``end``.

    Each comes with its own id, change key and ``originalStart``: what an upload needs
    to link the appointments of an Odoo recurrence to Outlook's occurrences. An
    occurrence that cannot be read is left out (and added to ``skipped``).
    """
    what = f"Reading the occurrences of a series in the calendar of {mailbox}"
    out: list[GraphEvent] = []
    for item in client.iter_items(
        f"{_event_path(mailbox, series_id)}/instances",
        params=window_params(start, end),
        page_size=page_size,
        what=what,
        permission=read_permission(client, mailbox),
    ):
        try:
            out.append(GraphEvent.from_graph(item))
        except BadResponse as exc:
            if skipped is not None:
                ident = item.get("id") if isinstance(item, dict) else None
                skipped.append(SkippedItem(ident if isinstance(ident, str) else None, exc.message))
    return out
