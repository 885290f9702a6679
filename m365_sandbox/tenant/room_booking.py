"""The resource booking assistant of room mailboxes (Exchange calendar processing).

Why this file exists: in Exchange Online a room is booked by inviting its mailbox
to a meeting; the room's *resource booking assistant* answers the request on its
own. This module does what it does, on the sandbox's state, after a handler has
answered the organiser's POST/PATCH/DELETE (Graph answers the write first; the
room answers afterwards, which is why the event returned by the write still shows
the room's ``status.response`` as ``none``):

* **AutoAccept** (``Set-CalendarProcessing -AutomateProcessing AutoAccept``, the
  default of room mailboxes created in Exchange Online): the request is accepted
  when the room is free for every occurrence within ``BookingWindowInDays``
  (default 180), and the meeting is placed in the room calendar; otherwise it is
  declined and not placed. ``AllowConflicts`` (default false) accepts despite a
  conflict. ``AutoUpdate`` / ``None``: nobody answers (``none`` stays) —
  Microsoft Learn, "Set-CalendarProcessing" (AutomateProcessing, AllowConflicts,
  BookingWindowInDays, DeleteSubject, AddOrganizerToSubject) and "Manage
  resource mailboxes in Exchange Online" (booking options).
* The answer is written into the room's attendee entry of the organiser's event
  (``status: {response, time}``, Graph "attendee resource type",
  ``responseStatus``); that changes the organiser's event (new change key, seen
  by delta), as a real meeting response does.
* The copy in the room calendar has the organiser's ``iCalUId`` and organiser;
  its subject is the organiser's name (``DeleteSubject`` and
  ``AddOrganizerToSubject`` both default to true), unless the room is set to keep
  subjects (``deleteSubject: false``).
* Moving the meeting asks again (a conflict at the new time declines and
  removes the copy); removing the room from the attendees, or deleting or
  cancelling the meeting, releases the room (the copy is removed, as
  ``RemoveCanceledMeetings``/the cancellation processing does).

A room's processing settings live in its ``room["calendarProcessing"]`` (keys
``automateProcessing``, ``allowConflicts``, ``bookingWindowInDays``,
``deleteSubject``, ``addOrganizerToSubject``).
"""

from __future__ import annotations

import copy
from datetime import UTC, timedelta

DEFAULT_PROCESSING = {
    "automateProcessing": "AutoAccept",
    "allowConflicts": False,
    "bookingWindowInDays": 180,
    "deleteSubject": True,
    "addOrganizerToSubject": True,
}


def settings(room: dict | None) -> dict:
    return {**DEFAULT_PROCESSING, **((room or {}).get("calendarProcessing") or {})}


def _address(attendee) -> str:
    if not isinstance(attendee, dict):
        return ""
    return str((attendee.get("emailAddress") or {}).get("address") or "").strip().lower()


def _spans(event, low, high):
    """UTC (start, end) of every occurrence of ``event`` overlapping [low, high)."""
    if event.recurrence:
        return [(event.utc(s), event.utc(e)) for _k, s, e in event.occurrences(low, high)]
    return [(event.utc(event.start), event.utc(event.end))]


def _copy_of(box, ical_uid):
    for stored in box.events.values():
        if stored.ical_uid == ical_uid:
            return stored
    return None


def _conflict(state, room_id, event, now, window_days) -> str | None:
    """Why the room cannot take ``event`` (None: it can)."""
    horizon = now + timedelta(days=window_days)
    box = state.mailboxes[room_id]
    spans = _spans(event, now - timedelta(days=1), horizon)
    if not event.recurrence and spans and spans[0][0] > horizon:
        return "outside the booking window"
    for start, end in spans:
        for _at, _id, other, _key in box.view(start, end):
            if other.ical_uid == event.ical_uid:
                continue
            if (other.props.get("showAs") or "busy") == "free":
                continue
            return "conflict"
    return None


def _place(state, room_record, event, organizer_name, keep_subject):
    room_id = room_record.props["id"]
    box = state.mailboxes[room_id]
    existing = _copy_of(box, event.ical_uid)
    seq = state.next_seq()
    if existing is None:
        placed = event.snapshot()
        placed.id = state.new_event_id()
        placed.created = state.now()
        placed.created_seq = seq
        placed.tx_id = None
        placed.history = []
    else:
        existing.remember(seq)
        placed = existing
        for name in ("start", "end", "start_tz", "end_tz", "all_day"):
            setattr(placed, name, getattr(event, name))
        placed.recurrence = copy.deepcopy(event.recurrence)
        placed.exceptions = dict(event.exceptions)
        placed.cancelled = dict(event.cancelled)
    props = dict(event.props)
    if not keep_subject:
        props["subject"] = organizer_name or ""
        props["body"] = {"contentType": "html", "content": ""}
    props["showAs"] = "busy"
    props["responseStatus"] = {"response": "accepted", "time": _stamp(state)}
    placed.props = props
    placed.change_key = state.new_change_key()
    placed.modified = state.now()
    placed.master_ver = seq
    placed.ver = seq
    if existing is None:
        box.add(placed)


def _remove(state, room_id, ical_uid) -> None:
    box = state.mailboxes.get(room_id)
    if box is None:
        return
    placed = _copy_of(box, ical_uid)
    if placed is not None:
        box.remove(placed, state.next_seq())


def _stamp(state) -> str:
    return state.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


def process(state, organizer_id: str, event_id: str) -> None:
    """Let every room invited to the organiser's event answer (after its write)."""
    with state.lock:
        organizer = state.user_record(organizer_id)
        box = state.mailboxes.get(organizer_id)
        if organizer is None or organizer.room is not None or box is None:
            return
        event = box.events.get(event_id)
        if event is None:
            return
        attendees = event.props.get("attendees") or []
        now = state.now()
        name = (event.props.get("organizer") or {}).get("emailAddress", {}).get("name")
        invited = set()
        updated = []
        changed = False
        for attendee in attendees:
            address = _address(attendee)
            room = state.user_record(address) if address else None
            if room is None or room.room is None or room.props["id"] not in state.mailboxes:
                updated.append(attendee)
                continue
            room_id = room.props["id"]
            invited.add(room_id)
            rules = settings(room.room)
            if rules["automateProcessing"] != "AutoAccept":
                updated.append(attendee)
                continue
            why = None if rules["allowConflicts"] else "free"
            if why is not None:
                why = _conflict(state, room_id, event, now, int(rules["bookingWindowInDays"]))
            if why is None:
                keep = not (rules["deleteSubject"] and rules["addOrganizerToSubject"])
                _place(state, room, event, name, keep)
                response = "accepted"
            else:
                _remove(state, room_id, event.ical_uid)
                response = "declined"
            status = attendee.get("status") or {}
            if status.get("response") != response:
                changed = True
                answered = {"response": response, "time": _stamp(state)}
                updated.append({**attendee, "status": answered})
            else:
                updated.append(attendee)
        # Rooms no longer invited are released.
        for room_id, room_box in state.mailboxes.items():
            if room_id in invited:
                continue
            record = state.user_record(room_id)
            if (
                record is not None
                and record.room is not None
                and _copy_of(room_box, event.ical_uid)
            ):
                _remove(state, room_id, event.ical_uid)
        if changed:
            seq = state.next_seq()
            event.remember(seq)
            event.props = {**event.props, "attendees": updated}
            event.change_key = state.new_change_key()
            event.modified = now
            event.master_ver = seq
            event.ver = seq


def release(state, organizer_id: str, ical_uid: str) -> None:
    """The organiser deleted the meeting: every room holding it lets it go."""
    with state.lock:
        organizer = state.user_record(organizer_id)
        if organizer is None or organizer.room is not None:
            return
        for room_id in list(state.mailboxes):
            record = state.user_record(room_id)
            if record is not None and record.room is not None:
                _remove(state, room_id, ical_uid)
