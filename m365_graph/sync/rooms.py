"""Rooms: what a Graph room is for Odoo, how a room calendar becomes busy blocks,
how an appointment books a room, and what the room answered (pure, no I/O).

Why this file exists: the room import, the room-calendar poll and the booking of
rooms from Odoo appointments all make decisions on Graph data — which Odoo room
a Graph room is (``plan_rooms``), what a booking in the room calendar shows in
Odoo (``RoomBlock``), the attendee entry of a room in an organiser's event
(``room_attendee``), the room's answer read back from that event
(``room_answer``) and whether a booking written directly into a room calendar
would double-book it (``conflicts``). The I/O half is
:mod:`m365_graph.resources.places`.

Graph facts these decisions follow:

* ``GET /places/microsoft.graph.room`` lists the tenant's rooms (Graph docs,
  "List places", and "room resource type"): ``id``, ``emailAddress``,
  ``displayName``, ``capacity``, ``building``, ``floorNumber``, ``floorLabel``,
  ``isWheelChairAccessible``, ``bookingType`` (``standard``: bookable;
  ``reserved``: first come, first served, not bookable), ``tags``…
* the room's ``id`` "isn't immutable and can change if the mailbox or tenant
  configuration changes" (room resource type, ``id``): a room is matched by its
  e-mail address first, its id second, so a changed id is not a new room;
* Places data lags behind Exchange: a new, renamed or deleted room may take up
  to 48 hours to show in ``/places`` (microsoftgraph/microsoft-graph-docs#15460,
  #7192, #20558; probits-as/MeetEasier#38, #44). A room missing from one
  complete listing is therefore only *marked* missing (its bookings are kept);
  it is archived after :data:`MISSING_GRACE` of absence;
* a room is booked like in Outlook: it is an attendee of type ``resource`` of
  the organiser's event; the room mailbox's booking assistant answers
  (Exchange ``Set-CalendarProcessing -AutomateProcessing AutoAccept``: accept
  when free, decline on conflict unless ``AllowConflicts``), and the answer is
  the attendee's ``status.response`` on the organiser's event;
* the copy of a booked meeting in the room calendar keeps the organiser's
  ``iCalUId``; its subject is, by default, the organiser's name
  (``DeleteSubject`` and ``AddOrganizerToSubject`` default to true).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..core.errors import BadResponse
from ..core.types import BusySlot, require_object

__all__ = [
    "BLOCK_SELECT",
    "MISSING_GRACE",
    "ROOM_VALUE_FIELDS",
    "GraphRoom",
    "RoomAnswer",
    "RoomBlock",
    "RoomPlan",
    "conflicts",
    "plan_rooms",
    "room_answer",
    "room_attendee",
]

#: A room absent from complete listings this long is archived (Places lags ~48 h).
MISSING_GRACE = timedelta(days=3)
#: What the poll reads of a room calendar: times, show-as, the organiser and the
#: subject (kept only if the room allows titles), the iCalUId to recognise the
#: appointments Odoo booked.
BLOCK_SELECT: tuple[str, ...] = (
    "subject",
    "start",
    "end",
    "isAllDay",
    "showAs",
    "sensitivity",
    "type",
    "organizer",
    "iCalUId",
    "isCancelled",
)
#: The Odoo-facing values of a room (what :meth:`GraphRoom.values` gives).
ROOM_VALUE_FIELDS: tuple[str, ...] = (
    "graph_id",
    "email",
    "name",
    "capacity",
    "building",
    "floor",
    "wheelchair",
    "bookable",
)
#: The answers a room gives (Graph ``responseType``), and what Odoo shows.
ANSWERS = ("none", "notResponded", "tentativelyAccepted", "accepted", "declined", "organizer")


def _text(obj: Mapping[str, Any], name: str) -> str | None:
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadResponse(f"room: {name!r} is not a string", field=name)
    value = value.strip()
    return value or None


def _int(obj: Mapping[str, Any], name: str) -> int | None:
    value = obj.get(name)
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None  # a label where a number was expected: left empty, not fatal


@dataclass(frozen=True)
class GraphRoom:
    """One room of ``/places/microsoft.graph.room``."""

    id: str
    email: str
    name: str
    capacity: int | None = None
    building: str | None = None
    floor_number: int | None = None
    floor_label: str | None = None
    wheelchair: bool = False
    bookable: bool = True
    tags: tuple[str, ...] = ()

    @property
    def floor(self) -> str | None:
        if self.floor_label:
            return self.floor_label
        return None if self.floor_number is None else str(self.floor_number)

    @classmethod
    def from_graph(cls, obj: Any) -> GraphRoom:
        obj = require_object(obj, "a room")
        ident = _text(obj, "id")
        # Graph documents ``emailAddress``; some tenants' answers were reported with
        # ``emailaddress``: accept both spellings.
        email = _text(obj, "emailAddress") or _text(obj, "emailaddress")
        if not ident:
            raise BadResponse("a room without an id", field="id")
        if not email or "@" not in email:
            raise BadResponse(f"room {ident}: no e-mail address (no room mailbox)", field="email")
        tags = obj.get("tags") or ()
        return cls(
            id=ident,
            email=email.lower(),
            name=_text(obj, "displayName") or email,
            capacity=_int(obj, "capacity"),
            building=_text(obj, "building"),
            floor_number=_int(obj, "floorNumber"),
            floor_label=_text(obj, "floorLabel"),
            wheelchair=obj.get("isWheelChairAccessible") is True,
            bookable=(obj.get("bookingType") or "standard") != "reserved",
            tags=tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else (),
        )

    def values(self) -> dict[str, Any]:
        """The Odoo-facing values of the room (what the import writes)."""
        return {
            "graph_id": self.id,
            "email": self.email,
            "name": self.name,
            "capacity": self.capacity or 0,
            "building": self.building or False,
            "floor": self.floor or False,
            "wheelchair": self.wheelchair,
            "bookable": self.bookable,
        }


@dataclass(frozen=True)
class Known:
    """A room Odoo already has: its record id and what matching needs."""

    id: int
    email: str
    graph_id: str | None
    values: Mapping[str, Any]
    missing_since: datetime | None = None
    active: bool = True


@dataclass
class RoomPlan:
    create: list[GraphRoom] = field(default_factory=list)
    update: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    seen: list[int] = field(default_factory=list)  # present again: clear "missing"
    missing: list[int] = field(default_factory=list)  # absent: mark missing (first time)
    archive: list[int] = field(default_factory=list)  # absent past the grace
    duplicates: list[str] = field(default_factory=list)  # e-mails listed twice


def plan_rooms(listed: Iterable[GraphRoom], known: Sequence[Known], now: datetime) -> RoomPlan:
    """What a *complete* room listing means for the rooms Odoo has.

    Matching: e-mail first (the id may change), then id (a renamed mailbox keeps
    its id for a while). A room listed twice is taken once (the first). Only
    changed values are written: a listing with no change plans nothing but
    ``seen`` for rooms that were missing.
    """
    plan = RoomPlan()
    by_email = {k.email.lower(): k for k in known}
    by_id = {k.graph_id: k for k in known if k.graph_id}
    matched: set[int] = set()
    emails: set[str] = set()
    for room in listed:
        if room.email in emails:
            plan.duplicates.append(room.email)
            continue
        emails.add(room.email)
        hit = by_email.get(room.email) or by_id.get(room.id)
        if hit is None or hit.id in matched:
            plan.create.append(room)
            continue
        matched.add(hit.id)
        changes = {k: v for k, v in room.values().items() if hit.values.get(k) != v}
        if not hit.active:
            changes["active"] = True
        if changes:
            plan.update.append((hit.id, changes))
        if hit.missing_since is not None:
            plan.seen.append(hit.id)
    for hit in known:
        if hit.id in matched or not hit.active:
            continue
        if hit.missing_since is None:
            plan.missing.append(hit.id)
        elif now - hit.missing_since >= MISSING_GRACE:
            plan.archive.append(hit.id)
    return plan


@dataclass(frozen=True)
class RoomBlock:
    """One booking in a room calendar, as Odoo shows it (aware UTC times)."""

    event_id: str
    start: datetime
    end: datetime
    all_day: bool
    show_as: str | None
    ical_uid: str | None
    organizer_name: str | None
    organizer_email: str | None
    subject: str | None
    private: bool

    def values(self, *, titles: bool) -> dict[str, Any]:
        """Odoo values; the subject only when the room allows titles and the
        booking is not private (a private meeting never shows its title)."""
        subject = self.subject if titles and not self.private else None
        return {
            "graph_event_id": self.event_id,
            "start": self.start.replace(tzinfo=None),
            "stop": self.end.replace(tzinfo=None),
            "allday": self.all_day,
            "show_as": self.show_as or "busy",
            "ical_uid": self.ical_uid or False,
            "organizer_name": self.organizer_name or False,
            "organizer_email": self.organizer_email or False,
            "subject": subject or False,
        }

    @classmethod
    def from_graph(cls, obj: Any) -> RoomBlock:
        slot = BusySlot.from_graph(obj)
        organizer = obj.get("organizer") if isinstance(obj.get("organizer"), dict) else {}
        address = organizer.get("emailAddress") if isinstance(organizer, dict) else None
        address = address if isinstance(address, dict) else {}
        name = address.get("name") if isinstance(address.get("name"), str) else None
        email = address.get("address") if isinstance(address.get("address"), str) else None
        subject = obj.get("subject") if isinstance(obj.get("subject"), str) else None
        uid = obj.get("iCalUId") if isinstance(obj.get("iCalUId"), str) else None
        return cls(
            event_id=slot.event_id,
            start=slot.start,
            end=slot.end,
            all_day=slot.is_all_day,
            show_as=slot.show_as,
            ical_uid=uid,
            organizer_name=(name or "").strip() or None,
            organizer_email=(email or "").strip().lower() or None,
            subject=(subject or "").strip() or None,
            private=(slot.sensitivity or "normal") in ("private", "confidential"),
        )


def room_attendee(email: str, name: str | None = None) -> dict[str, Any]:
    """The attendee entry that books a room (Outlook's own shape: type ``resource``)."""
    return {"emailAddress": {"address": email, "name": name or email}, "type": "resource"}


@dataclass(frozen=True)
class RoomAnswer:
    response: str  # one of ANSWERS
    at: datetime | None = None


def room_answer(event: Mapping[str, Any], email: str) -> RoomAnswer | None:
    """The room's answer on the organiser's event (``None``: the room is not an attendee).

    Addresses are compared without case: Exchange may return the room's address in
    another case than it was sent.
    """
    wanted = email.strip().lower()
    for attendee in event.get("attendees") or ():
        if not isinstance(attendee, dict):
            continue
        address = (attendee.get("emailAddress") or {}).get("address")
        if not isinstance(address, str) or address.strip().lower() != wanted:
            continue
        status = attendee.get("status") if isinstance(attendee.get("status"), dict) else {}
        response = status.get("response") if isinstance(status.get("response"), str) else "none"
        if response not in ANSWERS:
            response = "none"
        at = None
        when = status.get("time")
        if isinstance(when, str) and not when.startswith("0001-"):
            try:
                at = datetime.fromisoformat(when.replace("Z", "+00:00"))
            except ValueError:
                at = None
        return RoomAnswer(response, at)
    return None


def conflicts(
    start: datetime,
    end: datetime,
    blocks: Iterable[tuple[datetime, datetime, str | None]],
) -> bool:
    """True when ``[start, end)`` overlaps a block that is not free.

    ``blocks``: ``(start, end, show_as)`` of the room's other bookings. The rule
    of the booking assistant (AllowConflicts false): any overlap with a busy,
    tentative or out-of-office booking declines; touching ends do not overlap.
    """
    for low, high, show_as in blocks:
        if (show_as or "busy") == "free":
            continue
        if low < end and start < high:
            return True
    return False
