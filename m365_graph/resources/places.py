"""Rooms: the tenant's room list, the room calendars, and the rooms' answers.

Why this file exists: the room job needs three reads, each with a Graph quirk:

* :func:`list_rooms` — ``GET /places/microsoft.graph.room`` (application
  ``Place.Read.All``; Graph docs "List places"). Graph answers 100 rooms per page
  unless ``$top`` asks for more; ``@odata.nextLink`` is followed. Only rooms with
  a room mailbox are listed, and a new room may take up to 48 hours to appear
  (microsoftgraph/microsoft-graph-docs#15460, #20558): the caller never deletes
  on one absence (:data:`m365_graph.sync.rooms.MISSING_GRACE`). A malformed room is
  skipped and reported, not fatal.
* :func:`read_room_calendars` — the calendarView of many rooms in ``$batch``
  (through :func:`~m365_graph.resources.busytime.read_busy_times`, with the room
  fields of :data:`~m365_graph.sync.rooms.BLOCK_SELECT`); a room whose mailbox
  refuses the application (an application access policy answers 403
  ``ErrorAccessDenied``) fails alone.
* :func:`read_room_answers` — the organiser's events in ``$batch`` with
  ``$select=attendees``: the booking assistant writes the room's answer into the
  room's attendee status there (Exchange ``Set-CalendarProcessing``,
  ``AutomateProcessing AutoAccept``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote

from ..core.client import GraphClient
from ..core.errors import BadResponse, GraphError
from ..core.types import ITEM_ERRORS, BatchRequest, SkippedItem, unreadable
from ..sync.rooms import BLOCK_SELECT, GraphRoom, RoomBlock
from .busytime import MailboxCalendar, read_busy_times
from .calendar import calendar_path

__all__ = ["RoomListing", "list_rooms", "read_room_answers", "read_room_calendars"]

PLACE_PERMISSION = "Place.Read.All"
#: Rooms asked per page (Graph's default page is 100 rooms).
ROOM_PAGE = 100


@dataclass
class RoomListing:
    rooms: list[GraphRoom] = field(default_factory=list)
    skipped: list[SkippedItem] = field(default_factory=list)
    pages: int = 0


def list_rooms(client: GraphClient, *, page_size: int = ROOM_PAGE) -> RoomListing:
    """Every room of the tenant (a complete listing, or a GraphError)."""
    listing = RoomListing()
    what = "Listing the tenant's rooms (/places/microsoft.graph.room)"
    for page in client.iter_pages(
        "/places/microsoft.graph.room",
        params={"$top": page_size},
        what=what,
        permission=PLACE_PERMISSION,
    ):
        listing.pages += 1
        for raw in page.items:
            ident = raw.get("id") if isinstance(raw, dict) else None
            try:
                listing.rooms.append(GraphRoom.from_graph(raw))
            except BadResponse as exc:
                listing.skipped.append(
                    SkippedItem(ident if isinstance(ident, str) else None, str(exc))
                )
            except ITEM_ERRORS as exc:
                listing.skipped.append(SkippedItem(None, unreadable(what, exc)))
    return listing


def read_room_calendars(
    client: GraphClient, rooms: Iterable[str], start: datetime, end: datetime, **kwargs
) -> dict[str, MailboxCalendar]:
    """``{room e-mail: MailboxCalendar}`` whose ``slots`` are :class:`RoomBlock`."""
    return read_busy_times(
        client, rooms, start, end, select=BLOCK_SELECT, parse=RoomBlock.from_graph, **kwargs
    )


def read_room_answers(
    client: GraphClient, events: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], dict | GraphError]:
    """``{(mailbox, event id): the event's attendees body, or the error}`` in ``$batch``."""
    wanted = list(dict.fromkeys(events))
    requests = [
        BatchRequest(
            id=str(i),
            method="GET",
            url=f"{calendar_path(mailbox)}/events/{quote(event_id, safe='')}?$select=attendees",
        )
        for i, (mailbox, event_id) in enumerate(wanted)
    ]
    out: dict[tuple[str, str], dict | GraphError] = {}
    if not requests:
        return out
    answers = client.batch(requests, what="Reading the rooms' answers ($batch)")
    for key, answer in zip(wanted, answers, strict=True):
        error = answer.error(
            f"Reading the room answers on an event of {key[0]}", "Calendars.ReadWrite"
        )
        if error is not None:
            out[key] = error
        elif isinstance(answer.body, dict):
            out[key] = answer.body
        else:
            out[key] = BadResponse("the event is not a JSON object")
    return out
