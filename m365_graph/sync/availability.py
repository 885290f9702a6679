"""Colleagues' free/busy while scheduling: getSchedule answers → busy time, conflicts, a free slot.

Why this file exists: the appointment form and the activity schedule dialog show the
Outlook availability of the people chosen, highlight a conflict with the proposed
time and suggest the next free slot. Graph's ``calendar: getSchedule``
(https://learn.microsoft.com/graph/api/calendar-getschedule) answers one
``scheduleInformation`` per person
(https://learn.microsoft.com/graph/api/resources/scheduleinformation):
``scheduleId``, ``availabilityView`` (one digit per ``availabilityViewInterval``:
0 free or working elsewhere, 1 tentative, 2 busy, 3 out of office), ``scheduleItems``
(``status``, ``start``, ``end``, ``isPrivate``, and ``subject``/``location`` only
when the caller may see them) — or an ``error`` (``freeBusyError``: ``message``,
``responseCode``) for that person alone, e.g. someone outside the tenant:
``"Unable to resolve e-mail address … to an Active Directory object."``, response
code 5009 (microsoftgraph/microsoft-graph-docs#11225). The rest of the answer is
still good: one person's error never hides the others.

The rules, pure functions (no I/O):

* Busy: ``busy`` and ``oof`` always, ``tentative`` when the caller counts
  tentative time as busy (the user's rule, see :mod:`.rules`); ``free``,
  ``workingElsewhere`` and ``unknown`` never. Overlapping items count once.
* Titles: a subject leaves this module only when the viewer may see it
  (:func:`visible_items`: the viewer's own calendar, and never a private item).
* The next free slot (:func:`next_free_slot`) is the earliest start, on a
  ``step`` grid, from ``after`` on, where the whole duration fits inside one working
  interval (the resource calendar's attendances, in UTC) and touches nobody's busy
  time (Outlook's and Odoo's own appointments together).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from ..core.errors import BadResponse
from ..core.timezones import as_utc, parse_graph_datetime

__all__ = [
    "MAX_SCHEDULES",
    "MAX_WINDOW",
    "PersonSchedule",
    "ScheduleItem",
    "busy_intervals",
    "check_window",
    "conflicts",
    "next_free_slot",
    "parse_schedules",
    "visible_items",
]

#: getSchedule takes at most 20 schedules per call (Graph docs, "calendar: getSchedule").
MAX_SCHEDULES = 20
#: The window must be shorter than 62 days (same page: "up to 62 days").
MAX_WINDOW = timedelta(days=62)
#: ``status`` values that always block; ``tentative`` blocks on the user's option.
BUSY_STATUSES = frozenset({"busy", "oof"})
TENTATIVE = "tentative"

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class ScheduleItem:
    """One item of a person's schedule (aware UTC times)."""

    start: datetime
    end: datetime
    status: str
    private: bool = False
    subject: str | None = None


@dataclass
class PersonSchedule:
    """What getSchedule said about one person: their items, or an error in plain words."""

    schedule_id: str
    items: list[ScheduleItem] = field(default_factory=list)
    availability_view: str = ""
    error: str | None = None
    error_code: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def check_window(start: datetime, end: datetime) -> None:
    """``ValueError`` unless ``start < end`` and the window is under 62 days."""
    if end <= start:
        raise ValueError("the availability window must end after it starts")
    if end - start > MAX_WINDOW:
        raise ValueError("getSchedule reads at most 62 days at once")


def _status(value: Any) -> str:
    text = value if isinstance(value, str) and value else "unknown"
    return text[:1].lower() + text[1:]  # Graph's examples spell it "Busy" and "busy"


def _item(raw: Any, who: str) -> ScheduleItem:
    if not isinstance(raw, Mapping):
        raise BadResponse(f"a schedule item of {who} is not an object")
    start = parse_graph_datetime(raw.get("start"), "start")
    end = parse_graph_datetime(raw.get("end"), "end")
    if end < start:
        raise BadResponse(f"a schedule item of {who} ends before it starts", field="end")
    subject = raw.get("subject")
    return ScheduleItem(
        start=start,
        end=end,
        status=_status(raw.get("status")),
        private=bool(raw.get("isPrivate")),
        subject=subject if isinstance(subject, str) and subject.strip() else None,
    )


def parse_schedules(value: Any) -> tuple[list[PersonSchedule], list[str]]:
    """The ``value`` array of a getSchedule answer → schedules, and skipped items' reasons.

    A malformed item is skipped (its reason returned), never the person; a
    ``scheduleInformation`` with an ``error`` becomes a schedule with that error.
    """
    if not isinstance(value, list):
        raise BadResponse("getSchedule answered without a 'value' list", field="value")
    out: list[PersonSchedule] = []
    skipped: list[str] = []
    for info in value:
        if not isinstance(info, Mapping) or not isinstance(info.get("scheduleId"), str):
            skipped.append("a schedule without its scheduleId")
            continue
        person = PersonSchedule(info["scheduleId"])
        error = info.get("error")
        if isinstance(error, Mapping):
            person.error = str(error.get("message") or "Outlook gave no availability")
            code = error.get("responseCode")
            person.error_code = str(code) if code is not None else None
            out.append(person)
            continue
        if error:
            person.error = "Outlook gave no availability"
            out.append(person)
            continue
        view = info.get("availabilityView")
        person.availability_view = view if isinstance(view, str) else ""
        items = info.get("scheduleItems") or []
        if not isinstance(items, list):
            skipped.append(f"the schedule items of {person.schedule_id} are not a list")
            items = []
        for raw in items:
            try:
                person.items.append(_item(raw, person.schedule_id))
            except BadResponse as exc:
                skipped.append(exc.message)
        out.append(person)
    return out, skipped


def _union(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def blocks(status: str, tentative_busy: bool = True) -> bool:
    """Does an item of this ``status`` make its person unavailable?"""
    return status in BUSY_STATUSES or (tentative_busy and status == TENTATIVE)


def busy_intervals(items: Iterable[ScheduleItem], *, tentative_busy: bool = True) -> list[Interval]:
    """The union of the blocking items' times (aware UTC)."""
    return _union((i.start, i.end) for i in items if blocks(i.status, tentative_busy))


def _overlaps(a: Interval, b: Interval) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def conflicts(
    busy: Mapping[str, Sequence[Interval]], start: datetime, end: datetime
) -> dict[str, list[Interval]]:
    """``{person: busy intervals overlapping [start, end)}`` for those who have one."""
    wanted = (as_utc(start), as_utc(end))
    out: dict[str, list[Interval]] = {}
    for who, intervals in busy.items():
        hits = [iv for iv in intervals if _overlaps(iv, wanted)]
        if hits:
            out[who] = hits
    return out


def _ceil(moment: datetime, step: timedelta) -> datetime:
    epoch = datetime(2000, 1, 1, tzinfo=timezone.utc)
    steps = -((epoch - moment) // step)  # ceiling division on timedelta
    return epoch + steps * step


def next_free_slot(
    busy: Iterable[Interval],
    working: Iterable[Interval],
    duration: timedelta,
    after: datetime,
    *,
    step: timedelta = timedelta(minutes=15),
) -> Interval | None:
    """The earliest ``(start, end)`` of ``duration`` from ``after`` on, on the ``step`` grid,
    inside one working interval and clear of every busy interval; ``None`` if none fits.

    ``busy`` is everybody's busy time together (Outlook and Odoo); ``working`` the
    working intervals of the window in which to look (a day or a week).
    """
    if duration <= timedelta(0):
        raise ValueError("the duration must be positive")
    taken = _union((as_utc(s), as_utc(e)) for s, e in busy)
    after = as_utc(after)
    for work_start, work_end in _union((as_utc(s), as_utc(e)) for s, e in working):
        candidate = _ceil(max(work_start, after), step)
        while candidate + duration <= work_end:
            slot = (candidate, candidate + duration)
            clash = next((iv for iv in taken if _overlaps(iv, slot)), None)
            if clash is None:
                return slot
            candidate = _ceil(clash[1], step)
    return None


def visible_items(person: PersonSchedule, *, may_see_titles: bool) -> list[dict[str, Any]]:
    """The items as plain JSON for a widget: a title only when the viewer may see it.

    ``may_see_titles`` is true only for the viewer's own calendar; a private item
    never shows its title, whoever looks.
    """
    out = []
    for item in sorted(person.items, key=lambda i: (i.start, i.end)):
        title = item.subject if may_see_titles and not item.private else None
        out.append(
            {
                "start": item.start.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "end": item.end.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "status": item.status,
                "title": title,
            }
        )
    return out
