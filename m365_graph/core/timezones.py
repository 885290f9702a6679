"""Graph date-times to aware UTC ``datetime`` and back.

Why this file exists: Graph gives event times as ``{"dateTime": "2024-05-01T09:00:00.0000000",
"timeZone": "..."}`` — a naive local time plus a zone name that may be ``UTC``, an IANA
name, or a *Windows* zone name ("W. Europe Standard Time"). We ask for UTC on every
read (``Prefer: outlook.timezone="UTC"``), but an item can still arrive in another zone
(e.g. the ``originalStartTimeZone`` style fields, or a server that ignores the Prefer
header), so every parse goes through :func:`parse_graph_datetime`. Windows names are
resolved with tzlocal's CLDR table, IANA names with :mod:`zoneinfo`.

Odoo stores naive datetimes meaning UTC; :func:`to_graph_datetime` accepts those.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.parser import isoparse
from tzlocal.windows_tz import tz_win, win_tz

from .errors import BadResponse

__all__ = [
    "as_utc",
    "format_query_datetime",
    "iana_to_windows",
    "naive_utc",
    "parse_graph_datetime",
    "parse_iso_utc",
    "resolve_zone",
    "to_graph_datetime",
    "windows_to_iana",
]

# IANA keys: ASCII letters, digits and "_+-" in "/"-separated parts, no "." parts.
_ZONE_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]{0,40}(?:/[A-Za-z0-9][A-Za-z0-9_+\-]{0,40}){0,3}")
_UTC_NAMES = frozenset({"utc", "etc/utc", "gmt", "z", "coordinated universal time", "utc+00:00"})


def windows_to_iana(name: str) -> str | None:
    """IANA zone for a Windows zone name ("Romance Standard Time" → "Europe/Paris")."""
    return win_tz.get(name)


def iana_to_windows(name: str) -> str | None:
    """Windows zone name for an IANA zone ("Europe/Paris" → "Romance Standard Time").

    Outlook keeps the zone of an event's start and of a recurrence as a Windows name;
    sending it that way keeps DST right for the whole series.
    """
    return tz_win.get((name or "").strip())


@lru_cache(maxsize=512)
def resolve_zone(name: str) -> tzinfo:
    """A ``tzinfo`` for a Graph ``timeZone`` value; ``ValueError`` if unknown."""
    clean = (name or "").strip() if isinstance(name, str) else ""
    if not clean or clean.lower() in _UTC_NAMES:  # no zone given: Graph's default, UTC
        return timezone.utc
    iana = windows_to_iana(clean) or clean
    if not _ZONE_KEY.fullmatch(iana):
        # Not the shape of any zone name: never handed to the file system.
        raise ValueError(f"unknown time zone {str(name)[:80]!r}")
    try:
        return ZoneInfo(iana)
    except (ZoneInfoNotFoundError, ValueError, OSError, UnicodeError) as exc:
        # Unknown key, a data file that is not a zone (zone.tab), a name too long…
        raise ValueError(f"unknown time zone {str(name)[:80]!r}") from exc


def parse_iso_utc(value: Any, field: str) -> datetime:
    """Parse an ISO 8601 timestamp (``lastModifiedDateTime`` style) to aware UTC."""
    if not isinstance(value, str) or not value:
        raise BadResponse(
            f"Graph returned an invalid date-time in field '{field}': {str(value)[:40]!r}",
            field=field,
        )
    try:
        parsed = _fromisoformat(value)
    except (ValueError, OverflowError) as exc:
        raise BadResponse(
            f"Graph returned an invalid date-time in field '{field}': {value[:40]!r}",
            field=field,
        ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    try:
        return parsed.astimezone(timezone.utc)
    except (OverflowError, ValueError) as exc:  # year 1 or 9999 shifted out of range
        raise BadResponse(
            f"Graph returned a date-time out of range in field '{field}': {value[:40]!r}",
            field=field,
        ) from exc


def _fromisoformat(text: str) -> datetime:
    # Fast path (busy time parses ~100,000 of these per run): Python 3.11's
    # fromisoformat reads Graph's seven fractional digits; older versions and odd
    # forms fall back to dateutil.
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return isoparse(text)


def parse_graph_datetime(value: Any, field: str) -> datetime:
    """``{"dateTime", "timeZone"}`` → aware UTC ``datetime``; ``BadResponse`` names ``field``.

    Graph writes seven fractional digits ("…T09:00:00.0000000"): ``fromisoformat``
    reads them from Python 3.11, dateutil's isoparse on older versions.
    """
    if not isinstance(value, dict):
        raise BadResponse(
            f"Graph returned no usable '{field}' (expected an object with dateTime and "
            f"timeZone, got {type(value).__name__})",
            field=field,
        )
    raw = value.get("dateTime")
    zone_name = value.get("timeZone") or "UTC"
    if not isinstance(raw, str) or not raw:
        raise BadResponse(
            f"Graph returned no '{field}.dateTime' (got {str(raw)[:40]!r})",
            field=f"{field}.dateTime",
        )
    if not isinstance(zone_name, str):
        raise BadResponse(
            f"Graph returned an invalid '{field}.timeZone': {str(zone_name)[:40]!r}",
            field=f"{field}.timeZone",
        )
    try:
        parsed = _fromisoformat(raw)
    except (ValueError, OverflowError) as exc:
        raise BadResponse(
            f"Graph returned an invalid '{field}.dateTime': {raw[:40]!r}",
            field=f"{field}.dateTime",
        ) from exc
    if parsed.tzinfo is None:
        try:
            parsed = parsed.replace(tzinfo=resolve_zone(zone_name))
        except ValueError as exc:
            raise BadResponse(
                f"Graph returned an unknown time zone in '{field}.timeZone': {zone_name[:80]!r}",
                field=f"{field}.timeZone",
            ) from exc
    try:
        return parsed.astimezone(timezone.utc)
    except (OverflowError, ValueError) as exc:  # year 1 or 9999 shifted out of range
        raise BadResponse(
            f"Graph returned a date-time out of range in '{field}': {raw[:40]!r}",
            field=f"{field}.dateTime",
        ) from exc


def as_utc(moment: datetime) -> datetime:
    """Aware UTC; a naive datetime is taken as UTC (Odoo's convention)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def naive_utc(moment: datetime) -> datetime:
    """Naive UTC, the way Odoo stores datetimes; a naive datetime is already that.

    m365_graph's one naive-UTC helper (exported as ``m365_graph.naive_utc``); an
    empty Odoo value (``False``/``None``) is the caller's to handle.
    """
    return as_utc(moment).replace(tzinfo=None)


def to_graph_datetime(moment: datetime) -> dict[str, str]:
    """Aware (or naive-UTC) ``datetime`` → Graph ``dateTimeTimeZone`` in UTC."""
    utc = as_utc(moment)
    return {"dateTime": utc.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}


def format_query_datetime(moment: datetime) -> str:
    """``datetime`` → the ``startDateTime``/``endDateTime`` query form (UTC, ``Z``)."""
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")
