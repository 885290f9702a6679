"""Workload math of the busy-time import: pure functions, no Odoo.

Why this file exists: the busy-time feature turns Outlook appointments into hours per
user and day. The rules are easy to get subtly wrong (time zones, DST days, all-day
events, overlapping meetings, time off), so they live here, where they are tested
by hand-computed cases and property tests, and the Odoo models only read records,
call these functions and write the results.

The rules (after InLoox's resource overview):

* ``showAs`` busy, tentative and oof count as busy; free and workingElsewhere do not.
  Anything else (Graph's own ``unknown`` included) is not a known availability:
  such an item is skipped and counted, never guessed.
* A slot carrying a category of an "ignore" rule does not count (matching ignores
  case and surrounding or repeated spaces). It stays stored, marked as ignored.
* Overlapping appointments count once: the union of the intervals, never the sum.
* Capacity of a day = the working intervals of the user's calendar on that local day
  minus time off (leaves).
* Mode ``exact`` ("exact working times"): busy time is clipped to those working
  intervals — working time 09:00-17:00, appointment 16:00-18:00 → 1 hour.
* Mode ``daily`` ("daily working hours"): every appointment counts in full on the
  local day(s) it covers, whenever it is (split at the user's local midnight).
* All-day appointments count as that day's working hours, in both modes.
* Bad items (end not after start, longer than 14 days, unknown ``showAs``, all-day
  items not on midnight boundaries) are rejected with a reason in plain words.

Times: intervals are aware datetimes (any zone) or naive datetimes meaning UTC
(Odoo's convention); results are computed in UTC. Local days are those of the
user's IANA time zone, DST-aware (a DST day lasts 23 or 25 hours). All-day items
are "floating": Graph returns them midnight to midnight in the zone we ask for
(UTC), so their dates are the calendar dates of ``start`` and ``end``.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from ..core.timezones import as_utc, naive_utc, resolve_zone
from ..core.types import BusySlot, SkippedItem

__all__ = [
    "HOUR_DECIMALS",
    "MAX_SLOT_DAYS",
    "MODES",
    "SENSITIVITIES",
    "SHOW_AS_BUSY",
    "SHOW_AS_FREE",
    "SHOW_AS_KNOWN",
    "BusyInterval",
    "BusyWindow",
    "DayLoad",
    "ReconcilePlan",
    "SlotRecord",
    "busy_by_day",
    "busy_window",
    "categories_need_cleaning",
    "category_key",
    "check_slot",
    "clean_categories",
    "clean_category",
    "counts_as_busy",
    "day_bounds",
    "day_figures",
    "hours",
    "intersect",
    "is_ignored",
    "join_categories",
    "planned_by_day",
    "prepare_slots",
    "reconcile",
    "show_as_key",
    "slot_days",
    "slot_record",
    "split_categories",
    "subtract",
    "union",
    "work_by_day",
    "workload_days",
]

UTC = timezone.utc
Interval = tuple[datetime, datetime]

SHOW_AS_BUSY = frozenset({"busy", "tentative", "oof"})
SHOW_AS_FREE = frozenset({"free", "workingElsewhere"})
SHOW_AS_KNOWN = SHOW_AS_BUSY | SHOW_AS_FREE
_SHOW_AS_BY_KEY = {name.lower(): name for name in SHOW_AS_KNOWN}
SENSITIVITIES = ("normal", "personal", "private", "confidential")
EVENT_TYPES = ("singleInstance", "occurrence", "exception", "seriesMaster")
MAX_SLOT_DAYS = 14
MODES = ("exact", "daily")
CATEGORY_SEPARATOR = ", "
# Hours are rounded to this many decimals (0.36 s): sums stay exact enough and
# floating-point noise never makes an unchanged day look changed.
HOUR_DECIMALS = 4


# --------------------------------------------------------------------------- categories


def clean_category(name: Any) -> str:
    """A category name with surrounding and repeated spaces removed ("" if not text)."""
    return " ".join(name.split()) if isinstance(name, str) else ""


def category_key(name: Any) -> str:
    """The form categories are compared in: cleaned and case-folded."""
    return clean_category(name).casefold()


def clean_categories(names: Iterable[Any]) -> tuple[str, ...]:
    """Cleaned names, empty ones dropped, duplicates (by :func:`category_key`) once.

    Outlook separates categories with commas in its own storage, so a comma inside
    a name is read as a separator, the same way Outlook does.
    """
    seen: set[str] = set()
    out: list[str] = []
    for raw in names:
        for part in raw.split(",") if isinstance(raw, str) else ():
            name = clean_category(part)
            key = name.casefold()
            if name and key not in seen:
                seen.add(key)
                out.append(name)
    return tuple(out)


def categories_need_cleaning(names: Iterable[Any]) -> bool:
    """True when ``names`` are not already clean (extra spaces, repeats, empty names)."""
    names = tuple(names)
    return names != clean_categories(names)


def join_categories(names: Iterable[str]) -> str:
    """Categories as stored in Odoo: ``"Customer, Focus time"``."""
    return CATEGORY_SEPARATOR.join(clean_categories(names))


def split_categories(text: str | None) -> tuple[str, ...]:
    """The inverse of :func:`join_categories`."""
    return clean_categories([text]) if text else ()


def is_ignored(categories: Iterable[str], ignored_keys: Collection[str]) -> bool:
    """True when one of ``categories`` is ignored (``ignored_keys``: :func:`category_key` forms)."""
    return any(category_key(name) in ignored_keys for name in categories)


# --------------------------------------------------------------------------- showAs


def show_as_key(value: Any) -> str | None:
    """Graph's spelling of a known ``showAs`` value, whatever its case; ``None`` if unknown."""
    return _SHOW_AS_BY_KEY.get(value.strip().lower()) if isinstance(value, str) else None


def counts_as_busy(show_as: Any) -> bool:
    """busy, tentative and oof count; free, workingElsewhere and unknown values do not."""
    return show_as_key(show_as) in SHOW_AS_BUSY


# --------------------------------------------------------------------------- validation


def _naive(moment: datetime) -> datetime:
    """Naive UTC with whole seconds (Odoo's Datetime columns)."""
    return naive_utc(moment).replace(microsecond=0)


def check_slot(slot: BusySlot, max_days: int = MAX_SLOT_DAYS) -> str | None:
    """Why ``slot`` cannot be counted, in plain words; ``None`` when it is fine."""
    start, end = as_utc(slot.start), as_utc(slot.end)
    if end <= start:
        return "ends at or before its start"
    if end - start > timedelta(days=max_days):
        days = (end - start).total_seconds() / 86400
        return f"lasts {days:.1f} days, more than the {max_days} days busy time accepts"
    if show_as_key(slot.show_as) is None:
        return f"has an unknown availability (showAs {slot.show_as!r})"
    if slot.is_all_day and not (_is_midnight(start) and _is_midnight(end)):
        return "is all-day but does not run from midnight to midnight"
    return None


def _is_midnight(moment: datetime) -> bool:
    return moment.time() == time(0)


# --------------------------------------------------------------------------- stored form


@dataclass(frozen=True)
class SlotRecord:
    """A busy slot in the form Odoo stores it (naive UTC, whole seconds).

    Privacy: there is no place here for a title, body, location or attendee.
    """

    event_id: str
    start: datetime
    stop: datetime
    all_day: bool = False
    show_as: str = "busy"
    categories: str = ""
    sensitivity: str | None = None
    event_type: str | None = None

    @property
    def category_names(self) -> tuple[str, ...]:
        return split_categories(self.categories)

    def counts(self, ignored_keys: Collection[str] = ()) -> bool:
        return counts_as_busy(self.show_as) and not is_ignored(self.category_names, ignored_keys)

    def interval(self) -> BusyInterval:
        return BusyInterval(self.start, self.stop, self.all_day)


def slot_record(slot: BusySlot) -> SlotRecord:
    """The stored form of a slot that passed :func:`check_slot`."""
    sensitivity = (slot.sensitivity or "").strip().lower() or None
    event_type = next(
        (name for name in EVENT_TYPES if name.lower() == (slot.event_type or "").lower()), None
    )
    show_as = show_as_key(slot.show_as) or "busy"
    if show_as == "busy" and (slot.response or "").lower() == "tentativelyaccepted":
        show_as = "tentative"  # accepted tentatively: counts on the user's option
    return SlotRecord(
        event_id=slot.event_id,
        start=_naive(slot.start),
        stop=_naive(slot.end),
        all_day=slot.is_all_day,
        show_as=show_as,
        categories=join_categories(slot.categories),
        sensitivity=sensitivity if sensitivity in SENSITIVITIES else None,
        event_type=event_type,
    )


def prepare_slots(
    slots: Iterable[BusySlot], max_days: int = MAX_SLOT_DAYS
) -> tuple[list[SlotRecord], list[SkippedItem]]:
    """Valid slots in stored form (each event id once, the last seen wins) and the rejects."""
    kept: dict[str, SlotRecord] = {}
    skipped: list[SkippedItem] = []
    for slot in slots:
        reason = check_slot(slot, max_days)
        if reason:
            skipped.append(SkippedItem(slot.event_id, reason))
            continue
        if (slot.response or "").lower() == "declined":
            # A declined invitation kept in the calendar is never busy time (rules.py).
            kept.pop(slot.event_id, None)
            continue
        kept[slot.event_id] = slot_record(slot)
    return list(kept.values()), skipped


# --------------------------------------------------------------------------- reconciliation


@dataclass
class ReconcilePlan:
    """What to do with the stored slots of one mailbox after reading its window.

    ``update`` and ``delete`` carry the caller's reference of each stored slot
    (an Odoo id) with its old stored form, so the days it covered can be recomputed.
    """

    create: list[SlotRecord] = field(default_factory=list)
    update: list[tuple[Hashable, SlotRecord, SlotRecord]] = field(default_factory=list)
    delete: list[tuple[Hashable, SlotRecord]] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.create or self.update or self.delete)


def reconcile(
    stored: Iterable[tuple[Hashable, SlotRecord]], fetched: Iterable[SlotRecord]
) -> ReconcilePlan:
    """Compare the stored slots of one mailbox with what Graph returned for its window.

    ``stored`` must hold every stored slot of the window plus any stored slot whose
    event id was fetched. New event ids are created, changed ones updated, stored
    ones that did not come back deleted, equal ones left alone. A duplicate stored
    row of the same event id is deleted.
    """
    plan = ReconcilePlan()
    by_id: dict[str, tuple[Hashable, SlotRecord]] = {}
    for ref, record in stored:
        if record.event_id in by_id:
            plan.delete.append((ref, record))
        else:
            by_id[record.event_id] = (ref, record)
    for record in {r.event_id: r for r in fetched}.values():
        known = by_id.pop(record.event_id, None)
        if known is None:
            plan.create.append(record)
        elif known[1] != record:
            plan.update.append((known[0], known[1], record))
        else:
            plan.unchanged += 1
    plan.delete.extend(by_id.values())
    return plan


# --------------------------------------------------------------------------- intervals


def union(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-overlapping UTC intervals covering the same time (touching ones merge)."""
    spans = sorted((as_utc(s), as_utc(e)) for s, e in intervals)
    out: list[Interval] = []
    for start, end in spans:
        if end <= start:
            continue
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def intersect(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """The time covered by both (inputs in any order; result sorted)."""
    left, right = union(a), union(b)
    out: list[Interval] = []
    i = j = 0
    while i < len(left) and j < len(right):
        start = max(left[i][0], right[j][0])
        end = min(left[i][1], right[j][1])
        if start < end:
            out.append((start, end))
        if left[i][1] <= right[j][1]:
            i += 1
        else:
            j += 1
    return out


def subtract(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """The time of ``a`` not covered by ``b``."""
    out: list[Interval] = []
    cuts = union(b)
    for start, end in union(a):
        cursor = start
        for cut_start, cut_end in cuts:
            if cut_end <= cursor:
                continue
            if cut_start >= end:
                break
            if cut_start > cursor:
                out.append((cursor, cut_start))
            cursor = max(cursor, cut_end)
            if cursor >= end:
                break
        if cursor < end:
            out.append((cursor, end))
    return out


def hours(intervals: Iterable[Interval]) -> float:
    """Total length in hours of already disjoint intervals (use :func:`union` first)."""
    return sum((as_utc(e) - as_utc(s)).total_seconds() for s, e in intervals) / 3600.0


def _clip(
    sorted_disjoint: list[Interval],
    low: datetime,
    high: datetime,
    ends: list[datetime] | None = None,
) -> list[Interval]:
    """The parts of sorted disjoint intervals inside [low, high).

    ``ends`` (the intervals' ends, precomputed by callers that clip many times) lets
    a bisection skip everything before ``low``.
    """
    if ends is None:
        ends = [end for _start, end in sorted_disjoint]
    out: list[Interval] = []
    for start, end in sorted_disjoint[bisect_right(ends, low) :]:
        if start >= high:
            break
        out.append((max(start, low), min(end, high)))
    return out


# --------------------------------------------------------------------------- days


@lru_cache(maxsize=256)
def _zone(name: str) -> tzinfo:
    """The user's zone; a name that is no zone (of any shape) counts in UTC."""
    if name.upper() in {"UTC", "ETC/UTC", "GMT"}:
        return UTC
    try:
        return resolve_zone(name)
    except ValueError:
        return UTC


def _as_zone(zone: str | tzinfo | None) -> tzinfo:
    if zone is None:
        return UTC
    if isinstance(zone, str):
        return _zone(zone)
    return zone


def day_bounds(day: date, zone: str | tzinfo | None) -> Interval:
    """Local midnight to the next local midnight of ``day``, in UTC (23 or 25 h on DST days)."""
    tz = _as_zone(zone)
    start = _local_midnight(day, tz)
    end = _local_midnight(day + timedelta(days=1), tz)
    return start, end


def _local_midnight(day: date, tz: tzinfo) -> datetime:
    if isinstance(tz, ZoneInfo) or tz is UTC:
        return datetime.combine(day, time(0), tz).astimezone(UTC)
    # pytz zones (Odoo passes them around) need localize() for the right offset.
    localize: Callable[[datetime], datetime] | None = getattr(tz, "localize", None)
    naive = datetime.combine(day, time(0))
    local = localize(naive) if localize else naive.replace(tzinfo=tz)
    return local.astimezone(UTC)


def slot_days(
    start: datetime, stop: datetime, all_day: bool, zone: str | tzinfo | None
) -> list[date]:
    """The local days a slot covers (all-day: its floating dates, end exclusive)."""
    if all_day:
        first, last = start.date(), stop.date() - timedelta(days=1)
    else:
        tz = _as_zone(zone)
        first = as_utc(start).astimezone(tz).date()
        last_moment = as_utc(stop) - timedelta(microseconds=1)
        last = max(first, last_moment.astimezone(tz).date())
    if last < first:
        return []
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@dataclass(frozen=True)
class BusyWindow:
    """The days an import covers and the UTC window it reads.

    ``first_day``..``last_day`` are the workload days. The read window adds a day
    on each side so that every time zone's local days (UTC-12 to UTC+14) are read
    completely.
    """

    first_day: date
    last_day: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day - timedelta(days=1), time(0), UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last_day + timedelta(days=2), time(0), UTC)

    @property
    def days(self) -> list[date]:
        count = (self.last_day - self.first_day).days + 1
        return [self.first_day + timedelta(days=n) for n in range(count)]

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first_day <= day <= self.last_day


def busy_window(today: date, past_days: int, future_days: int) -> BusyWindow:
    """``past_days`` before ``today`` to ``future_days`` after it, both included."""
    if past_days < 0 or future_days < 0:
        raise ValueError("the busy-time window cannot have negative days")
    return BusyWindow(today - timedelta(days=past_days), today + timedelta(days=future_days))


# --------------------------------------------------------------------------- workload


@dataclass(frozen=True)
class BusyInterval:
    """A counted appointment for the workload math (times aware or naive UTC)."""

    start: datetime
    end: datetime
    all_day: bool = False


@dataclass(frozen=True)
class DayLoad:
    day: date
    capacity_hours: float
    busy_hours: float


def work_by_day(
    days: Iterable[date],
    zone: str | tzinfo | None,
    attendance: Iterable[Interval],
    leaves: Iterable[Interval] = (),
) -> dict[date, list[Interval]]:
    """Working intervals of each local day: the calendar's attendance minus time off."""
    tz = _as_zone(zone)
    attending = union(attendance)
    attending_ends = [end for _start, end in attending]
    off = union(leaves)
    off_ends = [end for _start, end in off]
    out: dict[date, list[Interval]] = {}
    for day in days:
        low, high = day_bounds(day, tz)
        work = _clip(attending, low, high, attending_ends)
        out[day] = subtract(work, _clip(off, low, high, off_ends)) if off else work
    return out


def busy_by_day(
    work: Mapping[date, Sequence[Interval]],
    zone: str | tzinfo | None,
    busy: Iterable[BusyInterval],
    mode: str,
) -> dict[date, float]:
    """Busy hours of each day of ``work`` (the output of :func:`work_by_day`)."""
    if mode not in MODES:
        raise ValueError(f"unknown calculation mode {mode!r}; expected one of {MODES}")
    tz = _as_zone(zone)
    timed: list[Interval] = []
    all_day_dates: set[date] = set()
    for item in busy:
        if item.all_day:
            all_day_dates.update(slot_days(item.start, item.end, True, tz))
        else:
            timed.append((item.start, item.end))
    timed = union(timed)
    timed_ends = [end for _start, end in timed]
    out: dict[date, float] = {}
    for day, day_work in work.items():
        # An all-day appointment takes the day's working hours; anything else that
        # day can only add time outside them (daily mode).
        extra = list(day_work) if day in all_day_dates else []
        if mode == "exact":
            spans = union(_clip_many(timed, day_work, timed_ends) + extra)
        else:
            low, high = day_bounds(day, tz)
            spans = union(_clip(timed, low, high, timed_ends) + extra)
        out[day] = round(hours(spans), HOUR_DECIMALS)
    return out


def _clip_many(
    sorted_disjoint: list[Interval], windows: Sequence[Interval], ends: list[datetime]
) -> list[Interval]:
    out: list[Interval] = []
    for low, high in windows:
        out.extend(_clip(sorted_disjoint, low, high, ends))
    return out


def workload_days(
    days: Iterable[date],
    zone: str | tzinfo | None,
    attendance: Iterable[Interval],
    leaves: Iterable[Interval],
    busy: Iterable[BusyInterval],
    *,
    mode: str,
) -> dict[date, DayLoad]:
    """Capacity and busy hours of each of ``days`` for one user.

    ``attendance``: the working-time calendar's intervals over (at least) those
    days; ``leaves``: time off; ``busy``: the appointments that count (busy
    ``showAs``, no ignored category); ``mode``: ``"exact"`` or ``"daily"``.
    """
    work = work_by_day(days, zone, attendance, leaves)
    busy_hours = busy_by_day(work, zone, busy, mode)
    return {
        day: DayLoad(day, round(hours(work[day]), HOUR_DECIMALS), busy_hours[day]) for day in work
    }


def planned_by_day(
    work: Mapping[date, Sequence[Interval]],
    zone: str | tzinfo | None,
    planned: Iterable[Interval],
    mode: str,
    busy: Iterable[BusyInterval] = (),
) -> dict[date, float]:
    """Planned hours of each day of ``work``: Odoo activities with a planned time.

    Unlike busy time, planned work adds up: two activities planned at the same hour
    are two pieces of work (an activity without planned start sits at the day's
    working start, so several of them overlap by construction). Each one counts the
    way busy time does in ``mode``: ``exact`` only inside working time, ``daily``
    in full on the local day(s) it covers.

    ``busy``: the day's Outlook busy time (what :func:`busy_by_day` counts). The
    part of an activity that lies in it is already booked — the person cannot do
    the work during the meeting — so it is left out here: planned + busy counts an
    overlap once, as overlapping appointments do.
    """
    if mode not in MODES:
        raise ValueError(f"unknown calculation mode {mode!r}; expected one of {MODES}")
    tz = _as_zone(zone)
    items = [(as_utc(start), as_utc(end)) for start, end in planned if as_utc(end) > as_utc(start)]
    timed: list[Interval] = []
    all_day_dates: set[date] = set()
    for item in busy:
        if item.all_day:
            all_day_dates.update(slot_days(item.start, item.end, True, tz))
        else:
            timed.append((as_utc(item.start), as_utc(item.end)))
    timed = union(timed)
    out: dict[date, float] = {}
    for day, day_work in work.items():
        low, high = day_bounds(day, tz)
        # What Outlook already books that day: its timed busy time, and an all-day
        # appointment's working hours.
        booked = union(
            intersect(timed, [(low, high)]) + (list(day_work) if day in all_day_dates else [])
        )
        total = 0.0
        for start, end in items:
            if end <= low or start >= high:
                continue
            if mode == "exact":
                spans = intersect([(start, end)], list(day_work))
            else:
                spans = [(max(start, low), min(end, high))]
            total += hours(subtract(spans, booked) if booked else spans)
        out[day] = round(total, HOUR_DECIMALS)
    return out


def day_figures(capacity: float, busy: float, planned: float) -> tuple[float, float, bool]:
    """(free hours, load %, overloaded) of a day.

    Load is booked (busy + planned) over capacity. A day without capacity has no
    meaningful percentage: it shows 0 % when nothing is booked, else 100 % and is
    flagged overloaded.
    """
    booked = busy + planned
    free = round(max(capacity - booked, 0.0), HOUR_DECIMALS)
    load = 0.0
    if capacity > 0:
        load = round(100.0 * booked / capacity, 2)
    elif booked > 0:
        load = 100.0
    overloaded = booked - capacity > 10**-HOUR_DECIMALS
    return free, load, overloaded
