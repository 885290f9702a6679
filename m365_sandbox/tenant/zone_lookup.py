"""Time zones and date-time formats the way Outlook speaks them.

Graph accepts Windows zone names ("W. Europe Standard Time") and IANA names
("Europe/Berlin") in ``start.timeZone``, ``recurrenceTimeZone`` and the
``Prefer: outlook.timezone="…"`` header, and writes date-times as
``2026-11-21T09:00:00.0000000`` (seven fractional digits, no offset, the zone
next to it). This module converts between those strings and aware datetimes,
using tzlocal's Windows↔IANA table.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tzlocal import windows_tz

from .service_errors import GraphError

UTC = timezone.utc

_FRACTION = re.compile(r"(\.\d{1,6})\d*")
_UTC_NAMES = {
    "utc",
    "etc/utc",
    "gmt",
    "etc/gmt",
    "z",
    "tzone://microsoft/utc",
    "coordinated universal time",
}


@lru_cache(maxsize=512)
def zone(name: str | None):
    """Return a tzinfo for a Windows or IANA zone name, or None if unknown."""
    if not name:
        return None
    key = name.strip().strip('"')
    if key.lower() in _UTC_NAMES:
        return UTC
    iana = windows_tz.win_tz.get(key)
    if iana is None:
        # Windows names are matched case-insensitively by Exchange.
        lowered = {k.lower(): v for k, v in windows_tz.win_tz.items()}
        iana = lowered.get(key.lower())
    try:
        return ZoneInfo(iana or key)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def require_zone(name: str | None):
    """Like :func:`zone` but answer Graph's error for an unknown name."""
    tz = zone(name or "UTC")
    if tz is None:
        raise GraphError(
            400,
            "TimeZoneNotSupportedException",
            "A valid TimeZone value must be specified. The following TimeZone value is "
            f"not supported: '{name}'.",
        )
    return tz


def windows_name(name: str) -> str:
    """The Windows name of a zone (Outlook reports original zones that way)."""
    if zone(name) is UTC:
        return "UTC"
    return windows_tz.tz_win.get(name, name)


def parse_local(value: str) -> datetime:
    """Parse a Graph ``dateTime`` string; keeps an explicit offset if there is one."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    text = _FRACTION.sub(lambda m: m.group(1), text)
    return datetime.fromisoformat(text)


def parse_query_datetime(value: str, name: str) -> datetime:
    """Parse ``startDateTime``/``endDateTime`` of calendarView (naive means UTC)."""
    try:
        dt = parse_local(value)
    except ValueError:
        raise GraphError(
            400,
            "ErrorInvalidParameter",
            f"The parameter '{name}' is not valid: '{value}'.",
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def parse_datetime_timezone(value: dict | None, field: str) -> tuple[datetime, str]:
    """Parse a ``dateTimeTimeZone`` object into (aware UTC datetime, zone name)."""
    if not isinstance(value, dict) or not value.get("dateTime"):
        raise GraphError(
            400,
            "ErrorInvalidRequest",
            f"Your request can't be completed. The '{field}' property must contain a dateTime.",
        )
    tz_name = value.get("timeZone") or "UTC"
    tz = require_zone(tz_name)
    try:
        dt = parse_local(value["dateTime"])
    except ValueError:
        raise GraphError(
            400,
            "ErrorInvalidRequest",
            f"Cannot convert the literal '{value['dateTime']}' to the expected type "
            "'Edm.DateTime'.",
        ) from None
    dt = dt.replace(tzinfo=tz) if dt.tzinfo is None else dt
    return dt.astimezone(UTC), tz_name


def to_utc(local_naive: datetime, tz) -> datetime:
    """Interpret a wall-clock time in ``tz`` and return it in UTC."""
    return local_naive.replace(tzinfo=tz).astimezone(UTC)


def format_graph(dt: datetime) -> str:
    """``2026-11-21T09:00:00.0000000`` (Graph's seven-digit, offset-less form)."""
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond:06d}0"


def format_stamp(dt: datetime) -> str:
    """``2026-11-21T09:00:00.1234567Z`` for createdDateTime and friends."""
    return format_graph(dt.astimezone(UTC)) + "Z"


def date_time_time_zone(dt_utc: datetime, tz, tz_name: str) -> dict:
    return {"dateTime": format_graph(dt_utc.astimezone(tz)), "timeZone": tz_name}


def floating(day: datetime, tz_name: str) -> dict:
    """All-day events are floating: midnight in whatever zone is asked for."""
    return {"dateTime": format_graph(day), "timeZone": tz_name}
