"""The mailbox calendar model: stored events, series, occurrences and exceptions.

Outlook stores single instances and series masters; occurrences are computed
from the master's recurrence, and an occurrence that was changed is stored as
an *exception* (its own change key, overridden fields) while a deleted one is
*cancelled* (it disappears from views). Event ids, change keys and
``@odata.etag`` follow Graph's rules: every change gives a new change key and
``If-Match`` must name the current one.

Each change is numbered with the tenant's sequence counter so that delta
queries can say what changed since a token: an event keeps a few snapshots of
its previous versions, which tells whether it *was* in a calendar window and
therefore must be reported ``@removed`` when it leaves the window.
"""

from __future__ import annotations

import copy
import html
import re
from datetime import datetime, time, timedelta
from urllib.parse import quote

from . import recurrence_expansion
from .service_errors import GraphError
from .zone_lookup import (
    UTC,
    date_time_time_zone,
    floating,
    format_stamp,
    parse_datetime_timezone,
    zone,
)

# Every property of microsoft.graph.event that $select may name.
EVENT_PROPERTIES = frozenset(
    {
        "id",
        "createdDateTime",
        "lastModifiedDateTime",
        "changeKey",
        "categories",
        "transactionId",
        "originalStartTimeZone",
        "originalEndTimeZone",
        "iCalUId",
        "reminderMinutesBeforeStart",
        "isReminderOn",
        "hasAttachments",
        "subject",
        "bodyPreview",
        "importance",
        "sensitivity",
        "isAllDay",
        "isCancelled",
        "isOrganizer",
        "responseRequested",
        "seriesMasterId",
        "showAs",
        "type",
        "webLink",
        "onlineMeetingUrl",
        "isOnlineMeeting",
        "onlineMeetingProvider",
        "allowNewTimeProposals",
        "isDraft",
        "hideAttendees",
        "responseStatus",
        "body",
        "start",
        "end",
        "location",
        "locations",
        "recurrence",
        "attendees",
        "organizer",
        "onlineMeeting",
        "originalStart",
    }
)

# What a client may write (POST/PATCH). Others are read-only and ignored.
WRITABLE = frozenset(
    {
        "subject",
        "body",
        "start",
        "end",
        "isAllDay",
        "showAs",
        "sensitivity",
        "categories",
        "importance",
        "location",
        "locations",
        "attendees",
        "isOnlineMeeting",
        "onlineMeetingProvider",
        "responseRequested",
        "isReminderOn",
        "reminderMinutesBeforeStart",
        "recurrence",
        "transactionId",
        "allowNewTimeProposals",
        "hideAttendees",
        "isDraft",
        "organizer",
        "isCancelled",
        "onlineMeeting",
    }
)
READ_ONLY = EVENT_PROPERTIES - WRITABLE

# Calendars.ReadBasic(.All) hides what an event is about: subject, body, location and
# attendees (Graph docs, "Calendars permissions": ReadBasic "without subject, body,
# location or attendees").
BASIC_HIDDEN = frozenset({"subject", "body", "bodyPreview", "location", "locations", "attendees"})

ENUMS = {
    "showAs": {"free", "tentative", "busy", "oof", "workingElsewhere", "unknown"},
    "sensitivity": {"normal", "personal", "private", "confidential"},
    "importance": {"low", "normal", "high"},
}

_DEFAULT_LOCATION = {
    "displayName": "",
    "locationType": "default",
    "uniqueIdType": "unknown",
    "address": {},
    "coordinates": {},
}
_NO_TIME = "0001-01-01T00:00:00Z"
_DEFAULTS = {
    "categories": [],
    "reminderMinutesBeforeStart": 15,
    "isReminderOn": True,
    "subject": "",
    "importance": "normal",
    "sensitivity": "normal",
    "isCancelled": False,
    "responseRequested": True,
    "showAs": "busy",
    "isOnlineMeeting": False,
    "onlineMeetingProvider": "unknown",
    "allowNewTimeProposals": True,
    "isDraft": False,
    "hideAttendees": False,
    "body": {"contentType": "html", "content": ""},
    "location": _DEFAULT_LOCATION,
    "locations": [],
    "attendees": [],
    "onlineMeeting": None,
}
_HISTORY = 32
_OCCURRENCE_ID = re.compile(r"^(?P<master>.+)_(?P<stamp>\d{8}T\d{6}Z)$")
_TAGS = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"\s+")


def body_preview(body: dict | None) -> str:
    content = (body or {}).get("content") or ""
    if (body or {}).get("contentType", "html").lower() == "html":
        content = re.sub(r"(?is)<(style|script|head)[^>]*>.*?</\1>", " ", content)
        content = html.unescape(_TAGS.sub(" ", content))
    return _SPACES.sub(" ", content).strip()[:255]


def occurrence_id(master_id: str, key: datetime) -> str:
    return f"{master_id}_{key.strftime('%Y%m%dT%H%M%S')}Z"


def parse_occurrence_id(event_id: str) -> tuple[str, datetime] | None:
    match = _OCCURRENCE_ID.match(event_id)
    if not match:
        return None
    return match.group("master"), datetime.strptime(match.group("stamp"), "%Y%m%dT%H%M%SZ")


def _overlaps(start: datetime, end: datetime, low: datetime, high: datetime) -> bool:
    if start == end:  # zero-length events show up if they start inside the window
        return low <= start < high
    return start < high and end > low


class ExceptionRecord:
    """An occurrence that was changed: overrides plus its own change key."""

    __slots__ = ("change_key", "end", "modified", "props", "start", "ver")

    def __init__(self, start, end, change_key, modified, ver):
        self.props: dict = {}
        self.start = start
        self.end = end
        self.change_key = change_key
        self.modified = modified
        self.ver = ver


class StoredEvent:
    """A single instance or a series master as stored in a mailbox."""

    __slots__ = (
        "all_day",
        "cancelled",
        "change_key",
        "created",
        "created_seq",
        "end",
        "end_tz",
        "exceptions",
        "history",
        "ical_uid",
        "id",
        "master_ver",
        "modified",
        "overrides",
        "props",
        "recurrence",
        "start",
        "start_tz",
        "tx_id",
        "ver",
    )

    def __init__(self, event_id: str, ical_uid: str, change_key: str, now: datetime, seq: int):
        self.id = event_id
        self.ical_uid = ical_uid
        self.change_key = change_key
        self.created = now
        self.modified = now
        self.created_seq = seq
        self.ver = seq
        self.master_ver = seq
        self.props: dict = {}
        self.start: datetime = now
        self.end: datetime = now
        self.start_tz = "UTC"
        self.end_tz = "UTC"
        self.all_day = False
        self.recurrence: dict | None = None
        self.tx_id: str | None = None
        self.exceptions: dict[datetime, ExceptionRecord] = {}
        self.cancelled: dict[datetime, int] = {}
        self.history: list[tuple[int, StoredEvent]] = []
        # Raw JSON values forced into every rendering (see TenantState.override_event_json).
        self.overrides: dict = {}

    # -- time helpers ----------------------------------------------------

    @property
    def zone(self):
        return zone(self.start_tz) or UTC

    def utc(self, value: datetime) -> datetime:
        """Aware UTC of a stored instant (all-day dates float in the event's zone)."""
        if value.tzinfo is None:
            return value.replace(tzinfo=self.zone).astimezone(UTC)
        return value

    @property
    def event_type(self) -> str:
        return "seriesMaster" if self.recurrence else "singleInstance"

    def snapshot(self) -> StoredEvent:
        clone = copy.copy(self)
        clone.props = dict(self.props)
        clone.exceptions = dict(self.exceptions)
        clone.cancelled = dict(self.cancelled)
        clone.overrides = dict(self.overrides)
        clone.history = []
        return clone

    def remember(self, seq: int) -> None:
        """Keep the version before change ``seq`` (for delta removals)."""
        self.history.append((seq, self.snapshot()))
        if len(self.history) > _HISTORY:
            del self.history[0]

    def version_at(self, seq: int) -> StoredEvent | None:
        if self.created_seq > seq:
            return None
        for change_seq, snap in self.history:
            if change_seq > seq:
                return snap
        return self

    # -- series ----------------------------------------------------------

    def _series_frame(self):
        tz = zone(self.recurrence["range"].get("recurrenceTimeZone")) or self.zone
        if self.all_day:
            return tz, self.start, self.end - self.start, time(0, 0)
        local = self.start.astimezone(tz).replace(tzinfo=None)
        duration = self.end.astimezone(tz).replace(tzinfo=None) - local
        return tz, local, duration, local.time()

    def _key_times(self, tz, local: datetime, duration: timedelta):
        if self.all_day:
            return local, local, local + duration
        start = local.replace(tzinfo=tz).astimezone(UTC)
        end = (local + duration).replace(tzinfo=tz).astimezone(UTC)
        return start, start, end

    def occurrences(
        self, low: datetime, high: datetime
    ) -> list[tuple[datetime, datetime, datetime]]:
        """(key, start, end) of the series' visible occurrences overlapping [low, high).

        ``key`` is the original start (UTC, or a naive date for all-day series);
        start/end are stored-form values (exceptions may have moved them).
        """
        if not self.recurrence:
            return []
        tz, _local, duration, wall = self._series_frame()
        slack = timedelta(days=1)
        low_local = low.astimezone(tz).replace(tzinfo=None) - duration - slack
        high_local = high.astimezone(tz).replace(tzinfo=None) + slack
        result = []
        for local in recurrence_expansion.local_starts(
            self.recurrence, wall, low_local, high_local
        ):
            key, start, end = self._key_times(tz, local, duration)
            if key in self.cancelled or key in self.exceptions:
                continue
            if _overlaps(self.utc(start), self.utc(end), low, high):
                result.append((key, start, end))
        for key, exc in self.exceptions.items():
            if key not in self.cancelled and _overlaps(
                self.utc(exc.start), self.utc(exc.end), low, high
            ):
                result.append((key, exc.start, exc.end))
        result.sort(key=lambda item: self.utc(item[1]))
        return result

    def has_occurrence(self, key: datetime) -> bool:
        if not self.recurrence or key in self.cancelled:
            return False
        if key in self.exceptions:
            return True
        tz, _local, _duration, wall = self._series_frame()
        local = key if self.all_day else key.astimezone(tz).replace(tzinfo=None)
        return local in recurrence_expansion.local_starts(self.recurrence, wall, local, local)

    def occurrence_times(self, key: datetime) -> tuple[datetime, datetime]:
        exc = self.exceptions.get(key)
        if exc is not None:
            return exc.start, exc.end
        tz, _local, duration, _wall = self._series_frame()
        local = key if self.all_day else key.astimezone(tz).replace(tzinfo=None)
        _k, start, end = self._key_times(tz, local, duration)
        return start, end

    def key_for(self, stamp: datetime) -> datetime:
        return stamp if self.all_day else stamp.replace(tzinfo=UTC)

    def window_ids(self, low: datetime, high: datetime) -> set[str]:
        """Ids this event shows in a calendar window (one, or its occurrences)."""
        if self.recurrence:
            return {occurrence_id(self.id, key) for key, _s, _e in self.occurrences(low, high)}
        if _overlaps(self.utc(self.start), self.utc(self.end), low, high):
            return {self.id}
        return set()

    # -- rendering -------------------------------------------------------

    def render_stub(self, key: datetime, *, tz=UTC, tz_name: str = "UTC") -> dict:
        """An occurrence the way ``calendarView/delta`` sends it: seven properties only.

        Source: microsoftgraph/microsoft-graph-docs-contrib#34 (the exact JSON),
        microsoftgraph/microsoft-graph-docs#1716, #7632 and #22197. No ``changeKey``: only the
        ``@odata.etag`` carries the version.
        """
        start, end = self.occurrence_times(key)
        if self.all_day:
            start_out, end_out = floating(start, tz_name), floating(end, tz_name)
        else:
            start_out = date_time_time_zone(start, tz, tz_name)
            end_out = date_time_time_zone(end, tz, tz_name)
        stub = {
            "@odata.type": "#microsoft.graph.event",
            "@odata.etag": f'W/"{self.change_key}"',
            "id": occurrence_id(self.id, key),
            "seriesMasterId": self.id,
            "type": "occurrence",
            "start": start_out,
            "end": end_out,
        }
        for name in ("start", "end"):  # forced raw JSON reaches the stub's own properties
            if name in self.overrides:
                if self.overrides[name] is None:
                    stub.pop(name)
                else:
                    stub[name] = copy.deepcopy(self.overrides[name])
        return stub

    def render(
        self,
        key: datetime | None = None,
        *,
        tz=UTC,
        tz_name: str = "UTC",
        select: list[str] | None = None,
        basic: bool = False,
    ) -> dict:
        """The Graph JSON of this event, or of its occurrence ``key``."""
        props = self.props
        exc = None
        if key is not None:
            exc = self.exceptions.get(key)
            if exc is not None and exc.props:
                props = {**props, **exc.props}
            start, end = self.occurrence_times(key)
            event_id = occurrence_id(self.id, key)
            change_key = exc.change_key if exc else self.change_key
            modified = exc.modified if exc else self.modified
            kind = "exception" if exc else "occurrence"
            # Occurrence iCalUIds differ from the master's in the instance-date bytes.
            stamp = f"{key.year:04X}{key.month:02X}{key.day:02X}"
            ical = f"{self.ical_uid[:32]}{stamp}{self.ical_uid[40:]}"
        else:
            start, end = self.start, self.end
            event_id, change_key, modified = self.id, self.change_key, self.modified
            kind = self.event_type
            ical = self.ical_uid

        def get(name):
            value = props.get(name, _DEFAULTS.get(name))
            return copy.deepcopy(value) if isinstance(value, (dict, list)) else value

        if self.all_day:
            start_out, end_out = floating(start, tz_name), floating(end, tz_name)
        else:
            start_out = date_time_time_zone(start, tz, tz_name)
            end_out = date_time_time_zone(end, tz, tz_name)
        online = get("onlineMeeting")
        full = {
            "@odata.etag": f'W/"{change_key}"',
            "id": event_id,
            "createdDateTime": format_stamp(self.created),
            "lastModifiedDateTime": format_stamp(modified),
            "changeKey": change_key,
            "categories": get("categories"),
            "transactionId": self.tx_id if key is None else None,
            "originalStartTimeZone": self.start_tz,
            "originalEndTimeZone": self.end_tz,
            "iCalUId": ical,
            "reminderMinutesBeforeStart": get("reminderMinutesBeforeStart"),
            "isReminderOn": get("isReminderOn"),
            "hasAttachments": False,
            "subject": get("subject"),
            "bodyPreview": body_preview(props.get("body")),
            "importance": get("importance"),
            "sensitivity": get("sensitivity"),
            "isAllDay": self.all_day,
            "isCancelled": get("isCancelled"),
            "isOrganizer": True,
            "responseRequested": get("responseRequested"),
            "seriesMasterId": self.id if key is not None else None,
            "showAs": get("showAs"),
            "type": kind,
            "webLink": f"https://outlook.office365.com/owa/?itemid={quote(event_id, safe='')}"
            "&exvsurl=1&path=/calendar/item",
            "onlineMeetingUrl": None,
            "isOnlineMeeting": get("isOnlineMeeting"),
            "onlineMeetingProvider": get("onlineMeetingProvider"),
            "allowNewTimeProposals": get("allowNewTimeProposals"),
            "isDraft": get("isDraft"),
            "hideAttendees": get("hideAttendees"),
            "responseStatus": {"response": "organizer", "time": _NO_TIME},
            "body": get("body"),
            "start": start_out,
            "end": end_out,
            "location": get("location"),
            "locations": get("locations"),
            "recurrence": copy.deepcopy(self.recurrence) if key is None else None,
            "attendees": get("attendees"),
            "organizer": get("organizer"),
            "onlineMeeting": online,
        }
        if key is not None:
            # Occurrences say where they originally were (useful after a move).
            full["originalStart"] = format_stamp(self.utc(key))
        for name, value in self.overrides.items():
            if value is None:
                full.pop(name, None)
            else:
                full[name] = copy.deepcopy(value)
        if basic:
            for name in BASIC_HIDDEN:
                full.pop(name, None)
        if select is not None:
            wanted = set(select) | {"id", "@odata.etag"}
            full = {k: v for k, v in full.items() if k in wanted}
        return full


# -- building and changing events from request payloads --------------------------


def _invalid_property(name: str) -> GraphError:
    return GraphError(
        400,
        "RequestBodyRead",
        f"The property '{name}' does not exist on type 'microsoft.graph.event'. Make sure to "
        "only use property names that are defined by the type or mark the type as open type.",
    )


def check_payload(payload) -> dict:
    """Reject what Graph rejects: non-objects, unknown properties, bad enum values."""
    if not isinstance(payload, dict):
        raise GraphError(400, "RequestBodyRead", "The request body must be a JSON object.")
    clean = {}
    for name, value in payload.items():
        if name.startswith("@") or "@odata." in name:
            continue
        if name not in EVENT_PROPERTIES:
            raise _invalid_property(name)
        if name in READ_ONLY:
            continue  # Graph ignores read-only properties it knows
        if name in ENUMS and value not in ENUMS[name]:
            raise GraphError(
                400,
                "RequestBodyRead",
                f"Cannot convert the literal '{value}' to the expected type "
                f"'microsoft.graph.{'freeBusyStatus' if name == 'showAs' else name}'.",
            )
        if name == "categories" and (
            not isinstance(value, list) or not all(isinstance(c, str) for c in value)
        ):
            raise GraphError(400, "RequestBodyRead", "categories must be an array of strings.")
        clean[name] = value
    return clean


def _normalize_props(payload: dict) -> dict:
    """Fill nested defaults the way Outlook stores them."""
    props = {}
    for name, raw in payload.items():
        value = raw
        if name in ("start", "end", "isAllDay", "recurrence", "transactionId"):
            continue
        if name == "location" and isinstance(value, dict):
            value = {**_DEFAULT_LOCATION, **value}
        elif name == "body" and isinstance(value, dict):
            value = {
                "contentType": value.get("contentType", "text").lower(),
                "content": value.get("content") or "",
            }
        elif name == "attendees" and isinstance(value, list):
            value = [
                {
                    "type": a.get("type", "required"),
                    "status": a.get("status") or {"response": "none", "time": _NO_TIME},
                    "emailAddress": dict(a.get("emailAddress") or {}),
                }
                for a in value
                if isinstance(a, dict)
            ]
        elif name == "isOnlineMeeting" and value and "onlineMeeting" not in payload:
            props["onlineMeetingProvider"] = payload.get(
                "onlineMeetingProvider", "teamsForBusiness"
            )
        props[name] = copy.deepcopy(value)
    return props


def _all_day_bounds(start: datetime, end: datetime, start_tz: str) -> tuple[datetime, datetime]:
    """All-day events must start and end at midnight (in their own zone)."""
    tz = zone(start_tz) or UTC
    local_start = start.astimezone(tz).replace(tzinfo=None)
    local_end = end.astimezone(tz).replace(tzinfo=None)
    if local_start.time() != time(0) or local_end.time() != time(0) or local_end <= local_start:
        raise GraphError(
            400,
            "ErrorInvalidRequest",
            "Your request can't be completed. An all-day event must start and end at midnight "
            "and last at least one day.",
        )
    return local_start, local_end


def apply_times(event: StoredEvent, payload: dict, *, creating: bool) -> None:
    """Set start/end/isAllDay/recurrence from a payload (POST or PATCH)."""
    touched = any(k in payload for k in ("start", "end", "isAllDay"))
    if creating and ("start" not in payload or "end" not in payload):
        raise GraphError(
            400,
            "ErrorInvalidRequest",
            "Your request can't be completed. An event needs both a start and an end.",
        )
    if touched:
        if "start" in payload:
            start, start_tz = parse_datetime_timezone(payload["start"], "start")
        else:
            start, start_tz = event.utc(event.start), event.start_tz
        if "end" in payload:
            end, end_tz = parse_datetime_timezone(payload["end"], "end")
        else:
            end, end_tz = event.utc(event.end), event.end_tz
        all_day = bool(payload.get("isAllDay", event.all_day if not creating else False))
        if all_day:
            start, end = _all_day_bounds(start, end, start_tz)
        elif end < start:
            raise GraphError(
                400,
                "ErrorInvalidRequest",
                "Your request can't be completed. The end time must not be before the start time.",
            )
        event.start, event.end, event.all_day = start, end, all_day
        event.start_tz, event.end_tz = start_tz, end_tz
    if "recurrence" in payload:
        value = payload["recurrence"]
        if value is None:
            event.recurrence = None
        else:
            first_day = (
                event.start.date() if event.all_day else event.start.astimezone(event.zone).date()
            )
            event.recurrence = recurrence_expansion.normalize(value, first_day, event.start_tz)


def build_event(event: StoredEvent, payload: dict, organizer: dict) -> StoredEvent:
    payload = check_payload(payload)
    apply_times(event, payload, creating=True)
    event.props = _normalize_props(payload)
    event.props.setdefault("organizer", organizer)
    # The meeting itself (and whether the calendar may have one): online_meetings.settle,
    # called by the tenant state, which knows the user's Teams licence.
    tx = payload.get("transactionId")
    event.tx_id = str(tx) if tx is not None else None
    return event


def patch_event(event: StoredEvent, payload: dict) -> bool:
    """Apply a PATCH to a master/single. Returns True if occurrences were reset."""
    payload = check_payload(payload)
    series_before = (event.start, event.end, event.all_day, copy.deepcopy(event.recurrence))
    apply_times(event, payload, creating=False)
    for name, value in _normalize_props(payload).items():
        event.props[name] = value
    reset = series_before != (event.start, event.end, event.all_day, event.recurrence)
    if reset:
        # Changing when a series happens drops its exceptions and cancellations,
        # as Outlook does when the pattern or time of a series changes.
        event.exceptions.clear()
        event.cancelled.clear()
    return reset


def patch_occurrence(
    event: StoredEvent, key: datetime, payload: dict, exc: ExceptionRecord
) -> None:
    payload = check_payload(payload)
    if "recurrence" in payload and payload["recurrence"] is not None:
        raise GraphError(
            400,
            "ErrorInvalidRequest",
            "Your request can't be completed. An occurrence of a series can't have its own "
            "recurrence.",
        )
    if any(k in payload for k in ("start", "end")):
        if event.all_day:
            probe = StoredEvent(event.id, "", "", exc.start, 0)
            probe.start, probe.end, probe.all_day = exc.start, exc.end, True
            probe.start_tz, probe.end_tz = event.start_tz, event.end_tz
            apply_times(
                probe, {k: payload[k] for k in ("start", "end") if k in payload}, creating=False
            )
            exc.start, exc.end = probe.start, probe.end
        else:
            if "start" in payload:
                exc.start = parse_datetime_timezone(payload["start"], "start")[0]
            if "end" in payload:
                exc.end = parse_datetime_timezone(payload["end"], "end")[0]
            if exc.end < exc.start:
                raise GraphError(
                    400,
                    "ErrorInvalidRequest",
                    "Your request can't be completed. The end time must not be before the start "
                    "time.",
                )
    for name, value in _normalize_props(payload).items():
        if name in ("organizer",):
            continue
        exc.props[name] = value


class Mailbox:
    """The default calendar of one user: events by id, transactionId index, tombstones."""

    __slots__ = ("events", "tombstones", "tx_index", "user_id")

    def __init__(self, user_id: str):
        self.user_id = user_id
        self.events: dict[str, StoredEvent] = {}
        self.tx_index: dict[str, str] = {}
        self.tombstones: list[tuple[int, StoredEvent]] = []

    def add(self, event: StoredEvent) -> None:
        self.events[event.id] = event
        if event.tx_id:
            self.tx_index[event.tx_id] = event.id

    def remove(self, event: StoredEvent, seq: int) -> None:
        self.events.pop(event.id, None)
        if event.tx_id and self.tx_index.get(event.tx_id) == event.id:
            del self.tx_index[event.tx_id]
        self.tombstones.append((seq, event))

    def view(
        self, low: datetime, high: datetime
    ) -> list[tuple[datetime, str, StoredEvent, datetime | None]]:
        """Everything a calendarView [low, high) shows, sorted by start."""
        items = []
        for event in self.events.values():
            if event.recurrence:
                for key, start, _end in event.occurrences(low, high):
                    items.append((event.utc(start), occurrence_id(event.id, key), event, key))
            elif _overlaps(event.utc(event.start), event.utc(event.end), low, high):
                items.append((event.utc(event.start), event.id, event, None))
        items.sort(key=lambda item: (item[0], item[1]))
        return items

    def delta_groups(self, seq: int | None, low: datetime, high: datetime):
        """What ``calendarView/delta`` reports since ``seq`` (``None``: a first round).

        Returns ``(groups, removed)``. A group is ``(start, group id, parts)``, the
        unit a page never splits; ``parts`` are ``(event, key, shape)`` with shape
        ``"full"`` or ``"stub"``. Real Graph behaviour emulated here:

        * A single instance is one group with its full item.
        * A series is one group: its **master in full** (type ``seriesMaster``;
          Graph lists it although it is not itself in the view —
          https://developer.microsoft.com/en-us/graph/docs/concepts/delta_query_events
          as confirmed in microsoftgraph/microsoft-graph-docs#3196), its
          **occurrences as stubs** carrying only ``@odata.type``, ``@odata.etag``,
          ``id``, ``seriesMasterId``, ``type``, ``start`` and ``end``
          (microsoftgraph/microsoft-graph-docs#1716, #7632, #22197,
          microsoftgraph/microsoft-graph-docs-contrib#34) and its **exceptions in
          full**. A series is never split across pages
          (microsoftgraph/microsoft-graph-docs pull request #4501, "found via
          experimentation").
        * Later rounds: a series whose master changed is sent again as a whole
          group; a changed exception alone comes in full on its own; a
          **cancelled occurrence is not reported** as ``@removed`` — only its
          master comes again ("No indication is given for a deleted occurrence",
          microsoft-graph-docs pull request #4501; the Microsoft Tech Community
          thread "Receiving notification for deleted non series-master events":
          the occurrence simply disappears from ``/instances``). A client must
          take the master's change as the signal to re-read its instances.
          Occurrences that a pattern change removed are not reported either; an
          exception moved out of the window and a deleted series are
          ``@removed`` (the series with its master and the occurrences that
          were in the window).
        """
        groups, removed = [], []
        for event in self.events.values():
            if seq is not None and event.ver <= seq:
                continue
            before = event.version_at(seq) if seq is not None else None
            if not event.recurrence:
                old_ids = before.window_ids(low, high) if before is not None else set()
                if _overlaps(event.utc(event.start), event.utc(event.end), low, high):
                    groups.append((event.utc(event.start), event.id, [(event, None, "full")]))
                elif event.id in old_ids:
                    removed.append(event.id)
                if before is not None and before.recurrence:
                    removed.extend(sorted(old_ids - {event.id}))  # a series made single
                continue
            current = event.occurrences(low, high)
            master_changed = (
                seq is None or event.master_ver > seq or before is None or before.recurrence is None
            )
            if master_changed:
                if not current:
                    if before is not None and before.window_ids(low, high):
                        removed.extend(sorted(before.window_ids(low, high)))
                    continue
                parts = [(event, None, "full")]
                for key, _start, _end in current:
                    shape = "full" if key in event.exceptions else "stub"
                    parts.append((event, key, shape))
                groups.append((event.utc(current[0][1]), event.id, parts))
                continue
            old_ids = before.window_ids(low, high)
            if any(cancel_seq > seq for cancel_seq in event.cancelled.values()):
                # Cancelling an occurrence changes the master, and that is all Graph says.
                first = current[0][1] if current else event.start
                groups.append((event.utc(first), event.id, [(event, None, "full")]))
            new_ids = set()
            for key, start, _end in current:
                occ = occurrence_id(event.id, key)
                new_ids.add(occ)
                exc = event.exceptions.get(key)
                if (exc is not None and exc.ver > seq) or occ not in old_ids:
                    shape = "full" if exc is not None else "stub"
                    groups.append((event.utc(start), occ, [(event, key, shape)]))
            # An exception moved out of the window has left it: reported like Graph does.
            removed.extend(
                sorted(
                    occ
                    for occ in old_ids - new_ids
                    if (parsed := parse_occurrence_id(occ))
                    and event.key_for(parsed[1]) in event.exceptions
                )
            )
        if seq is not None:
            for deleted_seq, event in self.tombstones:
                if deleted_seq > seq:
                    before = event.version_at(seq)
                    if before is not None:
                        ids = before.window_ids(low, high)
                        if before.recurrence and ids:
                            ids.add(event.id)
                        removed.extend(sorted(ids))
        groups.sort(key=lambda group: (group[0], group[1]))
        return groups, removed
