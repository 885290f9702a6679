"""Completing the recurring series of a ``calendarView/delta`` round (personal pull).

Why this file exists: real Graph sends the occurrences of a series as stubs in a
delta round and the series master in full (microsoftgraph/microsoft-graph-docs#1716,
#7632; microsoftgraph/microsoft-graph-docs-contrib#34), and may report a cancelled
occurrence only as a change of its master (microsoft-graph-docs pull request #4501).
:func:`complete_series` turns a round's items into full events:

* stubs take their content from the master of the same round
  (:func:`~m365_graph.sync.pull.resolve_series`); masters that were not in the round are
  read through ``$batch``, 20 per round trip (:func:`~m365_graph.resources.events.read_events`);
* with ``reread=True`` (an incremental round) the instances of every master in the
  round are read again through ``$batch`` over the pull window: they come in full
  and replace the stubs, and they are the complete list of that series' occurrences
  in the window — what Odoo has of the series and is not in it may be cancelled.

The first round of a mailbox lists every series with its master, so it costs no
extra round trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote, urlencode

from ..core.client import GraphClient
from ..core.errors import BadResponse, GraphError
from ..core.types import GraphEvent, SkippedItem
from ..sync.pull import changed_series, resolve_series
from .calendar import calendar_path, read_permission, window_params
from .events import batch_reads, read_events

__all__ = ["INSTANCES_PAGE", "SeriesCompletion", "complete_series", "read_instances"]

#: ``$top`` of an instances read (Outlook pages at most 1,000 events).
INSTANCES_PAGE = 1000


@dataclass
class SeriesCompletion:
    """A round's items with every series completed.

    ``items``: what the plan should see (stubs replaced by full occurrences);
    ``instances``: for each re-read series, the ids of its occurrences and
    exceptions in the window (``None`` when the master is gone: 404);
    ``skipped``: items that could not be completed, with the reason.
    """

    items: list[GraphEvent] = field(default_factory=list)
    instances: dict[str, set[str] | None] = field(default_factory=dict)
    skipped: list[SkippedItem] = field(default_factory=list)


def read_instances(
    client: GraphClient,
    mailbox: str,
    series_ids: Sequence[str],
    start: datetime,
    end: datetime,
) -> dict[str, list[GraphEvent] | GraphError | None]:
    """The instances of several series in ``[start, end)`` through ``$batch``.

    ``{series id: full occurrences and exceptions, None if 404, or the error}``. A
    series with more than one page of instances has its further pages followed.
    """
    ids = list(dict.fromkeys(series_ids))
    if not ids:
        return {}
    query = urlencode({**window_params(start, end), "$top": str(INSTANCES_PAGE)})
    root = calendar_path(mailbox)
    urls = [f"{root}/events/{quote(series_id, safe='')}/instances?{query}" for series_id in ids]
    what = f"Reading the occurrences of series in the calendar of {mailbox}"
    permission = read_permission(client, mailbox)
    out: dict[str, list[GraphEvent] | GraphError | None] = {}
    for series_id, answer in zip(ids, batch_reads(client, urls, what), strict=True):
        if answer.status == 404:
            out[series_id] = None
            continue
        error = answer.error(what, permission)
        if error is not None:
            out[series_id] = error
            continue
        try:
            out[series_id] = _instances(client, answer.body, what, permission)
        except (BadResponse, GraphError) as exc:
            out[series_id] = exc
    return out


def _instances(client: GraphClient, body, what: str, permission: str) -> list[GraphEvent]:
    if not isinstance(body, dict) or not isinstance(body.get("value"), list):
        raise BadResponse(f"{what}: the answer has no 'value' list", field="value")
    events = [GraphEvent.from_graph(item) for item in body["value"]]
    link = body.get("@odata.nextLink")
    while isinstance(link, str) and link:
        page = client.get_page(link, what=what, permission=permission)
        events.extend(GraphEvent.from_graph(item) for item in page.items)
        link = page.next_link
    return events


def complete_series(
    client: GraphClient,
    mailbox: str,
    items: Sequence[GraphEvent],
    start: datetime,
    end: datetime,
    *,
    reread: bool,
) -> SeriesCompletion:
    """Give every stub of a round its content; with ``reread`` re-read changed series.

    A failed read of a series (not a 404) raises its :class:`GraphError`: the round
    is not applied and the same delta link is read again next time, so no occurrence
    is lost behind an advanced link.
    """
    out = SeriesCompletion()
    resolution = resolve_series(items)
    if resolution.missing_masters:
        masters = read_events(client, mailbox, resolution.missing_masters)
        for answer in masters.values():
            if isinstance(answer, GraphError) and not isinstance(answer, BadResponse):
                raise answer
        resolution = resolve_series(items, masters)
    out.skipped.extend(resolution.skipped)
    events = {event.id: event for event in resolution.items}
    if reread:
        series = changed_series(resolution.items)
        for series_id, answer in read_instances(client, mailbox, series, start, end).items():
            if isinstance(answer, BadResponse):
                out.skipped.append(SkippedItem(series_id, f"its occurrences: {answer.message}"))
                continue
            if isinstance(answer, GraphError):
                raise answer
            if answer is None:
                out.instances[series_id] = None
                continue
            out.instances[series_id] = {event.id for event in answer}
            for event in answer:
                events[event.id] = event  # full, and newer than the stub
    out.items = list(events.values())
    return out
