"""Odoo appointments → the Graph event body pushed to Outlook ("Up" and "Both").

Why this file exists: the architecture (docs/architecture.md) keeps mapping out of
the Odoo models. The addon
describes an appointment (or, next, a planned activity) with plain values —
:class:`Appointment` — and this module turns it into the JSON body of a Graph
``POST``/``PATCH``, plus a digest of that body (:func:`payload_hash`) so that a
change Odoo makes that Outlook would not see (a follower added, an alarm moved)
sends nothing, and a second push of the same values is recognised.

Mapping rules, and the bad input each one survives:

* ``subject``: the name, stripped; ``"(No title)"`` when empty; Outlook keeps at
  most 255 characters, longer names are cut (with a warning).
* Times are sent as the wall-clock time *in the user's zone*, with that zone's
  Windows name (Outlook stores event and series zones that way; the table is
  tzlocal's CLDR copy, see :mod:`m365_graph.core.timezones`), so that a weekly series keeps its
  09:00 across daylight-saving changes. An unknown zone falls back to UTC (with a
  warning), never to a crash.
* No end: the event is sent one hour long (Odoo's default duration); an end
  before the start becomes a zero-length event (Outlook accepts those).
* All-day events: Outlook wants midnight to midnight in the event's zone, the end
  exclusive — Odoo's inclusive last day plus one.
* ``body``: Odoo's HTML description as an HTML body (an empty description clears
  Outlook's body). Graph refuses requests above 4 MB and ``$batch`` counts all
  20 bodies together, so a description longer than :data:`MAX_BODY_CHARS` is cut
  at a tag boundary and says so.
* ``showAs``: Odoo's free/busy; ``sensitivity``: ``private`` for private
  appointments, ``normal`` otherwise; ``categories``: the tag names; location by
  display name. These are always sent, so clearing them in Odoo clears Outlook.
* Attendees: Graph sends meeting requests as soon as an event with attendees is
  created in the organiser's calendar, and update notices on every change. By
  default no ``attendees`` property is sent at all — the event sits in the
  organiser's calendar, nobody receives mail, and attendees added in Outlook are
  never wiped by an update. With ``send_invitations`` the attendees (without the
  organiser) are sent; one without a usable e-mail address is left out with a
  warning and the event is pushed anyway.
* Recurrence: Odoo's rule → Graph's ``patternedRecurrence`` (:mod:`.recurrence`),
  whose ``startDate`` is the first occurrence's date in the same zone.
* Teams: ``online_meeting`` ``True`` asks Graph for a Teams meeting
  (``isOnlineMeeting``, ``onlineMeetingProvider: teamsForBusiness``), ``False``
  switches it off, ``None`` (the default) sends neither, so a meeting made in
  Outlook is left alone (:func:`m365_graph.sync.rules.teams_fields`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..core.timezones import as_utc, iana_to_windows, to_graph_datetime
from .recurrence import Recurrence, to_graph
from .rooms import room_attendee
from .rules import teams_fields

__all__ = [
    "DEFAULT_DURATION",
    "MAX_BODY_CHARS",
    "MAX_SUBJECT_CHARS",
    "NO_TITLE",
    "Appointment",
    "Attendee",
    "BuiltPayload",
    "build_payload",
    "event_payload",
    "html_is_empty",
    "occurrence_payload",
    "payload_hash",
]

NO_TITLE = "(No title)"
MAX_SUBJECT_CHARS = 255
#: Longest description sent (characters). 20 such bodies in one ``$batch`` stay
#: well below Graph's 4 MB request limit.
MAX_BODY_CHARS = 100_000
TRUNCATED_NOTE = "<p><i>(The description was shortened; the full text is in Odoo.)</i></p>"
#: Odoo's default appointment duration, used when an appointment has no end.
DEFAULT_DURATION = timedelta(hours=1)

_TAG = re.compile(r"<[^>]*>")
_OPEN_TAG_AT_END = re.compile(r"<[^>]*$")
_EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
_GRAPH_TIME = "%Y-%m-%dT%H:%M:%S.0000000"


@dataclass(frozen=True)
class Attendee:
    """Someone invited to the appointment (the organiser is left out by the caller or here)."""

    name: str | None
    email: str | None
    optional: bool = False


@dataclass(frozen=True)
class Appointment:
    """An appointment as plain values (Odoo's conventions: naive datetimes are UTC).

    ``stop_date`` is the *inclusive* last day of an all-day appointment, as Odoo
    stores it. ``time_zone`` is an IANA name (the user's ``tz``). ``recurrence``
    makes the body a series master whose first occurrence is this appointment.
    """

    subject: str | None
    start: datetime | None
    stop: datetime | None = None
    all_day: bool = False
    start_date: date | None = None
    stop_date: date | None = None
    time_zone: str | None = None
    description: str | None = None
    location: str | None = None
    show_as: str | None = "busy"
    private: bool = False
    categories: Sequence[str] = ()
    attendees: Sequence[Attendee] = ()
    organizer_email: str | None = None
    recurrence: Recurrence | None = None
    first_day_of_week: str = "monday"
    online_meeting: bool | None = None
    #: Rooms booked by the appointment (e-mail of the room mailbox, name): sent as
    #: attendees of type ``resource``, as Outlook books a room.
    rooms: Sequence[Attendee] = ()
    #: Send ``attendees`` even without rooms or invitations (the last room was
    #: removed: the room must be released).
    manage_attendees: bool = False


@dataclass(frozen=True)
class BuiltPayload:
    """The Graph body, its digest, the zone used and what had to be adapted."""

    payload: dict[str, Any]
    hash: str
    time_zone: str
    warnings: tuple[str, ...] = field(default=())


def payload_hash(payload: Mapping[str, Any]) -> str:
    """Digest of a body: same values, same digest (key order and ``transactionId`` ignored)."""
    clean = {k: v for k, v in payload.items() if k != "transactionId"}
    text = json.dumps(clean, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def html_is_empty(text: str | None) -> bool:
    """True for ``None``, ``""`` and markup without text (Odoo's ``<p><br></p>``)."""
    if not text:
        return True
    if re.search(r"<(img|video|iframe|table)\b", text, re.I):
        return False
    return not _TAG.sub("", text).replace("&nbsp;", " ").strip()


def _zone(name: str | None, warnings: list[str]) -> tuple[Any, str, str]:
    """``(tzinfo, name sent to Graph, IANA name)`` for the user's zone, UTC if unknown."""
    clean = (name or "").strip()
    if not clean or clean.upper() in {"UTC", "ETC/UTC", "GMT"}:
        return timezone.utc, "UTC", "UTC"
    try:
        tz = ZoneInfo(clean)
    except (ZoneInfoNotFoundError, ValueError):
        warnings.append(f"unknown time zone {clean!r}: times were sent in UTC")
        return timezone.utc, "UTC", "UTC"
    return tz, iana_to_windows(clean) or clean, clean


def _wall(moment: datetime, tz: Any, zone_name: str) -> dict[str, str]:
    local = as_utc(moment).astimezone(tz).replace(tzinfo=None)
    return {"dateTime": local.strftime(_GRAPH_TIME), "timeZone": zone_name}


def _midnight(day: date, zone_name: str) -> dict[str, str]:
    return {"dateTime": f"{day.isoformat()}T00:00:00.0000000", "timeZone": zone_name}


def _subject(text: str | None, warnings: list[str]) -> str:
    subject = " ".join((text or "").split()) or NO_TITLE
    if len(subject) > MAX_SUBJECT_CHARS:
        warnings.append(f"the title was cut to {MAX_SUBJECT_CHARS} characters")
        subject = subject[: MAX_SUBJECT_CHARS - 1].rstrip() + "…"
    return subject


def _body(description: str | None, warnings: list[str]) -> dict[str, str]:
    if html_is_empty(description):
        return {"contentType": "html", "content": ""}
    content = str(description)
    if len(content) > MAX_BODY_CHARS:
        cut = _OPEN_TAG_AT_END.sub("", content[:MAX_BODY_CHARS])
        content = cut + TRUNCATED_NOTE
        warnings.append(
            f"the description ({len(str(description)):,} characters) was shortened to "
            f"{MAX_BODY_CHARS:,} characters"
        )
    return {"contentType": "html", "content": content}


def _attendees(appt: Appointment, warnings: list[str]) -> list[dict[str, Any]]:
    organizer = (appt.organizer_email or "").strip().lower()
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for person in appt.attendees:
        address = (person.email or "").strip()
        if not address or not _EMAIL.match(address):
            who = person.name or "an attendee"
            warnings.append(f"{who} has no usable e-mail address and was not invited")
            continue
        key = address.lower()
        if key == organizer or key in seen:
            continue
        seen.add(key)
        out.append(
            {
                "emailAddress": {"address": address, "name": person.name or address},
                "type": "optional" if person.optional else "required",
            }
        )
    return out


def _timing(appt: Appointment, tz: Any, zone_name: str, warnings: list[str]) -> dict[str, Any]:
    if appt.all_day:
        first = appt.start_date or (appt.start.date() if appt.start else None)
        if first is None:
            raise ValueError("the appointment has no start date")
        last = appt.stop_date or (appt.stop.date() if appt.stop else first)
        if last < first:
            warnings.append("the last day was before the first day: sent as a one-day event")
            last = first
        return {
            "isAllDay": True,
            # Outlook's all-day end is exclusive: a one-day event ends the next midnight.
            "start": _midnight(first, zone_name),
            "end": _midnight(last + timedelta(days=1), zone_name),
        }
    if appt.start is None:
        raise ValueError("the appointment has no start")
    start = as_utc(appt.start)
    if appt.stop is None:
        warnings.append("the appointment had no end: sent as one hour long")
        stop = start + DEFAULT_DURATION
    else:
        stop = as_utc(appt.stop)
        if stop < start:
            warnings.append("the end was before the start: sent as a zero-length event")
            stop = start
    return {
        "isAllDay": False,
        "start": _wall(start, tz, zone_name),
        "end": _wall(stop, tz, zone_name),
    }


def _first_local_date(appt: Appointment, tz: Any) -> date:
    if appt.all_day:
        return appt.start_date or appt.start.date()  # type: ignore[union-attr]
    return as_utc(appt.start).astimezone(tz).date()  # type: ignore[arg-type]


def build_payload(appt: Appointment, *, send_invitations: bool = False) -> BuiltPayload:
    """The Graph event body for ``appt``; ``ValueError`` only when it has no start at all."""
    warnings: list[str] = []
    tz, zone_name, iana = _zone(appt.time_zone, warnings)
    payload: dict[str, Any] = {"subject": _subject(appt.subject, warnings)}
    payload.update(_timing(appt, tz, zone_name, warnings))
    payload["body"] = _body(appt.description, warnings)
    payload["location"] = {"displayName": (appt.location or "").strip()}
    payload["showAs"] = "free" if (appt.show_as or "").lower() == "free" else "busy"
    payload["sensitivity"] = "private" if appt.private else "normal"
    payload["categories"] = sorted({c.strip() for c in appt.categories if c and c.strip()})
    if send_invitations or appt.rooms or appt.manage_attendees:
        people = _attendees(appt, warnings) if send_invitations else []
        booked = {(a["emailAddress"]["address"] or "").lower() for a in people}
        for room in appt.rooms:
            if room.email and room.email.lower() not in booked:
                booked.add(room.email.lower())
                people.append(room_attendee(room.email, room.name))
        payload["attendees"] = people
        if appt.rooms and not payload["location"]["displayName"]:
            payload["location"] = {"displayName": "; ".join(r.name or r.email for r in appt.rooms)}
    if appt.online_meeting is not None:
        payload.update(teams_fields(appt.online_meeting))
    if appt.recurrence is not None:
        payload["recurrence"] = to_graph(
            appt.recurrence,
            _first_local_date(appt, tz),
            time_zone=None if iana == "UTC" else iana,
            first_day_of_week=appt.first_day_of_week,
        )
    return BuiltPayload(payload, payload_hash(payload), zone_name, tuple(warnings))


def occurrence_payload(built: BuiltPayload) -> dict[str, Any]:
    """The body for one changed occurrence of a series (an occurrence has no recurrence)."""
    return {k: v for k, v in built.payload.items() if k != "recurrence"}


def event_payload(
    subject: str,
    start: datetime,
    end: datetime,
    *,
    body: str | None = None,
    body_type: str = "text",
    location: str | None = None,
    categories: Sequence[str] = (),
    show_as: str = "busy",
    is_all_day: bool = False,
    sensitivity: str | None = None,
    reminder_minutes: int | None = None,
) -> dict[str, Any]:
    """A Graph event body from plain values (datetimes aware or naive UTC)."""
    payload: dict[str, Any] = {
        "subject": subject,
        "start": to_graph_datetime(start),
        "end": to_graph_datetime(end),
        "showAs": show_as,
        "isAllDay": is_all_day,
    }
    if body is not None:
        payload["body"] = {"contentType": body_type, "content": body}
    if location:
        payload["location"] = {"displayName": location}
    if categories:
        payload["categories"] = list(categories)
    if sensitivity:
        payload["sensitivity"] = sensitivity
    if reminder_minutes is not None:
        payload["isReminderOn"] = True
        payload["reminderMinutesBeforeStart"] = int(reminder_minutes)
    return payload
