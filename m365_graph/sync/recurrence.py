"""Odoo recurrence rules ↔ Outlook recurrence patterns.

Why this file exists: an appointment series created in Odoo must become *one*
Outlook series (not hundreds of single events), and an Outlook series read back
must be understood in Odoo's terms. Odoo's ``calendar.recurrence`` describes a
rule with a handful of fields (``rrule_type``, ``interval``, weekday booleans,
``month_by`` + ``day`` or ``weekday`` + ``byday``, ``end_type`` + ``count`` /
``until``); Graph's ``patternedRecurrence`` is ``{pattern, range}``. This module
converts between the two as plain values, so the Odoo layer never builds Graph
JSON and the mapping is tested without Odoo.

Graph quirks and the choices made here:

* Yearly rules: Odoo repeats on the first occurrence's month and day, which is
  Graph's ``absoluteYearly`` with ``month`` and ``dayOfMonth``. Graph's
  ``relativeYearly`` ("second Tuesday of March") has no Odoo equivalent:
  :func:`from_graph` raises :class:`UnsupportedRecurrence` for it.
* Monthly on a day of month 29, 30 or 31: Odoo (RFC 5545) skips months that lack that
  day; Outlook puts the occurrence on the month's last day. There is no way to ask
  Outlook to skip, so such a series has a few more occurrences in Outlook — the
  only known difference, documented in the addon's usage notes.
* ``range.startDate`` is the date of the first occurrence *in the series' time
  zone*, and ``recurrenceTimeZone`` names that zone (a Windows name when one is
  known, as Outlook itself stores it): occurrences then follow that zone's DST.
* "Forever" is Graph's ``noEnd``; Odoo itself caps how many occurrences it
  materialises, Outlook does not need to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..core.errors import BadResponse
from ..core.timezones import iana_to_windows, windows_to_iana

__all__ = [
    "Recurrence",
    "UnsupportedRecurrence",
    "from_graph",
    "to_graph",
]

WEEKDAY_FIELDS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
GRAPH_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_FIELD_TO_GRAPH = dict(zip(WEEKDAY_FIELDS, GRAPH_DAYS, strict=True))
_GRAPH_TO_FIELD = {graph: odoo for odoo, graph in _FIELD_TO_GRAPH.items()}
# Odoo's monthly "weekday" selection uses MON..SUN.
_ODOO_WEEKDAY_TO_GRAPH = {f.upper(): g for f, g in _FIELD_TO_GRAPH.items()}
_GRAPH_TO_ODOO_WEEKDAY = {g: f for f, g in _ODOO_WEEKDAY_TO_GRAPH.items()}
_BYDAY_TO_INDEX = {"1": "first", "2": "second", "3": "third", "4": "fourth", "-1": "last"}
_INDEX_TO_BYDAY = {index: byday for byday, index in _BYDAY_TO_INDEX.items()}


class UnsupportedRecurrence(ValueError):
    """An Outlook pattern Odoo's recurrence rules cannot express."""


@dataclass(frozen=True)
class Recurrence:
    """An Odoo ``calendar.recurrence`` as plain values (field names are Odoo's)."""

    rrule_type: str  # daily | weekly | monthly | yearly
    interval: int = 1
    end_type: str = "count"  # count | end_date | forever
    count: int = 1
    until: date | None = None
    weekdays: frozenset[str] = field(default_factory=frozenset)  # {"mon", …} for weekly
    month_by: str = "date"  # date | day, for monthly
    day: int = 1  # day of month when month_by == "date"
    weekday: str | None = None  # MON..SUN when month_by == "day"
    byday: str | None = None  # "1".."4" or "-1" when month_by == "day"

    def __post_init__(self) -> None:
        if self.rrule_type not in {"daily", "weekly", "monthly", "yearly"}:
            raise ValueError(f"unknown repeat type {self.rrule_type!r}")
        if self.interval < 1:
            raise ValueError("a recurrence repeats every 1 or more periods")
        if self.end_type not in {"count", "end_date", "forever"}:
            raise ValueError(f"unknown end type {self.end_type!r}")
        if self.end_type == "count" and self.count < 1:
            raise ValueError("a recurrence with a number of repetitions needs at least one")
        if self.end_type == "end_date" and self.until is None:
            raise ValueError("a recurrence that ends on a date needs that date")
        if self.rrule_type == "weekly":
            unknown = set(self.weekdays) - set(WEEKDAY_FIELDS)
            if unknown or not self.weekdays:
                raise ValueError("a weekly recurrence needs at least one day of the week")
        if self.rrule_type == "monthly":
            if self.month_by == "date" and not 1 <= self.day <= 31:
                raise ValueError(f"day of month {self.day} is not between 1 and 31")
            if self.month_by == "day" and (
                self.weekday not in _ODOO_WEEKDAY_TO_GRAPH or self.byday not in _BYDAY_TO_INDEX
            ):
                raise ValueError("a monthly recurrence by weekday needs a weekday and its rank")


def _zone_name(iana: str | None) -> str:
    if not iana:
        return "UTC"
    return iana_to_windows(iana) or iana


def to_graph(
    rule: Recurrence,
    first_date: date,
    *,
    time_zone: str | None,
    first_day_of_week: str = "monday",
) -> dict[str, Any]:
    """Graph's ``patternedRecurrence`` for ``rule`` starting on ``first_date``.

    ``first_date`` is the first occurrence's date in ``time_zone`` (an IANA name,
    Odoo's ``event_tz``); ``first_day_of_week`` matters for weekly rules repeating
    every 2+ weeks (Odoo takes it from the user's language).
    """
    pattern: dict[str, Any] = {"interval": rule.interval}
    if rule.rrule_type == "daily":
        pattern["type"] = "daily"
    elif rule.rrule_type == "weekly":
        pattern["type"] = "weekly"
        pattern["daysOfWeek"] = [_FIELD_TO_GRAPH[d] for d in WEEKDAY_FIELDS if d in rule.weekdays]
        pattern["firstDayOfWeek"] = first_day_of_week
    elif rule.rrule_type == "monthly" and rule.month_by == "day":
        pattern["type"] = "relativeMonthly"
        pattern["daysOfWeek"] = [_ODOO_WEEKDAY_TO_GRAPH[rule.weekday]]  # type: ignore[index]
        pattern["index"] = _BYDAY_TO_INDEX[rule.byday]  # type: ignore[index]
    elif rule.rrule_type == "monthly":
        pattern["type"] = "absoluteMonthly"
        pattern["dayOfMonth"] = rule.day
    else:
        pattern["type"] = "absoluteYearly"
        pattern["dayOfMonth"] = first_date.day
        pattern["month"] = first_date.month

    range_: dict[str, Any] = {
        "startDate": first_date.isoformat(),
        "recurrenceTimeZone": _zone_name(time_zone),
    }
    if rule.end_type == "count":
        range_["type"] = "numbered"
        range_["numberOfOccurrences"] = rule.count
    elif rule.end_type == "end_date":
        range_["type"] = "endDate"
        range_["endDate"] = rule.until.isoformat()  # type: ignore[union-attr]
    else:
        range_["type"] = "noEnd"
    return {"pattern": pattern, "range": range_}


def _int(obj: Mapping[str, Any], name: str, default: int | None = None) -> int:
    value = obj.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadResponse(f"recurrence: '{name}' is not a number: {value!r}", field=name)
    return value


def _date(obj: Mapping[str, Any], name: str) -> date:
    value = obj.get(name)
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError as exc:
        raise BadResponse(f"recurrence: '{name}' is not a date: {value!r}", field=name) from exc


def from_graph(recurrence: Any) -> tuple[Recurrence, date, str | None]:
    """Odoo's view of a Graph ``patternedRecurrence``.

    Returns ``(rule, first_date, iana_zone)``; raises :class:`BadResponse` for a
    malformed object and :class:`UnsupportedRecurrence` for a pattern Odoo
    cannot express.
    """
    if not isinstance(recurrence, Mapping):
        raise BadResponse("recurrence: not an object", field="recurrence")
    pattern = recurrence.get("pattern")
    range_ = recurrence.get("range")
    if not isinstance(pattern, Mapping) or not isinstance(range_, Mapping):
        raise BadResponse("recurrence: 'pattern' and 'range' are required", field="recurrence")
    kind = pattern.get("type")
    interval = _int(pattern, "interval", 1)
    days = pattern.get("daysOfWeek") or []
    if not isinstance(days, list) or any(d not in _GRAPH_TO_FIELD for d in days):
        raise BadResponse(f"recurrence: unknown days of week {days!r}", field="daysOfWeek")

    values: dict[str, Any] = {"interval": max(interval, 1)}
    if kind == "daily":
        values["rrule_type"] = "daily"
    elif kind == "weekly":
        values["rrule_type"] = "weekly"
        values["weekdays"] = frozenset(_GRAPH_TO_FIELD[d] for d in days)
    elif kind == "absoluteMonthly":
        values.update(rrule_type="monthly", month_by="date", day=_int(pattern, "dayOfMonth"))
    elif kind == "relativeMonthly":
        index = pattern.get("index", "first")
        if len(days) != 1 or index not in _INDEX_TO_BYDAY:
            raise UnsupportedRecurrence(
                "Odoo repeats monthly on one weekday of a given rank; this Outlook series "
                f"uses {days!r} ({index})"
            )
        values.update(
            rrule_type="monthly",
            month_by="day",
            weekday=_GRAPH_TO_ODOO_WEEKDAY[days[0]],
            byday=_INDEX_TO_BYDAY[index],
        )
    elif kind == "absoluteYearly":
        values["rrule_type"] = "yearly"
    elif kind == "relativeYearly":
        raise UnsupportedRecurrence(
            "Odoo cannot repeat yearly on a weekday of a month (e.g. the second Tuesday of March)"
        )
    else:
        raise BadResponse(f"recurrence: unknown pattern type {kind!r}", field="pattern.type")

    first_date = _date(range_, "startDate")
    range_type = range_.get("type")
    if range_type == "numbered":
        values.update(end_type="count", count=_int(range_, "numberOfOccurrences"))
    elif range_type == "endDate":
        values.update(end_type="end_date", until=_date(range_, "endDate"))
    elif range_type == "noEnd":
        values["end_type"] = "forever"
    else:
        raise BadResponse(f"recurrence: unknown range type {range_type!r}", field="range.type")

    zone = range_.get("recurrenceTimeZone") or None
    iana = (windows_to_iana(zone) or zone) if zone else None
    try:
        rule = Recurrence(**values)
    except ValueError as exc:
        raise BadResponse(f"recurrence: {exc}", field="recurrence") from exc
    return rule, first_date, iana
