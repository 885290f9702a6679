"""Outlook recurrence patterns, validated and expanded with dateutil's rrule.

A series master carries ``recurrence = {pattern, range}``. Occurrences happen at
the master's wall-clock time in the recurrence time zone (so they follow DST),
on the dates the pattern yields from ``range.startDate`` until ``endDate``
(inclusive), for ``numberOfOccurrences``, or forever (``noEnd``). Graph
answers with every field filled in (``month: 0``, ``index: "first"``, …), so
:func:`normalize` does the same.
"""

from __future__ import annotations

from datetime import date, datetime, time

from dateutil import rrule

from .service_errors import GraphError

_WEEKDAYS = {
    "monday": rrule.MO,
    "tuesday": rrule.TU,
    "wednesday": rrule.WE,
    "thursday": rrule.TH,
    "friday": rrule.FR,
    "saturday": rrule.SA,
    "sunday": rrule.SU,
}
_INDEX = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}
_PATTERNS = {
    "daily",
    "weekly",
    "absoluteMonthly",
    "relativeMonthly",
    "absoluteYearly",
    "relativeYearly",
}
_RANGES = {"endDate", "noEnd", "numbered"}


def _invalid(message: str) -> GraphError:
    return GraphError(400, "ErrorInvalidRequest", f"Your request can't be completed. {message}")


def _parse_date(value, field: str) -> date:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise _invalid(f"The recurrence {field} '{value}' is not a valid date.") from None


def normalize(recurrence: dict, default_start: date, default_tz: str) -> dict:
    """Validate a recurrence from a request and fill in Graph's defaults."""
    if not isinstance(recurrence, dict):
        raise _invalid("The recurrence must be an object with 'pattern' and 'range'.")
    pattern = dict(recurrence.get("pattern") or {})
    range_ = dict(recurrence.get("range") or {})
    kind = pattern.get("type")
    if kind not in _PATTERNS:
        raise _invalid(f"The recurrence pattern type '{kind}' is not supported.")
    interval = pattern.get("interval", 1)
    if not isinstance(interval, int) or interval < 1:
        raise _invalid("The recurrence pattern interval must be a positive integer.")
    days = [str(d).lower() for d in pattern.get("daysOfWeek") or []]
    if any(d not in _WEEKDAYS for d in days):
        raise _invalid(f"The recurrence daysOfWeek {days} contains an invalid day.")
    if kind in ("weekly", "relativeMonthly", "relativeYearly") and not days:
        raise _invalid(f"A {kind} recurrence pattern needs daysOfWeek.")
    day_of_month = int(pattern.get("dayOfMonth") or 0)
    if kind in ("absoluteMonthly", "absoluteYearly") and not 1 <= day_of_month <= 31:
        raise _invalid(f"A {kind} recurrence pattern needs a dayOfMonth between 1 and 31.")
    month = int(pattern.get("month") or 0)
    if kind in ("absoluteYearly", "relativeYearly") and not 1 <= month <= 12:
        raise _invalid(f"A {kind} recurrence pattern needs a month between 1 and 12.")
    index = pattern.get("index") or "first"
    if index not in _INDEX:
        raise _invalid(f"The recurrence index '{index}' is not valid.")
    first_day = (pattern.get("firstDayOfWeek") or "sunday").lower()
    if first_day not in _WEEKDAYS:
        raise _invalid(f"The recurrence firstDayOfWeek '{first_day}' is not valid.")

    range_type = range_.get("type", "noEnd")
    if range_type not in _RANGES:
        raise _invalid(f"The recurrence range type '{range_type}' is not supported.")
    start = (
        _parse_date(range_["startDate"], "startDate") if range_.get("startDate") else default_start
    )
    end_value = "0001-01-01"
    if range_type == "endDate":
        if not range_.get("endDate"):
            raise _invalid("An endDate recurrence range needs an endDate.")
        end = _parse_date(range_["endDate"], "endDate")
        if end < start:
            raise _invalid("The recurrence endDate must not be before its startDate.")
        end_value = end.isoformat()
    count = int(range_.get("numberOfOccurrences") or 0)
    if range_type == "numbered" and count < 1:
        raise _invalid("A numbered recurrence range needs numberOfOccurrences of at least 1.")
    return {
        "pattern": {
            "type": kind,
            "interval": interval,
            "month": month,
            "dayOfMonth": day_of_month,
            "daysOfWeek": days,
            "firstDayOfWeek": first_day,
            "index": index,
        },
        "range": {
            "type": range_type,
            "startDate": start.isoformat(),
            "endDate": end_value,
            "recurrenceTimeZone": range_.get("recurrenceTimeZone") or default_tz,
            "numberOfOccurrences": count if range_type == "numbered" else 0,
        },
    }


def rule(recurrence: dict, wall_time: time) -> rrule.rrule:
    """The rrule of a normalized recurrence; occurrences are naive wall-clock datetimes."""
    pattern, range_ = recurrence["pattern"], recurrence["range"]
    kind = pattern["type"]
    days = [_WEEKDAYS[d] for d in pattern["daysOfWeek"]]
    kwargs: dict = {
        "interval": pattern["interval"],
        "dtstart": datetime.combine(date.fromisoformat(range_["startDate"]), wall_time),
        "wkst": _WEEKDAYS[pattern["firstDayOfWeek"]],
        "cache": False,
    }
    if kind == "daily":
        freq = rrule.DAILY
    elif kind == "weekly":
        freq = rrule.WEEKLY
        kwargs["byweekday"] = days
    elif kind == "absoluteMonthly":
        freq = rrule.MONTHLY
        kwargs["bymonthday"] = pattern["dayOfMonth"]
    elif kind == "relativeMonthly":
        freq = rrule.MONTHLY
        kwargs["byweekday"] = days
        kwargs["bysetpos"] = _INDEX[pattern["index"]]
    elif kind == "absoluteYearly":
        freq = rrule.YEARLY
        kwargs["bymonth"] = pattern["month"]
        kwargs["bymonthday"] = pattern["dayOfMonth"]
    else:  # relativeYearly
        freq = rrule.YEARLY
        kwargs["bymonth"] = pattern["month"]
        kwargs["byweekday"] = days
        kwargs["bysetpos"] = _INDEX[pattern["index"]]
    if range_["type"] == "endDate":
        kwargs["until"] = datetime.combine(date.fromisoformat(range_["endDate"]), time(23, 59, 59))
    elif range_["type"] == "numbered":
        kwargs["count"] = range_["numberOfOccurrences"]
    return rrule.rrule(freq, **kwargs)


def local_starts(
    recurrence: dict, wall_time: time, low: datetime, high: datetime
) -> list[datetime]:
    """Wall-clock starts of occurrences between ``low`` and ``high`` (naive, inclusive)."""
    return rule(recurrence, wall_time).between(low, high, inc=True)


def first_start(recurrence: dict, wall_time: time) -> datetime | None:
    """The first occurrence (the series may start after range.startDate)."""
    occurrences = rule(recurrence, wall_time)
    return next(iter(occurrences), None)
