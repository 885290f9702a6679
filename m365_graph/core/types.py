"""Typed results the Odoo addon consumes, and the parsers that build them from Graph JSON.

Why this file exists: Odoo code never reads Graph JSON (docs/architecture.md, "Layers"). Every
item the addon receives is one of these frozen dataclasses, with aware UTC datetimes,
and every parser raises :class:`~m365_graph.core.errors.BadResponse` naming the field that
was missing or of the wrong type — never a ``KeyError`` from deep inside. Callers that
read many items (busy time, delta) skip and count a malformed item instead of failing
the whole run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Generic, TypeVar

from .errors import BadResponse, GraphError, error_from_response
from .retry import retry_after_from_headers
from .timezones import parse_graph_datetime, parse_iso_utc

__all__ = [
    "USER_SELECT",
    "BatchRequest",
    "BatchResponse",
    "BusySlot",
    "DeltaResult",
    "GraphEvent",
    "GraphUser",
    "Page",
    "Removed",
    "SkippedItem",
]

T = TypeVar("T")

#: What a parser's blind spot can raise; callers that read many items catch these
#: too (besides :class:`BadResponse`), skip the item and count it.
ITEM_ERRORS = (ValueError, TypeError, KeyError, AttributeError, OverflowError, RecursionError)


def unreadable(what: str, exc: BaseException) -> str:
    """The skip reason for an item a parser could not read for an unforeseen reason."""
    return f"{what}: an item could not be read ({type(exc).__name__}: {str(exc)[:120]})"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# --------------------------------------------------------------------------- helpers


def _where(kind: str, obj: Mapping[str, Any]) -> str:
    ident = obj.get("id") if isinstance(obj, Mapping) else None
    return f"{kind} {_show(ident)}" if isinstance(ident, str) else kind


def require_object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadResponse(f"Graph returned {type(value).__name__} where {what} was expected")
    return value


def _str(obj: Mapping[str, Any], name: str, kind: str, *, required: bool = False) -> str | None:
    value = obj.get(name)
    if value is None:
        if required:
            raise BadResponse(f"{_where(kind, obj)} has no '{name}'", field=name)
        return None
    if not isinstance(value, str):
        raise BadResponse(
            f"{_where(kind, obj)}: field '{name}' should be text, got {type(value).__name__}",
            field=name,
        )
    if required and not value:
        raise BadResponse(f"{_where(kind, obj)} has an empty '{name}'", field=name)
    return value


def _bool(obj: Mapping[str, Any], name: str, kind: str) -> bool | None:
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise BadResponse(
            f"{_where(kind, obj)}: field '{name}' should be true/false, got {_show(value)}",
            field=name,
        )
    return value


def _str_list(obj: Mapping[str, Any], name: str, kind: str) -> tuple[str, ...]:
    value = obj.get(name)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadResponse(
            f"{_where(kind, obj)}: field '{name}' should be a list of text, got {_show(value)}",
            field=name,
        )
    return tuple(value)


def _when(obj: Mapping[str, Any], name: str, kind: str) -> datetime:
    if name not in obj or obj[name] is None:
        raise BadResponse(f"{_where(kind, obj)} has no '{name}'", field=name)
    try:
        return parse_graph_datetime(obj[name], name)
    except BadResponse as exc:
        raise BadResponse(f"{_where(kind, obj)}: {exc.message}", field=exc.field) from exc


def _floating(obj: Mapping[str, Any], name: str) -> datetime | None:
    """Midnight UTC of the wall-clock date of an all-day ``start``/``end`` given at
    midnight (in whatever zone); ``None`` when the wall-clock time is not midnight.

    Called after :func:`_when` validated the value and its zone."""
    raw = obj[name].get("dateTime")
    try:
        wall = datetime.fromisoformat(raw[:19])
    except (TypeError, ValueError):
        return None
    if wall.time() != datetime.min.time():
        return None
    return datetime(wall.year, wall.month, wall.day, tzinfo=timezone.utc)


# --------------------------------------------------------------------------- users


#: The directory properties :class:`GraphUser` reads (the ``$select`` of user reads).
USER_SELECT: tuple[str, ...] = (
    "id",
    "displayName",
    "givenName",
    "surname",
    "mail",
    "userPrincipalName",
    "jobTitle",
    "department",
    "officeLocation",
    "companyName",
    "businessPhones",
    "mobilePhone",
    "accountEnabled",
    "userType",
)


@dataclass(frozen=True)
class GraphUser:
    """A directory user (contact sync, account connection).

    In delta rounds after the first, Graph may send only the properties that changed:
    ``present`` lists the Graph property names that were in the payload, so the addon
    updates those and leaves the others alone.
    """

    id: str
    display_name: str | None = None
    user_principal_name: str | None = None
    mail: str | None = None
    given_name: str | None = None
    surname: str | None = None
    job_title: str | None = None
    department: str | None = None
    office_location: str | None = None
    company_name: str | None = None
    business_phones: tuple[str, ...] = ()
    mobile_phone: str | None = None
    account_enabled: bool | None = None
    user_type: str | None = None
    present: frozenset[str] = frozenset()

    @property
    def email(self) -> str | None:
        """The address to show: ``mail``, else the UPN."""
        return self.mail or self.user_principal_name

    @property
    def is_guest(self) -> bool:
        return (self.user_type or "").lower() == "guest"

    @classmethod
    def from_graph(cls, obj: Any) -> GraphUser:
        obj = require_object(obj, "a user object")
        k = "user"
        return cls(
            id=_str(obj, "id", k, required=True),  # type: ignore[arg-type]
            display_name=_str(obj, "displayName", k),
            user_principal_name=_str(obj, "userPrincipalName", k),
            mail=_str(obj, "mail", k),
            given_name=_str(obj, "givenName", k),
            surname=_str(obj, "surname", k),
            job_title=_str(obj, "jobTitle", k),
            department=_str(obj, "department", k),
            office_location=_str(obj, "officeLocation", k),
            company_name=_str(obj, "companyName", k),
            business_phones=_str_list(obj, "businessPhones", k),
            mobile_phone=_str(obj, "mobilePhone", k),
            account_enabled=_bool(obj, "accountEnabled", k),
            user_type=_str(obj, "userType", k),
            present=frozenset(key for key in obj if not key.startswith("@")),
        )


# --------------------------------------------------------------------------- events


@dataclass(frozen=True)
class BusySlot:
    """Busy time of one event, privacy-first: no title, body, location or attendees.

    ``start``/``end`` are aware UTC. For all-day events Graph gives midnight-to-midnight
    in the requested zone (UTC); :attr:`dates` gives the calendar days.
    """

    event_id: str
    start: datetime
    end: datetime
    show_as: str | None = None
    categories: tuple[str, ...] = ()
    is_all_day: bool = False
    sensitivity: str | None = None
    event_type: str | None = None
    #: the owner's answer (``responseStatus.response``) when it was selected
    response: str | None = None

    @property
    def dates(self) -> tuple[date, date]:
        return self.start.date(), self.end.date()

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600.0

    @classmethod
    def from_graph(cls, obj: Any) -> BusySlot:
        obj = require_object(obj, "an event object")
        k = "event"
        all_day = bool(_bool(obj, "isAllDay", k))
        start, end = _when(obj, "start", k), _when(obj, "end", k)
        if all_day:
            # An all-day event covers whole calendar days wherever it is read: when
            # Graph gives it from midnight to midnight in any zone, its days are
            # those wall-clock dates (converting them to UTC would move it off
            # midnight and it would not count). Stored as UTC midnights. One that
            # is not at midnight on the wall clock stays as converted and is
            # refused by the workload's checks.
            floating = _floating(obj, "start"), _floating(obj, "end")
            if floating[0] is not None and floating[1] is not None:
                start, end = floating
        if end < start:
            raise BadResponse(f"{_where(k, obj)} ends before it starts", field="end")
        return cls(
            event_id=_str(obj, "id", k, required=True),  # type: ignore[arg-type]
            start=start,
            end=end,
            show_as=_str(obj, "showAs", k),
            categories=_str_list(obj, "categories", k),
            is_all_day=all_day,
            sensitivity=_str(obj, "sensitivity", k),
            event_type=_str(obj, "type", k),
            response=_response(obj),
        )


def _response(obj: Mapping[str, Any]) -> str | None:
    status = obj.get("responseStatus")
    answer = status.get("response") if isinstance(status, Mapping) else None
    return answer if isinstance(answer, str) and answer else None


def _change_key(obj: Mapping[str, Any], kind: str) -> str | None:
    """``changeKey``, else the change key inside ``@odata.etag`` (``W/"<changeKey>"``).

    Graph documents both; some answers (delta pages, ``$select`` without
    ``changeKey``) carry only the ETag, whose value is the same change key.
    """
    key = _str(obj, "changeKey", kind)
    if key:
        return key
    etag = obj.get("@odata.etag")
    if not isinstance(etag, str):
        return None
    text = etag.strip()
    if text[:2] in ("W/", "w/"):
        text = text[2:]
    text = text.strip().strip('"').strip()
    return text or None


@dataclass(frozen=True)
class GraphEvent:
    """A calendar event (personal sync, activity export).

    ``change_key`` goes into ``If-Match`` on update; ``transaction_id`` is the one we
    sent on creation (stable per Odoo record); ``raw`` keeps the JSON for fields this
    class does not name.
    """

    id: str
    subject: str | None
    start: datetime
    end: datetime
    is_all_day: bool = False
    show_as: str | None = None
    categories: tuple[str, ...] = ()
    sensitivity: str | None = None
    event_type: str | None = None
    change_key: str | None = None
    ical_uid: str | None = None
    transaction_id: str | None = None
    series_master_id: str | None = None
    is_cancelled: bool = False
    location: str | None = None
    body: str | None = None
    body_type: str | None = None
    last_modified: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_graph(cls, obj: Any) -> GraphEvent:
        obj = require_object(obj, "an event object")
        k = "event"
        location = obj.get("location")
        loc_name = None
        if location is not None:
            if not isinstance(location, dict):
                raise BadResponse(
                    f"{_where(k, obj)}: 'location' is not an object", field="location"
                )
            loc_name = _str(location, "displayName", "event location")
        body = obj.get("body")
        body_content = body_type = None
        if body is not None:
            if not isinstance(body, dict):
                raise BadResponse(f"{_where(k, obj)}: 'body' is not an object", field="body")
            body_content = _str(body, "content", "event body")
            body_type = _str(body, "contentType", "event body")
        modified = obj.get("lastModifiedDateTime")
        return cls(
            id=_str(obj, "id", k, required=True),  # type: ignore[arg-type]
            subject=_str(obj, "subject", k),
            start=_when(obj, "start", k),
            end=_when(obj, "end", k),
            is_all_day=bool(_bool(obj, "isAllDay", k)),
            show_as=_str(obj, "showAs", k),
            categories=_str_list(obj, "categories", k),
            sensitivity=_str(obj, "sensitivity", k),
            event_type=_str(obj, "type", k),
            change_key=_change_key(obj, k),
            ical_uid=_str(obj, "iCalUId", k),
            transaction_id=_str(obj, "transactionId", k),
            series_master_id=_str(obj, "seriesMasterId", k),
            is_cancelled=bool(_bool(obj, "isCancelled", k)),
            location=loc_name,
            body=body_content,
            body_type=body_type,
            last_modified=parse_iso_utc(modified, "lastModifiedDateTime") if modified else None,
            raw=dict(obj),
        )


# --------------------------------------------------------------------------- paging / delta


@dataclass(frozen=True)
class Page:
    """One page of a collection: raw items plus the links Graph gave."""

    items: list[dict[str, Any]]
    next_link: str | None = None
    delta_link: str | None = None


@dataclass(frozen=True)
class Removed:
    """An item a delta round reports as gone (``@removed``).

    ``reason`` is Graph's: ``"deleted"`` (gone for good) or ``"changed"`` (users:
    soft-deleted and restorable; events: moved out of the window or no longer visible).
    """

    id: str
    reason: str = "deleted"


@dataclass(frozen=True)
class SkippedItem:
    """A malformed item left out of a result, with the reason (for ``m365.sync.run``)."""

    id: str | None
    reason: str


@dataclass
class DeltaResult(Generic[T]):
    """The outcome of one delta round.

    ``items`` (parsed, each id once, latest state) and ``removed``; ``delta_link`` to
    store for the next round — set only when the round completed. If the round was
    interrupted, ``complete`` is false, ``error`` says why and ``next_link`` is where
    to resume. ``restarted``: the stored link had expired and a full new round was
    read — items already known will come again (replays), and anything not seen may
    be gone.
    """

    items: list[T] = field(default_factory=list)
    removed: list[Removed] = field(default_factory=list)
    delta_link: str | None = None
    next_link: str | None = None
    skipped: list[SkippedItem] = field(default_factory=list)
    pages: int = 0
    restarted: bool = False
    error: GraphError | None = None

    @property
    def complete(self) -> bool:
        return self.delta_link is not None and self.error is None


# --------------------------------------------------------------------------- $batch


@dataclass(frozen=True)
class BatchRequest:
    """One sub-request of a JSON ``$batch``.

    ``url`` is relative to the version root (``/users/{id}/calendarView?…``).
    ``depends_on`` lists ids of requests that must run first (same batch).
    ``retry_safe``: may be sent again after a throttled or failed attempt (GETs are;
    a POST is only with a ``transactionId`` or similar).
    """

    id: str
    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    depends_on: tuple[str, ...] = ()
    retry_safe: bool | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "method": self.method.upper(), "url": self.url}
        headers = dict(self.headers)
        if self.body is not None:
            out["body"] = self.body
            if not any(h.lower() == "content-type" for h in headers):
                headers["Content-Type"] = "application/json"
        if headers:
            out["headers"] = headers
        if self.depends_on:
            out["dependsOn"] = list(self.depends_on)
        return out

    @property
    def is_retry_safe(self) -> bool:
        if self.retry_safe is not None:
            return self.retry_safe
        return self.method.upper() in {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}


@dataclass(frozen=True)
class BatchResponse:
    """The answer to one :class:`BatchRequest` (after our retries).

    ``attempts`` counts how many times the sub-request was sent.
    """

    id: str
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    attempts: int = 1
    #: For a 424: the id of the request whose failure kept this one from running.
    dependency: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lname:
                return value
        return None

    def error(
        self, what: str = "Microsoft Graph request", permission: str | None = None
    ) -> GraphError | None:
        """The taxonomy error for a failed sub-response (``None`` when it succeeded)."""
        if self.ok:
            return None
        if self.status == 424:
            after = f" (request {self.dependency})" if self.dependency else ""
            return GraphError(
                f"{what}: not run, because the request it depends on{after} failed.",
                status=424,
                code="failedDependency",
            )
        return error_from_response(
            self.status,
            self.body,
            self.headers,
            what=what,
            permission=permission,
            retry_after=retry_after_from_headers(self.headers),
            attempts=self.attempts,
        )
