"""Reading one calendar: calendarView pages and calendarView delta.

Why this file exists: personal sync and single-mailbox reads go through the same two
Graph endpoints, each with quirks worth keeping in one place:

* ``calendarView`` expands recurring series into occurrences between
  ``startDateTime`` and ``endDateTime`` (UTC, ``Z``), and accepts ``$select`` —
  busy-time reads use it so titles and bodies never leave Microsoft.
* ``calendarView/delta`` needs the window on the first call only and keeps it for
  the whole round; it accepts no ``$select``/``$filter``. Items that leave the
  window come back as ``@removed``. An expired token answers 410 (or 400)
  ``syncStateNotFound``: a new round starts and replays known items.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from urllib.parse import quote

from ..core.client import GraphClient
from ..core.errors import BadResponse
from ..core.timezones import format_query_datetime
from ..core.types import BusySlot, DeltaResult, GraphEvent, Page, SkippedItem

__all__ = [
    "BUSY_SELECT",
    "BUSY_SELECT_WITH_RESPONSE",
    "calendar_path",
    "calendar_view",
    "calendar_view_delta",
    "read_permission",
]

# Privacy (docs/architecture.md): busy time reads exactly these properties, nothing else.
# ``responseStatus`` is the mailbox owner's own answer: a declined invitation that
# Outlook keeps in the calendar (the user's "keep declined meetings" choice) is never
# busy time, a tentative one counts on the user's option (``sync.rules``). Still no
# title, body, location or attendee.
BUSY_SELECT: tuple[str, ...] = (
    "start",
    "end",
    "showAs",
    "categories",
    "isAllDay",
    "sensitivity",
    "type",
    "responseStatus",
)

#: The same set; the name the busy-only mirror was written against.
BUSY_SELECT_WITH_RESPONSE: tuple[str, ...] = BUSY_SELECT


def calendar_path(mailbox: str, calendar_id: str | None = None) -> str:
    """``/users/{mailbox}`` or ``/me`` plus ``/calendars/{id}`` when a calendar is given."""
    root = "/me" if mailbox in {"me", "", None} else f"/users/{quote(mailbox, safe='@')}"
    if calendar_id:
        return f"{root}/calendars/{quote(calendar_id, safe='')}"
    return root


def read_permission(client: GraphClient, mailbox: str) -> str:
    """The permission a calendar read needs, in the words of the permission table."""
    if client.kind == "delegated":
        # Reading one's own calendar needs Calendars.Read (what a Down account holds).
        return "Calendars.Read" if mailbox in {"me", ""} else "Calendars.ReadWrite.Shared"
    return "Calendars.ReadBasic.All"


def window_params(start: datetime, end: datetime) -> dict[str, str]:
    if end <= start:
        raise ValueError("the calendar window must end after it starts")
    return {
        "startDateTime": format_query_datetime(start),
        "endDateTime": format_query_datetime(end),
    }


def calendar_view(
    client: GraphClient,
    mailbox: str,
    start: datetime,
    end: datetime,
    *,
    select: Sequence[str] = BUSY_SELECT,
    page_size: int = 100,
    calendar_id: str | None = None,
    skipped: list[SkippedItem] | None = None,
) -> list[BusySlot]:
    """Busy slots of one mailbox between ``start`` and ``end`` (all pages).

    Malformed items are left out and appended to ``skipped`` when given.
    """
    params = window_params(start, end)
    params["$select"] = ",".join(select)
    slots: list[BusySlot] = []
    for page in client.iter_pages(
        f"{calendar_path(mailbox, calendar_id)}/calendarView",
        params=params,
        page_size=page_size,
        what=f"Reading the calendar of {mailbox}",
        permission=read_permission(client, mailbox),
    ):
        for raw in page.items:
            try:
                slots.append(BusySlot.from_graph(raw))
            except BadResponse as exc:
                if skipped is not None:
                    ident = raw.get("id") if isinstance(raw, dict) else None
                    skipped.append(
                        SkippedItem(ident if isinstance(ident, str) else None, exc.message)
                    )
    return slots


def calendar_view_delta(
    client: GraphClient,
    mailbox: str,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    delta_link: str | None = None,
    resume_link: str | None = None,
    calendar_id: str | None = None,
    page_size: int | None = 50,
    restart_on_expired: bool = True,
    on_page: Callable[[Page], None] | None = None,
) -> DeltaResult[GraphEvent]:
    """One calendarView delta round (personal sync).

    ``start``/``end`` are required for a new round (and to restart after expiry);
    they are fixed for the round and carried by the links afterwards.
    """
    params = window_params(start, end) if start and end else None
    if params is None and not (delta_link or resume_link):
        raise ValueError("a new calendarView delta round needs startDateTime and endDateTime")
    if params is None:
        restart_on_expired = False  # no window to start a new round with
    return client.delta_round(
        f"{calendar_path(mailbox, calendar_id)}/calendarView/delta",
        parse=GraphEvent.from_graph,
        params=params,
        delta_link=delta_link,
        resume_link=resume_link,
        page_size=page_size,
        what=f"Reading calendar changes of {mailbox}",
        permission=read_permission(client, mailbox),
        restart_on_expired=restart_on_expired,
        on_page=on_page,
    )
