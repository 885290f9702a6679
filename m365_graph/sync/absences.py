"""Time off and work location between Odoo HR and Outlook: the decisions (pure, no I/O).

Why this file exists: the HR glue addon (``m365_sync_hr``) sends validated time off
and work locations to Outlook and brings Outlook absences back; every rule on the
data lives here, testable without Odoo:

* :func:`absence_payload` — the Outlook event of one time off: show-as ``oof``
  (*Away*), category ``Odoo``, all-day on the leave's own dates (Outlook's all-day
  end is the exclusive midnight, in the employee's zone: a leave across a DST
  change keeps its days), or timed (half days, hours) on the employee's wall
  clock. The subject never names the leave type unless asked (it may be
  sensitive, e.g. sick leave).
* :func:`stretches` — one work location per day → one event per *contiguous*
  stretch of days at the same non-default place (not one per day); days at the
  company's default location, and days without a location, send nothing.
  :func:`location_payload` — the all-day event of a stretch, show-as
  ``workingElsewhere``: "Remote work" at home, "Office: <name>" elsewhere.
* :func:`plan_auto_replies` — Outlook automatic replies scheduled for the time
  off (``mailboxSettings``), only ever replacing or switching off a schedule Odoo
  set itself; :class:`AutoReplies` reads a mailbox's setting back (absences down).
* :func:`absence_candidates` — Outlook busy time → absences worth a time off
  request: show-as ``oof`` that is all-day or at least ``threshold`` long. Each
  candidate keeps its Graph event id, so a request is never created twice for the
  same Outlook event (an occurrence of a series has its own id).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from ..core.types import BusySlot
from .push import Appointment, BuiltPayload, build_payload, payload_hash

__all__ = [
    "Absence",
    "AutoReplies",
    "Stretch",
    "absence_candidates",
    "absence_payload",
    "auto_replies_body",
    "location_payload",
    "plan_auto_replies",
    "stretches",
]

CATEGORY = "Odoo"
UTC_ZONE = timezone.utc


@dataclass(frozen=True)
class Absence:
    """A validated time off as plain values (naive datetimes are UTC)."""

    all_day: bool
    first_day: date | None = None
    last_day: date | None = None  # inclusive
    start: datetime | None = None
    stop: datetime | None = None
    time_zone: str | None = None
    subject: str = "Out of office"


def _with(built: BuiltPayload, **values) -> BuiltPayload:
    payload = {**built.payload, **values}
    return BuiltPayload(payload, payload_hash(payload), built.time_zone, built.warnings)


def absence_payload(absence: Absence) -> BuiltPayload:
    """The Outlook event of a time off (``ValueError`` when it has no date at all)."""
    if absence.all_day:
        first = absence.first_day or (absence.start.date() if absence.start else None)
        last = absence.last_day or first
        appointment = Appointment(
            subject=absence.subject,
            start=None,
            all_day=True,
            start_date=first,
            stop_date=last,
            time_zone=absence.time_zone,
            categories=(CATEGORY,),
        )
        if first is None:
            raise ValueError("the time off has no first day")
    else:
        appointment = Appointment(
            subject=absence.subject,
            start=absence.start,
            stop=absence.stop,
            time_zone=absence.time_zone,
            categories=(CATEGORY,),
        )
    built = build_payload(appointment)
    return _with(built, showAs="oof", isReminderOn=False)


@dataclass(frozen=True)
class Stretch:
    """Consecutive days (``first``..``last`` inclusive) at one place."""

    first: date
    last: date
    kind: str  # "home", "office", "other"
    place: str
    location_id: int

    @property
    def subject(self) -> str:
        return "Remote work" if self.kind == "home" else f"Office: {self.place}"


def stretches(
    days: Iterable[tuple[date, int | None, str | None, str | None]], default_id: int | None
) -> list[Stretch]:
    """``days``: ``(day, location id, kind, name)``, one per day (any order).

    Days at ``default_id`` and days without a location break a stretch and send
    nothing; so does a gap in the days given.
    """
    out: list[Stretch] = []
    current: Stretch | None = None
    for day, location_id, kind, name in sorted(days, key=lambda d: d[0]):
        if not location_id or location_id == default_id:
            if current:
                out.append(current)
            current = None
            continue
        if (
            current
            and current.location_id == location_id
            and current.last + timedelta(days=1) == day
        ):
            current = Stretch(current.first, day, current.kind, current.place, location_id)
            continue
        if current:
            out.append(current)
        current = Stretch(day, day, kind or "other", name or "", location_id)
    if current:
        out.append(current)
    return out


def location_payload(stretch: Stretch, time_zone: str | None) -> BuiltPayload:
    built = build_payload(
        Appointment(
            subject=stretch.subject,
            start=None,
            all_day=True,
            start_date=stretch.first,
            stop_date=stretch.last,
            time_zone=time_zone,
            categories=(CATEGORY,),
        )
    )
    return _with(built, showAs="workingElsewhere", isReminderOn=False)


def absence_candidates(
    slots: Sequence[BusySlot] | Iterable[BusySlot], threshold: timedelta
) -> list[BusySlot]:
    """Outlook ``oof`` slots that are all-day or at least ``threshold`` long, once per
    event id (the first), Odoo's own exported events (category ``Odoo``) left out."""
    seen: set[str] = set()
    out = []
    for slot in slots:
        if (slot.show_as or "").lower() != "oof" or slot.event_id in seen:
            continue
        if CATEGORY in slot.categories:
            continue  # an absence Odoo itself sent up
        if not slot.is_all_day and slot.end - slot.start < threshold:
            continue
        seen.add(slot.event_id)
        out.append(slot)
    return out


# -- automatic replies (mailboxSettings) ---------------------------------------------


@dataclass(frozen=True)
class AutoReplies:
    """A mailbox's ``automaticRepliesSetting`` (aware UTC dates; ``None`` when unset)."""

    status: str  # "disabled", "alwaysEnabled", "scheduled"
    start: datetime | None = None
    end: datetime | None = None

    @property
    def key(self) -> str | None:
        """What Odoo remembers of a schedule it set (``None`` when not scheduled)."""
        if self.status != "scheduled" or not (self.start and self.end):
            return None
        return f"{self.start.isoformat()}|{self.end.isoformat()}"

    @classmethod
    def from_graph(cls, settings: object) -> AutoReplies:
        raw = settings.get("automaticRepliesSetting") if isinstance(settings, dict) else None
        if not isinstance(raw, dict):
            return cls("disabled")
        status = raw.get("status") if isinstance(raw.get("status"), str) else "disabled"
        return cls(
            status, _when(raw.get("scheduledStartDateTime")), _when(raw.get("scheduledEndDateTime"))
        )


def _when(value: object) -> datetime | None:
    if not isinstance(value, dict) or not isinstance(value.get("dateTime"), str):
        return None
    text = value["dateTime"]
    if text.startswith("0001-"):
        return None
    try:
        moment = datetime.fromisoformat(text.rstrip("Z")[:26])
    except ValueError:
        return None
    zone = value.get("timeZone") or "UTC"
    if zone not in ("UTC", "Etc/UTC", "Coordinated Universal Time"):
        return None  # Odoo writes and compares UTC only; another zone is the user's own
    return moment.replace(tzinfo=UTC_ZONE)


def auto_replies_body(start: datetime, end: datetime, message: str) -> dict:
    """The PATCH body that schedules automatic replies from ``start`` to ``end`` (UTC)."""

    def stamp(moment: datetime) -> dict:
        moment = moment.astimezone(UTC_ZONE) if moment.tzinfo else moment
        return {"dateTime": moment.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}

    return {
        "automaticRepliesSetting": {
            "status": "scheduled",
            "scheduledStartDateTime": stamp(start),
            "scheduledEndDateTime": stamp(end),
            "internalReplyMessage": message,
            "externalReplyMessage": message,
        }
    }


def plan_auto_replies(
    current: AutoReplies, wanted: tuple[datetime, datetime] | None, ours: str | None
) -> str:
    """What to do with a mailbox's automatic replies: ``"schedule"``, ``"disable"`` or
    ``"keep"``. Odoo only ever touches a schedule it set itself (``ours``, the key it
    remembers): automatic replies the user set in Outlook are never overwritten or
    switched off; a schedule Odoo set that no longer matches a leave is disabled."""
    mine = ours is not None and current.key == ours
    user_set = current.status != "disabled" and not mine
    if wanted is None:
        return "disable" if mine else "keep"
    if user_set:
        return "keep"
    want = AutoReplies("scheduled", wanted[0], wanted[1]).key
    return "keep" if current.key == want else "schedule"
