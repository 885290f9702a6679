"""Personal calendar pull: Graph events → Odoo ``calendar.event`` values, and the plan.

This is the Odoo-facing mapping of ``m365_graph``: unlike the rest of the package,
its results are shaped for one Odoo model — ``calendar.event`` field names and
Odoo's conventions (naive UTC, ``False`` for empty, ``(No title)``) — so that the
addon writes them as they are. It stays pure (no I/O, no ``odoo`` import).

Why this file exists: the architecture (docs/architecture.md) keeps mapping and
reconciliation decisions out of the Odoo models. This module turns one
:class:`~m365_graph.core.types.GraphEvent` of a ``calendarView/delta`` round into
the values of an Odoo appointment, and decides, for a whole round, what to create,
update, leave alone, delete or check first.

Mapping rules (Graph's event → Odoo's ``calendar.event``):

* ``subject`` → ``name`` (``"(No title)"`` when empty: Odoo requires a name).
* Timed events: ``start``/``end`` → naive UTC ``start``/``stop`` (Odoo's convention).
  The zone comes from ``timeZone`` (we ask for UTC, but IANA and *Windows* names are
  resolved through tzlocal's CLDR table, see :mod:`m365_graph.core.timezones`); an unknown zone or
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

What ``calendarView/delta`` really sends for a series (not what ``calendarView``
sends): the **series master in full**, each **occurrence as a stub** — only
``@odata.type``, ``@odata.etag``, ``id``, ``seriesMasterId``, ``type``, ``start``,
``end`` (microsoftgraph/microsoft-graph-docs#1716, #7632, #22197,
microsoftgraph/microsoft-graph-docs-contrib#34) — and each **exception in full**.
:func:`fill_occurrence` gives a stub the content of its master (subject, body,
location, show-as, sensitivity, categories, online meeting, the owner's answer)
and its version from the ``@odata.etag`` (stubs have no ``changeKey``);
:func:`resolve_series` does it for a whole round and names the masters that were
not in it (the caller reads them in ``$batch``, see
:mod:`m365_graph.resources.series`). A cancelled occurrence may be reported *only*
as a change of its master (microsoft-graph-docs pull request #4501):
:func:`changed_series` names the masters of an incremental round, whose instances
the caller reads again.

``@removed`` in a calendarView delta means "no longer in this window" — deleted,
cancelled, *or moved out of the window*. Removals are therefore only *candidates*:
the caller reads them again (:func:`~m365_graph.resources.events.read_events`) and deletes only
those Graph answers 404 for (:func:`decide_removals`); an event that merely left the
window is kept (and updated from the fresh read).
"""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from ..core.errors import BadResponse, GraphError
from ..core.timezones import naive_utc, parse_iso_utc
from ..core.types import GraphEvent, Removed, SkippedItem

__all__ = [
    "ALL_DAY_START",
    "ALL_DAY_STOP",
    "NO_TITLE",
    "LinkState",
    "PullPlan",
    "PulledEvent",
    "RemovalDecision",
    "SeriesResolution",
    "attendee_state",
    "changed_series",
    "decide_removals",
    "fill_occurrence",
    "is_stub",
    "map_event",
    "plan_pull",
    "privacy_for",
    "resolve_series",
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
    #: the iCalUId of the series of an occurrence completed from its master: with
    #: ``original_start`` it names the same occurrence in every mailbox of the meeting
    series_ical_uid: str | None = None


#: where :func:`fill_occurrence` keeps the master's iCalUId (not a Graph property)
SERIES_ICAL_UID = "m365.seriesICalUId"


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


# ----------------------------------------------------------------- series in a delta round

#: what a stub carries; everything else an occurrence shows comes from its master
STUB_PROPERTIES = frozenset(
    {"@odata.type", "@odata.etag", "id", "seriesMasterId", "type", "start", "end"}
)
#: master properties that describe the master itself, never one of its occurrences
_MASTER_OWN = frozenset(
    {
        "@odata.context",
        "@odata.etag",
        "@odata.type",
        "changeKey",
        "createdDateTime",
        "iCalUId",
        "id",
        "originalStart",
        "recurrence",
        "seriesMasterId",
        "transactionId",
        "type",
        "webLink",
    }
)
# Properties that a full occurrence always has and a stub never has.
_CONTENT = ("subject", "showAs", "sensitivity", "body", "categories", "isAllDay")


def is_stub(event: GraphEvent) -> bool:
    """True for an occurrence that came without its content (a delta stub)."""
    return event.event_type == "occurrence" and not any(k in event.raw for k in _CONTENT)


def fill_occurrence(stub: GraphEvent, master: GraphEvent) -> GraphEvent:
    """The occurrence ``stub`` with its series master's content.

    The stub keeps its own id, type, start and end. Its change key is the one in its
    ``@odata.etag``: the master's own ``changeKey`` is left out, and
    :class:`~m365_graph.core.types.GraphEvent` reads the ETag when ``changeKey`` is
    missing. An occurrence (not an exception) starts where the pattern puts it, so
    its ``originalStart`` is its start. The master's ``iCalUId`` is not the
    occurrence's and is left out.
    """
    if stub.series_master_id and master.id != stub.series_master_id:
        raise ValueError(f"{master.id!r} is not the series of occurrence {stub.id!r}")
    raw = {k: v for k, v in master.raw.items() if k not in _MASTER_OWN}
    raw.update(stub.raw)
    raw["seriesMasterId"] = master.id
    raw["type"] = "occurrence"
    if master.ical_uid:
        raw[SERIES_ICAL_UID] = master.ical_uid
    if not raw.get("originalStart"):
        raw["originalStart"] = stub.start.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return GraphEvent.from_graph(raw)


@dataclass
class SeriesResolution:
    """A delta round's items with every stub completed, or what is still needed.

    ``items``: single instances, exceptions, masters and completed occurrences;
    ``missing_masters``: masters of stubs that were not in the round (read them);
    ``waiting``: the stubs waiting for those masters.
    """

    items: list[GraphEvent] = field(default_factory=list)
    missing_masters: list[str] = field(default_factory=list)
    waiting: list[GraphEvent] = field(default_factory=list)
    skipped: list[SkippedItem] = field(default_factory=list)


def resolve_series(
    items: Iterable[GraphEvent],
    masters: Mapping[str, GraphEvent | GraphError | None] | None = None,
) -> SeriesResolution:
    """Complete the stubs of a round from the masters in it or in ``masters``.

    ``masters`` are masters read separately (``None`` = 404: the series is gone, its
    stubs are dropped — the deletion reaches Odoo as removals; an error leaves the
    stub unusable, skipped with the reason). Without an answer for a master, its
    stubs wait and the master is named in ``missing_masters``.
    """
    items = list(items)
    extra = dict(masters or {})
    known = {e.id: e for e in items if e.event_type == "seriesMaster"}
    out = SeriesResolution()
    missing: dict[str, None] = {}
    for event in items:
        if not is_stub(event):
            out.items.append(event)
            continue
        master_id = event.series_master_id
        if not master_id:
            out.skipped.append(SkippedItem(event.id, "an occurrence without its series id"))
            continue
        master = known.get(master_id)
        if master is None and master_id in extra:
            answer = extra[master_id]
            if answer is None:
                continue  # the series was deleted meanwhile
            if not isinstance(answer, GraphEvent):
                out.skipped.append(SkippedItem(event.id, f"could not read its series: {answer}"))
                continue
            master = answer
        if master is None:
            missing.setdefault(master_id)
            out.waiting.append(event)
            continue
        try:
            out.items.append(fill_occurrence(event, master))
        except (BadResponse, ValueError) as exc:
            out.skipped.append(SkippedItem(event.id, str(getattr(exc, "message", exc))))
    out.missing_masters = list(missing)
    return out


def changed_series(items: Iterable[GraphEvent]) -> list[str]:
    """Ids of the series masters in a round: whose instances an incremental round re-reads.

    A cancelled occurrence may reach a delta round only as a change of its master
    (microsoft-graph-docs pull request #4501, "No indication is given for a deleted
    occurrence"): the master's change is the signal to read its instances again.
    """
    return list(dict.fromkeys(e.id for e in items if e.event_type == "seriesMaster"))


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
        series_ical_uid=raw.get(SERIES_ICAL_UID) or None,
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
