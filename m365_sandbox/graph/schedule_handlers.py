"""``POST /users/{id}/calendar/getSchedule`` and ``/me/calendar/getSchedule``: free/busy.

Graph rules reproduced here (Graph docs "calendar: getSchedule",
https://learn.microsoft.com/graph/api/calendar-getschedule; "scheduleInformation
resource type"; "scheduleItem resource type"; "Get free/busy schedule of Outlook
calendar users and resources", https://learn.microsoft.com/graph/outlook-get-free-busy-schedule):

* the body has ``schedules`` (SMTP addresses, at most 20 — more is 400
  ``ErrorInvalidParameter``), ``startTime``/``endTime`` (``dateTimeTimeZone``;
  the window must be under 62 days) and ``availabilityViewInterval`` (minutes,
  5 to 1440, default 30);
* permissions: application ``Calendars.ReadBasic.All`` or ``Calendars.Read``,
  delegated ``Calendars.ReadBasic``/``Calendars.Read`` (the caller's own calendar
  asks, for anyone of the tenant);
* one ``scheduleInformation`` per address, in the order asked: ``scheduleId``,
  ``availabilityView`` (per interval the strongest status: 0 free or working
  elsewhere, 1 tentative, 2 busy, 3 out of office), ``scheduleItems`` (``isPrivate``,
  ``status``, ``start``, ``end``; ``subject`` and ``location`` only when the caller
  may read the calendar's details — never for a private item of someone else),
  ``workingHours``;
* an address the tenant cannot resolve (someone outside the tenant, a typo) gets
  ``error: {message, responseCode}`` in its place while the others are answered:
  ``"Unable to resolve e-mail address <x> to an Active Directory object."``,
  ``responseCode`` ``"5009"`` (microsoftgraph/microsoft-graph-docs#11225);
* times come back in UTC unless ``Prefer: outlook.timezone`` names a zone.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from ..identity import token_permissions
from ..tenant.service_errors import GraphError
from ..tenant.zone_lookup import UTC, date_time_time_zone, parse_datetime_timezone, zone
from .odata_query import prefer_get
from .wire_types import GraphRequest, GraphResponse, json_body, ok

if TYPE_CHECKING:
    from ..tenant.handler_context import HandlerContext

MAX_SCHEDULES = 20
MAX_WINDOW = timedelta(days=62)
_VIEW = {"free": "0", "workingElsewhere": "0", "tentative": "1", "busy": "2", "oof": "3"}
_WORKING_HOURS = {
    "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
    "startTime": "08:00:00.0000000",
    "endTime": "17:00:00.0000000",
    "timeZone": {"name": "UTC"},
}


def _invalid(message: str) -> GraphError:
    return GraphError(400, "ErrorInvalidParameter", message)


def _unresolved(address: str) -> dict:
    return {
        "scheduleId": address,
        "error": {
            "message": f"Unable to resolve e-mail address {address} to an Active Directory object.",
            "responseCode": "5009",
        },
    }


def get_schedule(ctx: HandlerContext, req: GraphRequest) -> GraphResponse:
    principal = req.principal
    token_permissions.calendar_precheck(principal, write=False)
    if req.params.get("me") and principal.is_app:
        raise GraphError(
            400, "BadRequest", "/me request is only valid with delegated authentication flow."
        )
    body = json_body(req)
    schedules = body.get("schedules") or body.get("Schedules")
    if not isinstance(schedules, list) or not schedules:
        raise _invalid("The 'schedules' parameter is required and must list at least one address.")
    if len(schedules) > MAX_SCHEDULES:
        raise _invalid(f"The number of schedules exceeds the limit of {MAX_SCHEDULES}.")
    low, _tz = parse_datetime_timezone(body.get("startTime") or body.get("StartTime"), "startTime")
    high, _tz = parse_datetime_timezone(body.get("endTime") or body.get("EndTime"), "endTime")
    if high <= low:
        raise _invalid("The end time must be after the start time.")
    if high - low > MAX_WINDOW:
        raise _invalid("The requested time window exceeds the maximum of 62 days.")
    raw_interval = body.get("availabilityViewInterval", 30)
    try:
        interval = int(raw_interval)
    except (TypeError, ValueError):
        raise _invalid("availabilityViewInterval must be a number of minutes.") from None
    if not 5 <= interval <= 1440:
        raise _invalid("availabilityViewInterval must be between 5 and 1440 minutes.")
    wanted = prefer_get(req.prefer, "outlook.timezone")
    out_tz = zone(wanted) if wanted else None
    tz, tz_name = (out_tz, wanted) if out_tz is not None else (UTC, "UTC")
    state = ctx.state
    with state.lock:
        caller = principal.user_id
        by_address = {}
        for record in state.user_records():
            for key in ("mail", "userPrincipalName"):
                value = record.props.get(key)
                if isinstance(value, str) and value:
                    by_address.setdefault(value.lower(), record)
        details_for_app = principal.is_app and not token_permissions.calendar_access(
            principal, "", None, False
        )
        value = []
        for address in schedules:
            record = by_address.get(str(address).lower()) if isinstance(address, str) else None
            if record is None or not record.has_mailbox or record.foreign:
                value.append(_unresolved(str(address)))
                continue
            owner = record.props["id"]
            details = details_for_app or (caller == owner)
            value.append(
                _information(
                    state,
                    str(address),
                    owner,
                    low,
                    high,
                    interval=interval,
                    tz=tz,
                    tz_name=tz_name,
                    details=details,
                    own=caller == owner,
                )
            )
    return ok(
        {
            "@odata.context": (
                f"{ctx.graph_url}/$metadata#Collection(microsoft.graph.scheduleInformation)"
            ),
            "value": value,
        }
    )


def _information(state, address, owner, low, high, *, interval, tz, tz_name, details, own) -> dict:
    items = []
    step = timedelta(minutes=interval)
    slots = max(1, -(-int((high - low).total_seconds()) // int(step.total_seconds())))
    view = ["0"] * slots
    for _start, _id, event, key in state.mailbox(owner).view(low, high):
        props = event.props
        if key is not None and key in event.exceptions:
            props = {**props, **event.exceptions[key].props}
            begin, end = event.occurrence_times(key)
        elif key is not None:
            begin, end = event.occurrence_times(key)
        else:
            begin, end = event.start, event.end
        begin, end = event.utc(begin), event.utc(end)
        if props.get("isCancelled"):
            continue
        status = props.get("showAs") or "busy"
        private = (props.get("sensitivity") or "normal") in {"private", "confidential"}
        item = {
            "isPrivate": private,
            "status": status,
            "start": date_time_time_zone(begin, tz, tz_name),
            "end": date_time_time_zone(end, tz, tz_name),
        }
        if details and (own or not private):
            item["subject"] = props.get("subject") or ""
            item["location"] = (props.get("location") or {}).get("displayName") or ""
        items.append(item)
        digit = _VIEW.get(status, "0")
        first = max(0, int((begin - low) // step))
        last = min(slots, -(-int((end - low).total_seconds()) // int(step.total_seconds())))
        for index in range(first, last):
            view[index] = max(view[index], digit)
    return {
        "scheduleId": address,
        "availabilityView": "".join(view),
        "scheduleItems": items,
        "workingHours": dict(_WORKING_HOURS),
    }
