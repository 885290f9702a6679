"""Personal calendar pull: Graph events → Odoo ``calendar.event`` values, and the plan.

Why this file exists: DESIGN.md keeps mapping and reconciliation decisions out of the
Odoo models. This module turns one :class:`~m365_graph.models.GraphEvent` of a
``calendarView/delta`` round into the values of an Odoo appointment, and decides,
for a whole round, what to create, update, leave alone, delete or check first.

Mapping rules (Graph's event → Odoo's ``calendar.event``):

* ``subject`` → ``name`` (``"(No title)"`` when empty: Odoo requires a name).
* Timed events: ``start``/``end`` → naive UTC ``start``/``stop`` (Odoo's convention).
  The zone comes from ``timeZone`` (we ask for UTC, but IANA and *Windows* names are
  resolved through tzlocal's CLDR table, see :mod:`.timezones`); an unknown zone or
  an end before the start makes the item unusable and it is skipped with the reason.
* All-day events: Outlook stores them as midnight to midnight *in the event's zone*,
  the end being exclusive — a one-day event on 5 March ends on 6 March 00:00. The
  dates are read from the ``dateTime`` text itself (converting midnight of another
  zone to UTC would shift the day), and the end becomes the inclusive last day.
  Odoo's own form stores all-day events as 08:00 to 18:00 on those days; so do we.
* ``showAs`` → Odoo's availability ``show_as``: ``free`` and ``workingElsewhere``
  leave the user available, everything else (busy, tentative, out of office,
  unknown) shows them busy.
* ``sensitivity`` ``private`` or ``confidential`` → ``privacy = "private"`` (Outlook
  private stays private); ``normal``/``personal`` leave the user's default privacy.
* ``categories`` → tag names (the Odoo layer finds or creates the tags).
* ``onlineMeeting.joinUrl`` (or the older ``onlineMeetingUrl``) → ``videocall_location``.
* ``location.displayName`` → ``location``; ``body`` → ``description`` (HTML; a text
  body is escaped).
* ``responseStatus.response`` → the owner's attendance (accepted, tentative…).

Recurring series are pulled as *linked occurrences*: ``calendarView`` expands a
series into its occurrences and exceptions, each with its own id, ``seriesMasterId``
and ``originalStart``; each becomes one Odoo appointment linked to its Graph id.
Outlook's patterns (with their exceptions, moved and cancelled occurrences, time
zones) are therefore shown exactly as Outlook computes them, and a cancelled
occurrence or a deleted series reaches Odoo as removals of those ids.

``@removed`` in a calendarView delta means "no longer in this window" — deleted,
cancelled, *or moved out of the window*. Removals are therefore only *candidates*:
the caller reads them again (:func:`~m365_graph.events.read_events`) and deletes only
those Graph answers 404 for (:func:`decide_removals`); an event that merely left the
window is kept (and updated from the fresh read).
"""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from .errors import BadResponse, GraphError
from .models import GraphEvent, Removed, SkippedItem
from .timezones import naive_utc, parse_iso_utc

__all__ = [
    "ALL_DAY_START",
    "ALL_DAY_STOP",
    "NO_TITLE",
    "LinkState",
    "PullPlan",
    "PulledEvent",
    "RemovalDecision",
    "attendee_state",
    "decide_removals",
    "map_event",
    "plan_pull",
    "privacy_for",
    "show_as_for",
]

NO_TITLE = "(No title)"
# Odoo's calendar form stores all-day events from 08:00 to 18:00 (calendar.event
# ``_inverse_dates``); pulled all-day events look the same.
ALL_DAY_START = time(8, 0)
ALL_DAY_STOP = time(18, 0)

_FREE = frozenset({"free", "workingelsewhere"})
_PRIVATE = frozenset({"private", "confidential"})
_RESPONSES = {
    "organizer": "accepted",
    "accepted": "accepted",
    "tentativelyaccepted": "tentative",
    "declined": "declined",
    "none": "needsAction",
    "notresponded": "needsAction",
}
#: calendarView types we turn into appointments (series masters only describe a series)
PULLED_TYPES = frozenset({"singleInstance", "occurrence", "exception"})


def show_as_for(show_as: str | None) -> str:
    """Graph ``showAs`` → Odoo ``show_as`` (``free`` or ``busy``)."""
    return "free" if (show_as or "").lower() in _FREE else "busy"


def privacy_for(sensitivity: str | None) -> str | bool:
    """Graph ``sensitivity`` → Odoo ``privacy`` (``False`` = the user's default)."""
    return "private" if (sensitivity or "").lower() in _PRIVATE else False


def attendee_state(response_status: Any) -> str:
    """Graph ``responseStatus`` → Odoo attendee ``state`` of the calendar's owner."""
    response = response_status.get("response") if isinstance(response_status, dict) else None
    return _RESPONSES.get(str(response or "").lower(), "accepted")


@dataclass(frozen=True)
class PulledEvent:
    """One Graph event ready for Odoo.

    ``values`` are ``calendar.event`` field values (naive UTC datetimes, dates for
    all-day events); ``categories`` tag names; ``fingerprint`` a digest of everything
    that is written to Odoo, so an unchanged event is recognised without reading the
    appointment back.
    """

    graph_id: str
    ical_uid: str | None
    change_key: str | None
    event_type: str
    series_master_id: str | None
    original_start: datetime | None
    last_modified: datetime | None
    values: dict[str, Any] = field(compare=False)
    categories: tuple[str, ...]
    attendee_state: str
    fingerprint: str


def _raw_date(raw: Any, name: str, event_id: str) -> date:
    text = raw.get("dateTime") if isinstance(raw, dict) else None
    try:
        return date.fromisoformat(str(text)[:10])
    except ValueError as exc:
        raise BadResponse(
            f"event {event_id!r}: '{name}.dateTime' is not a date ({text!r})",
            field=f"{name}.dateTime",
        ) from exc


def _description(event: GraphEvent) -> str | bool:
    if not event.body or not event.body.strip():
        return False
    if (event.body_type or "html").lower() == "text":
        return "<p>" + html.escape(event.body).replace("\n", "<br/>") + "</p>"
    return event.body


def _meeting_url(raw: Mapping[str, Any]) -> str | bool:
    online = raw.get("onlineMeeting")
    if isinstance(online, dict) and isinstance(online.get("joinUrl"), str) and online["joinUrl"]:
        return online["joinUrl"]
    url = raw.get("onlineMeetingUrl")
    return url if isinstance(url, str) and url else False


def _original_start(raw: Mapping[str, Any], event_id: str) -> datetime | None:
    value = raw.get("originalStart")
    if not value:
        return None
    try:
        return naive_utc(parse_iso_utc(value, "originalStart"))
    except BadResponse as exc:
        raise BadResponse(f"event {event_id!r}: {exc.message}", field="originalStart") from exc


def _fingerprint(values: Mapping[str, Any], categories: Iterable[str], state: str) -> str:
    def plain(value: Any) -> Any:
        return value.isoformat() if isinstance(value, (date, datetime)) else value

    payload = {
        "values": {k: plain(v) for k, v in sorted(values.items())},
        "categories": sorted(set(categories)),
        "attendee": state,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def map_event(event: GraphEvent) -> PulledEvent:
    """The Odoo values of one Graph event; :class:`BadResponse` if it cannot be used."""
    raw = event.raw
    if event.is_all_day:
        first = _raw_date(raw.get("start"), "start", event.id)
        end = _raw_date(raw.get("end"), "end", event.id)
        if end < first:
            raise BadResponse(f"event {event.id!r} ends before it starts", field="end")
        # Outlook's all-day end is exclusive midnight: 5 March → end 6 March 00:00.
        last = max(first, end - timedelta(days=1))
        timing: dict[str, Any] = {
            "allday": True,
            "start": datetime.combine(first, ALL_DAY_START),
            "stop": datetime.combine(last, ALL_DAY_STOP),
        }
    else:
        if event.end < event.start:
            raise BadResponse(f"event {event.id!r} ends before it starts", field="end")
        timing = {"allday": False, "start": naive_utc(event.start), "stop": naive_utc(event.end)}
    values: dict[str, Any] = {
        "name": (event.subject or "").strip() or NO_TITLE,
        **timing,
        "show_as": show_as_for(event.show_as),
        "privacy": privacy_for(event.sensitivity),
        "location": (event.location or "").strip() or False,
        "description": _description(event),
        "videocall_location": _meeting_url(raw),
    }
    categories = tuple(dict.fromkeys(c.strip() for c in event.categories if c and c.strip()))
    state = attendee_state(raw.get("responseStatus"))
    return PulledEvent(
        graph_id=event.id,
        ical_uid=event.ical_uid,
        change_key=event.change_key,
        event_type=event.event_type or "singleInstance",
        series_master_id=event.series_master_id,
        original_start=_original_start(raw, event.id),
        last_modified=event.last_modified,
        values=values,
        categories=categories,
        attendee_state=state,
        fingerprint=_fingerprint(values, categories, state),
    )


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class LinkState:
    """What Odoo knows about one Graph event it pulled before."""

    graph_id: str
    change_key: str | None = None
    fingerprint: str | None = None


@dataclass
class PullPlan:
    """What one delta round means for Odoo.

    ``create``: events Odoo does not have; ``update``: known events whose Odoo values
    changed; ``refresh``: known events that changed in Outlook in a way Odoo does not
    show (only the change key is stored); ``unchanged``: how many items were replays
    of what Odoo has; ``delete``: known events cancelled in Outlook (``isCancelled``);
    ``verify``: known events reported ``@removed`` — read them again before deleting;
    ``ignored``: series masters and removals of events Odoo never had; ``skipped``:
    malformed items with the reason.
    """

    create: list[PulledEvent] = field(default_factory=list)
    update: list[PulledEvent] = field(default_factory=list)
    refresh: list[PulledEvent] = field(default_factory=list)
    unchanged: int = 0
    delete: list[str] = field(default_factory=list)
    verify: list[str] = field(default_factory=list)
    ignored: int = 0
    skipped: list[SkippedItem] = field(default_factory=list)

    @property
    def writes(self) -> int:
        """How many Odoo records the plan touches (0 for a no-change round)."""
        return len(self.create) + len(self.update) + len(self.refresh) + len(self.delete)


def plan_pull(
    items: Iterable[GraphEvent],
    removed: Iterable[Removed],
    known: Mapping[str, LinkState],
) -> PullPlan:
    """Decide what to do with one round's items, given the links Odoo already has.

    An item whose change key equals the stored one is a replay and costs nothing; a
    changed one is mapped and compared by fingerprint. Malformed items are skipped
    with the reason; the rest of the round goes on.
    """
    plan = PullPlan()
    # A delta round reports each id once; should an id come twice, the last state wins.
    latest = {event.id: event for event in items}
    for event in latest.values():
        if event.event_type and event.event_type not in PULLED_TYPES:
            plan.ignored += 1  # a series master describes the series, not an appointment
            continue
        link = known.get(event.id)
        if event.is_cancelled:
            if link is not None:
                plan.delete.append(event.id)
            else:
                plan.ignored += 1
            continue
        if link is not None and event.change_key and link.change_key == event.change_key:
            plan.unchanged += 1
            continue
        try:
            pulled = map_event(event)
        except BadResponse as exc:
            plan.skipped.append(SkippedItem(event.id, exc.message))
            continue
        if link is None:
            plan.create.append(pulled)
        elif link.fingerprint == pulled.fingerprint:
            if link.change_key == pulled.change_key:
                plan.unchanged += 1
            else:
                plan.refresh.append(pulled)
        else:
            plan.update.append(pulled)
    for gone in removed:
        if gone.id in known:
            plan.verify.append(gone.id)
        else:
            plan.ignored += 1
    return plan


@dataclass
class RemovalDecision:
    """The outcome of re-reading the ``@removed`` candidates.

    ``delete``: Graph answered 404 — gone for good; ``moved``: still there (it left
    the window, or the removal was a replay) — keep it, with its fresh state;
    ``unknown``: the read failed — keep the appointment and try again next round.
    """

    delete: list[str] = field(default_factory=list)
    moved: list[GraphEvent] = field(default_factory=list)
    unknown: list[SkippedItem] = field(default_factory=list)


def decide_removals(answers: Mapping[str, GraphEvent | GraphError | None]) -> RemovalDecision:
    """Sort re-read answers (``None`` = 404) into delete / keep / unknown."""
    decision = RemovalDecision()
    for graph_id, answer in answers.items():
        if answer is None:
            decision.delete.append(graph_id)
        elif isinstance(answer, GraphEvent):
            if answer.is_cancelled:
                decision.delete.append(graph_id)
            else:
                decision.moved.append(answer)
        else:
            decision.unknown.append(
                SkippedItem(graph_id, f"could not check whether it was deleted: {answer}")
            )
    return decision
