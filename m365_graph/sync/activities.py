"""Project activities → Outlook events: the decisions of the activity export.

Why this file exists: a planned activity of a project task becomes an event in the
assignee's Outlook calendar, pushed through the outbox of the personal upload. What
the event looks like, when it starts, how long it lasts and *who* may write it to
that calendar are decisions with bad input of their own (no time zone, no working
time that day, a duration of 0 or of three days, an assignee without mailbox), so
they live here as pure functions tested without Odoo; the addon only gathers the
facts and queues what these functions answer.

The rules:

* **Start**: the planned start when there is one; otherwise the due date at the
  assignee's working-day start (the first attendance of that weekday in their
  working-time calendar, :func:`working_day_start`), :data:`DEFAULT_DAY_START`
  (09:00) when that day has no working time, in the assignee's time zone — UTC,
  with a warning, when the user has none or an unknown one.
* **Duration**: the planned duration; none (or 0, or negative) → the project's
  default (30 minutes unless set); above :data:`MAX_DURATION_HOURS` (24 h) → cut
  to 24 h with a warning. A default outside (0, 24] falls back to 30 minutes.
* **Event**: subject from the summary, else the activity type, else
  ``"(No title)"``; body = the note (HTML) and a link back to the Odoo record;
  category ``"Odoo"``; ``showAs`` busy; no attendees at all (no invitation is ever
  sent: the event sits in the assignee's calendar only). A done activity kept in
  Outlook is marked: ``"Done: "`` before the subject, ``showAs`` free.
* **Writer** (:func:`choose_writer`): the assignee's own main account when it
  uploads (Up or Both: delegated ``me``); else the tenant's application permission
  ``Calendars.ReadWrite`` when the tenant allows it; else the assigner's delegated
  ``Calendars.ReadWrite.Shared`` on the assignee's calendar (the assignee must have
  shared it with write access — Graph answers 403 otherwise, and the export status
  says so). Without any of these nothing is queued and the reason is shown.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..core.timezones import naive_utc
from .push import Appointment, BuiltPayload, build_payload, html_is_empty

__all__ = [
    "CATEGORY",
    "DEFAULT_DAY_START",
    "DEFAULT_DURATION_HOURS",
    "DONE_PREFIX",
    "MAX_DURATION_HOURS",
    "ActivityEvent",
    "PlannedWindow",
    "WriterChoice",
    "WriterFacts",
    "activity_payload",
    "choose_writer",
    "clean_default_duration",
    "planned_duration",
    "planned_window",
    "working_day_start",
]

#: The Outlook category of every exported activity (lets users colour or filter them).
CATEGORY = "Odoo"
#: Default length of an activity without planned duration (hours): no thin slots.
DEFAULT_DURATION_HOURS = 0.5
#: Longest event an activity becomes (hours).
MAX_DURATION_HOURS = 24.0
#: Working-day start (hours after midnight) when the day has no working time.
DEFAULT_DAY_START = 9.0
DONE_PREFIX = "Done: "

#: Writers, as the outbox names them (``own`` and ``shared`` are delegated writes).
OWN, APPLICATION, SHARED = "own", "application", "shared"


# --------------------------------------------------------------------------- writer


@dataclass(frozen=True)
class WriterFacts:
    """What is known, without asking Graph, about the ways to write one calendar.

    ``assignee_uploads``: the assignee's main account is connected in Up or Both.
    ``app_allowed``: the tenant exports project activities and its application
    permission ``Calendars.ReadWrite`` is not known to be missing.
    ``assigner_shared``: the assigner's main account holds the delegated
    ``Calendars.ReadWrite.Shared``. ``assignee_mailbox``: the Graph user id (or
    user principal name) of the assignee's mailbox, ``None`` when there is none.
    """

    assignee_uploads: bool
    app_allowed: bool
    assigner_shared: bool
    assignee_mailbox: str | None
    same_person: bool = False


@dataclass(frozen=True)
class WriterChoice:
    """``writer`` is ``own``, ``application``, ``shared`` or ``None`` (then ``reason``)."""

    writer: str | None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.writer is not None


#: Reasons of :class:`WriterChoice` (the addon words them for users).
NO_MAILBOX = "no_mailbox"
NO_WRITER = "no_writer"


def choose_writer(facts: WriterFacts) -> WriterChoice:
    """Who writes the event (in this order: own, application, shared)."""
    if facts.assignee_uploads:
        return WriterChoice(OWN)
    if not facts.assignee_mailbox:
        return WriterChoice(None, NO_MAILBOX)
    if facts.app_allowed:
        return WriterChoice(APPLICATION)
    if facts.assigner_shared and not facts.same_person:
        return WriterChoice(SHARED)
    return WriterChoice(None, NO_WRITER)


# --------------------------------------------------------------------------- timing


def working_day_start(day: date, attendances: Iterable[tuple[int, float]]) -> float | None:
    """The first working hour of ``day``'s weekday, from ``(weekday, hour_from)`` pairs.

    ``weekday`` is 0 for Monday (Odoo's ``dayofweek``); ``None`` when the day has no
    working time.
    """
    hours = [float(hour) for weekday, hour in attendances if int(weekday) == day.weekday()]
    hours = [hour for hour in hours if 0.0 <= hour < 24.0]
    return min(hours) if hours else None


def clean_default_duration(hours: float | None) -> float:
    """A project's default duration, or 30 minutes when it is not in (0, 24]."""
    if hours is None or math.isnan(float(hours)) or not 0 < float(hours) <= MAX_DURATION_HOURS:
        return DEFAULT_DURATION_HOURS
    return float(hours)


def planned_duration(hours: float | None, default: float | None) -> tuple[float, str | None]:
    """(hours, warning or None): the rules of the module docstring."""
    fallback = clean_default_duration(default)
    if hours is None or math.isnan(float(hours)) or float(hours) <= 0:
        return fallback, None
    if math.isinf(float(hours)) or float(hours) > MAX_DURATION_HOURS:
        return MAX_DURATION_HOURS, (
            f"the planned duration ({float(hours):g} h) is above {MAX_DURATION_HOURS:g} h: "
            f"the event lasts {MAX_DURATION_HOURS:g} h"
        )
    return float(hours), None


@dataclass(frozen=True)
class PlannedWindow:
    """Start and end (naive UTC, Odoo's convention), the zone used, and warnings."""

    start: datetime
    stop: datetime
    time_zone: str
    warnings: tuple[str, ...] = field(default=())

    @property
    def hours(self) -> float:
        return (self.stop - self.start).total_seconds() / 3600


def _zone(name: str | None, warnings: list[str]) -> tuple[timezone | ZoneInfo, str]:
    clean = (name or "").strip()
    if not clean:
        warnings.append("the assignee has no time zone: times are in UTC")
        return timezone.utc, "UTC"
    try:
        return ZoneInfo(clean), clean
    except (ZoneInfoNotFoundError, ValueError):
        warnings.append(f"unknown time zone {clean!r}: times are in UTC")
        return timezone.utc, "UTC"


def planned_window(
    *,
    deadline: date | None,
    planned_start: datetime | None,
    duration_hours: float | None,
    default_hours: float | None,
    time_zone: str | None,
    day_start: float | None,
) -> PlannedWindow:
    """When the event is: see the module docstring. ``ValueError`` without any date."""
    warnings: list[str] = []
    tz, zone_name = _zone(time_zone, warnings)
    if planned_start is not None:
        start = naive_utc(planned_start)
    elif deadline is not None:
        hours = DEFAULT_DAY_START if day_start is None else float(day_start)
        local = datetime.combine(deadline, time(0)) + timedelta(hours=hours)
        # fold=0: on the night clocks go back, the first of the two moments.
        start = naive_utc(local.replace(tzinfo=tz))
    else:
        raise ValueError("the activity has neither a planned start nor a due date")
    duration, warning = planned_duration(duration_hours, default_hours)
    if warning:
        warnings.append(warning)
    stop = start + timedelta(hours=duration)
    return PlannedWindow(start, stop, zone_name, tuple(warnings))


# --------------------------------------------------------------------------- payload


@dataclass(frozen=True)
class ActivityEvent:
    """An activity as plain values (``start``/``stop`` naive UTC, ``note`` HTML)."""

    summary: str | None
    activity_type: str | None
    note: str | None
    record_name: str | None
    record_url: str | None
    start: datetime
    stop: datetime
    time_zone: str | None = None
    done: bool = False


def _body(event: ActivityEvent) -> str:
    parts = []
    if not html_is_empty(event.note):
        parts.append(str(event.note))
    if event.record_url:
        label = event.record_name or "the Odoo record"
        parts.append(
            f'<p>Odoo: <a href="{html.escape(event.record_url, quote=True)}">'
            f"{html.escape(label)}</a></p>"
        )
    return "".join(parts)


def activity_payload(event: ActivityEvent) -> BuiltPayload:
    """The Graph event body of an activity (no attendees: no invitation is sent)."""
    subject = " ".join((event.summary or "").split()) or " ".join(
        (event.activity_type or "").split()
    )
    if event.done:
        subject = DONE_PREFIX + (subject or "(No title)")
    appointment = Appointment(
        subject=subject or None,
        start=event.start,
        stop=event.stop,
        time_zone=event.time_zone,
        description=_body(event) or None,
        show_as="free" if event.done else "busy",
        categories=(CATEGORY,),
    )
    return build_payload(appointment, send_invitations=False)
