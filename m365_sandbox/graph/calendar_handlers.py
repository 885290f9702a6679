"""Outlook calendar endpoints: calendarView (+ delta), events CRUD, instances.

Graph rules reproduced here:

* ``calendarView`` needs ``startDateTime`` and ``endDateTime`` (400
  ``ErrorInvalidParameter`` otherwise), expands series into occurrences and
  exceptions, pages 10 items by default (``$top`` or ``Prefer:
  odata.maxpagesize``) with ``$skip`` next links.
* ``calendarView/delta`` fixes its window in the first call, refuses
  ``$select``/``$filter``/``$orderby``/``$search``/``$expand`` (Graph docs,
  "event: delta", https://learn.microsoft.com/graph/api/event-delta, whose query
  parameters are the window and the state tokens only; docs/architecture.md, "Rules"),
  pages with ``$skiptoken`` and ends a round with ``$deltatoken``; later rounds return
  changed events and ``@removed`` for deleted ones and ones that left the
  window; an expired or invalidated token is 410 ``SyncStateNotFound``
  (microsoftgraph/microsoft-graph-docs#2350).
* What a delta round lists is real Graph's shape, not calendarView's: series
  masters in full, occurrences as stubs, exceptions in full, a series never
  split across pages, a cancelled occurrence reported only through its master
  — see :meth:`~m365_sandbox.tenant.mailbox_store.Mailbox.delta_groups` for each rule and its
  public source.
* ``POST events`` is idempotent on ``transactionId`` per mailbox; ``PATCH``
  and ``DELETE`` honour ``If-Match`` (bare change key, quoted, or the
  ``W/"…"`` etag) with 412 ``ErrorIrresolvableConflict`` when it is stale.
* ``Prefer: outlook.timezone`` (IANA or Windows name) sets the zone of
  returned start/end, default UTC.
* With only ``Calendars.ReadBasic(.All)`` subject, body, bodyPreview,
  location(s) and attendees are left out.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ..identity import token_permissions
from ..tenant import online_meetings, room_booking
from ..tenant.mailbox_store import EVENT_PROPERTIES, StoredEvent
from ..tenant.service_errors import (
    GraphError,
    invalid_user,
    item_not_found,
    mailbox_not_enabled,
    sync_state_not_found,
)
from ..tenant.zone_lookup import UTC, parse_query_datetime, zone
from .odata_query import (
    decode_token,
    encode_token,
    link,
    page_size,
    parse_int,
    parse_select,
    prefer_get,
)
from .wire_types import GraphRequest, GraphResponse, json_body, ok

if TYPE_CHECKING:
    from ..tenant.handler_context import HandlerContext

EVENT_TYPE = "microsoft.graph.event"
DELTA_FORBIDDEN = ("$select", "$filter", "$orderby", "$search", "$expand")


class Target:
    """The mailbox a request addresses and how much of it the caller may see."""

    def __init__(self, user_id: str, basic: bool, path_prefix: str):
        self.user_id = user_id
        self.basic = basic
        self.path_prefix = path_prefix  # "/users/{id}" or "/me", for links


def _target(ctx: HandlerContext, req: GraphRequest, write: bool) -> Target:
    principal = req.principal
    token_permissions.calendar_precheck(principal, write)
    if req.params.get("me"):
        if principal.is_app:
            raise GraphError(
                400, "BadRequest", "/me request is only valid with delegated authentication flow."
            )
        ref, prefix = principal.user_id or "", "/me"
    else:
        ref = req.params["user"]
        prefix = f"/users/{ref}"
    state = ctx.state
    with state.lock:
        record = state.user_record(ref)
        if record is None:
            raise invalid_user(ref)
        user_id = record.props["id"]
        shared = state.shared_with(user_id, principal.user_id) if principal.user_id else None
        basic = token_permissions.calendar_access(principal, user_id, shared, write)
        if not record.has_mailbox or user_id not in state.mailboxes:
            raise mailbox_not_enabled()
        if principal.is_app and user_id in state.app_blocked:
            # An application access policy (RBAC for Applications / New-
            # ApplicationAccessPolicy) scoping the app away from this mailbox:
            # Graph docs "Limiting application permissions to specific Exchange
            # Online mailboxes"; microsoftgraph/microsoft-graph-docs#13696.
            raise GraphError(
                403,
                "ErrorAccessDenied",
                "Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly "
                "AccessPolicy settings.",
            )
    return Target(user_id, basic, prefix)


def _query(req: GraphRequest, name: str) -> str | None:
    # Outlook treats these query parameter names case-insensitively.
    lowered = name.lower()
    for key, value in req.query.items():
        if key.lower() == lowered:
            return value
    return None


def _window(req: GraphRequest) -> tuple[datetime, datetime]:
    start, end = _query(req, "startDateTime"), _query(req, "endDateTime")
    if not start or not end:
        raise GraphError(
            400,
            "ErrorInvalidParameter",
            "This request requires a time window specified by the query string parameters "
            "StartDateTime and EndDateTime.",
        )
    low = parse_query_datetime(start, "startDateTime")
    high = parse_query_datetime(end, "endDateTime")
    return low, high


def _output_zone(req: GraphRequest) -> tuple[object, str, dict]:
    """tzinfo and name for start/end, plus Preference-Applied headers."""
    wanted = prefer_get(req.prefer, "outlook.timezone")
    if wanted:
        tz = zone(wanted)
        if tz is not None:
            return tz, wanted, {"Preference-Applied": f'outlook.timezone="{wanted}"'}
    return UTC, "UTC", {}


def _select(req: GraphRequest) -> list[str] | None:
    return parse_select(
        req.query.get("$select"), EVENT_PROPERTIES, EVENT_TYPE, "RequestBroker--ParseUri"
    )


def _merge_headers(*parts: dict) -> dict:
    result: dict = {}
    for part in parts:
        for key, value in part.items():
            if key == "Preference-Applied" and key in result:
                result[key] = f"{result[key]}, {value}"
            else:
                result[key] = value
    return result


def _reject_filter(req: GraphRequest) -> None:
    if "$filter" in req.query or "$search" in req.query:
        raise GraphError(
            400,
            "ErrorInvalidUrlQueryFilter",
            "The sandbox does not emulate $filter/$search on events; use calendarView.",
        )


def _paged_list(ctx, req, target: Target, items, *, path: str, extra_params: dict) -> GraphResponse:
    """Offset paging (``$skip``) the way Outlook lists and calendarView page."""
    size, applied = page_size(req.query, req.prefer, 10, 1000)
    skip = parse_int(_query(req, "$skip"), "$skip") or 0
    tz, tz_name, tz_headers = _output_zone(req)
    select = _select(req)
    page = items[skip : skip + size]
    with ctx.state.lock:
        value = [
            event.render(key, tz=tz, tz_name=tz_name, select=select, basic=target.basic)
            for _s, _i, event, key in page
        ]
    body = {
        "@odata.context": f"{ctx.graph_url}/$metadata#{_context(target, path)}",
        "value": value,
    }
    if skip + size < len(items):
        params = dict(extra_params)
        for name in ("$select", "$top", "$orderby"):
            if name in req.query:
                params[name] = req.query[name]
        params["$skip"] = str(skip + size)
        body["@odata.nextLink"] = link(ctx.graph_url, target.path_prefix + path, params)
    headers = {"Preference-Applied": f"odata.maxpagesize={size}"} if applied else {}
    return ok(body, headers=_merge_headers(tz_headers, headers))


def _context(target: Target, path: str) -> str:
    return f"users('{target.user_id}'){path}"


def _order(req: GraphRequest, items: list) -> list:
    orderby = req.query.get("$orderby")
    if not orderby:
        return items
    name, _, direction = orderby.strip().partition(" ")
    descending = direction.strip().lower() == "desc"
    if name in ("start/dateTime", "start"):
        return sorted(items, key=lambda item: (item[0], item[1]), reverse=descending)
    if name in ("end/dateTime", "end"):
        return sorted(
            items,
            key=lambda item: item[2].utc(
                item[2].occurrence_times(item[3])[1] if item[3] else item[2].end
            ),
            reverse=descending,
        )
    if name in ("lastModifiedDateTime", "createdDateTime", "subject"):

        def key(item):
            event = item[2]
            if name == "subject":
                return (event.props.get("subject") or "").lower()
            return event.modified if name == "lastModifiedDateTime" else event.created

        return sorted(items, key=key, reverse=descending)
    raise GraphError(
        400, "ErrorInvalidProperty", f"The property '{name}' can't be used in $orderby."
    )


# -- calendarView -------------------------------------------------------------------


def calendar_view(ctx: HandlerContext, req: GraphRequest) -> GraphResponse:
    target = _target(ctx, req, write=False)
    _reject_filter(req)
    low, high = _window(req)
    with ctx.state.lock:
        items = ctx.state.mailbox(target.user_id).view(low, high)
    items = _order(req, items)
    params = {
        "startDateTime": _query(req, "startDateTime"),
        "endDateTime": _query(req, "endDateTime"),
    }
    return _paged_list(ctx, req, target, items, path="/calendarView", extra_params=params)


def calendar_view_delta(ctx: HandlerContext, req: GraphRequest) -> GraphResponse:
    target = _target(ctx, req, write=False)
    state = ctx.state
    delta_text, skip_text = req.query.get("$deltatoken"), req.query.get("$skiptoken")
    if delta_text or skip_text:
        token = decode_token(delta_text or skip_text)
        if (
            not token
            or token.get("k") != "cvdelta"
            or token.get("u") != target.user_id
            or not _alive(state, token)
        ):
            raise sync_state_not_found(generation=int((token or {}).get("g") or 0))
        if delta_text:
            token = {**token, "n": state.seq, "a": ""}  # a new round starts now
    else:
        forbidden = [name for name in DELTA_FORBIDDEN if name in req.query]
        if forbidden:
            raise GraphError(
                400,
                "ErrorInvalidUrlQuery",
                "The following parameters are not supported with change tracking over the "
                f"'CalendarView' resource: '{', '.join(forbidden)}'.",
            )
        low, high = _window(req)
        token = {
            "k": "cvdelta",
            "u": target.user_id,
            "ws": low.isoformat(),
            "we": high.isoformat(),
            "q": -1,
            "n": state.seq,
            "a": "",
            "g": state.delta_generation,
        }
    low, high = datetime.fromisoformat(token["ws"]), datetime.fromisoformat(token["we"])
    size, applied = page_size({}, req.prefer, 10, 1000)
    tz, tz_name, tz_headers = _output_zone(req)
    after = str(token.get("a", ""))
    with state.lock:
        box = state.mailbox(target.user_id)
        groups, removed = box.delta_groups(None if token["q"] < 0 else token["q"], low, high)
        # Keyset paging on (start, group id): changes between two pages never push an
        # unchanged event past the page boundary (changed ones come back next round).
        entries = sorted(
            [(f"0|{start.isoformat()}|{gid}", "group", parts) for start, gid, parts in groups]
            + [(f"1|{event_id}", "removed", event_id) for event_id in removed]
        )
        entries = [entry for entry in entries if entry[0] > after]
        # A series is never split across pages: a page ends before a group that
        # would not fit, unless the page is still empty (then it holds the group).
        page, count = [], 0
        for entry in entries:
            weight = len(entry[2]) if entry[1] == "group" else 1
            if page and count + weight > size:
                break
            page.append(entry)
            count += weight
        value = []
        for _key, kind, item in page:
            if kind == "group":
                for event, key, shape in item:
                    if shape == "stub":
                        value.append(event.render_stub(key, tz=tz, tz_name=tz_name))
                    else:
                        value.append(event.render(key, tz=tz, tz_name=tz_name, basic=target.basic))
            else:
                value.append(
                    {
                        "@odata.type": "#microsoft.graph.event",
                        "id": item,
                        "@removed": {"reason": "deleted"},
                    }
                )
    body = {"@odata.context": f"{ctx.graph_url}/$metadata#Collection(event)", "value": value}
    path = target.path_prefix + "/calendarView/delta"
    if len(entries) > len(page):
        nxt = {**token, "a": page[-1][0], "t": _stamp(state)}
        body["@odata.nextLink"] = link(ctx.graph_url, path, {"$skiptoken": encode_token(nxt)})
    else:
        final = {**token, "q": token["n"], "a": "", "t": _stamp(state)}
        body["@odata.deltaLink"] = link(ctx.graph_url, path, {"$deltatoken": encode_token(final)})
    headers = {"Preference-Applied": f"odata.maxpagesize={size}"} if applied else {}
    return ok(body, headers=_merge_headers(tz_headers, headers))


def _stamp(state) -> int:
    return int(state.now().timestamp())


def _alive(state, token: dict) -> bool:
    if token.get("g") != state.delta_generation:
        return False
    issued = token.get("t")
    return issued is None or _stamp(state) - int(issued) <= state.delta_token_lifetime


# -- events ------------------------------------------------------------------------


def list_events(ctx: HandlerContext, req: GraphRequest) -> GraphResponse:
    target = _target(ctx, req, write=False)
    _reject_filter(req)
    with ctx.state.lock:
        events = list(ctx.state.mailbox(target.user_id).events.values())
    items = [(e.utc(e.start), e.id, e, None) for e in events]
    items = _order(req, items)
    return _paged_list(ctx, req, target, items, path="/events", extra_params={})


def _render_one(
    ctx,
    req,
    target: Target,
    event: StoredEvent,
    *,
    key=None,
    status: int = 200,
    context: str = "/events/$entity",
) -> GraphResponse:
    tz, tz_name, tz_headers = _output_zone(req)
    select = _select(req) if req.method == "GET" else None
    with ctx.state.lock:
        body = event.render(key, tz=tz, tz_name=tz_name, select=select, basic=target.basic)
    body = {"@odata.context": f"{ctx.graph_url}/$metadata#{_context(target, context)}", **body}
    return ok(body, status, headers=tz_headers)


def create_event(ctx: HandlerContext, req: GraphRequest) -> GraphResponse:
    target = _target(ctx, req, write=True)
    payload = json_body(req)
    event, _created = ctx.state.create_event(target.user_id, payload)
    response = _render_one(ctx, req, target, event, status=201)
    response.headers["Location"] = f"{ctx.graph_url}/users('{target.user_id}')/events('{event.id}')"
    # Invited rooms answer after the write (the answer above still shows "none").
    room_booking.process(ctx.state, target.user_id, event.id)
    return response


def _find(ctx, target: Target, event_id: str):
    try:
        return ctx.state.find_event(target.user_id, event_id)
    except KeyError:
        raise item_not_found() from None


def get_event(ctx: HandlerContext, req: GraphRequest) -> GraphResponse:
    target = _target(ctx, req, write=False)
    event, key = _find(ctx, target, req.params["event_id"])
    return _render_one(ctx, req, target, event, key=key)


def _check_if_match(req: GraphRequest, event: StoredEvent, key) -> None:
    """412 unless If-Match names the current change key (any of Graph's forms)."""
    header = req.headers.get("If-Match")
    if not header:
        return
    current = (
        event.exceptions[key].change_key
        if key is not None and key in event.exceptions
        else event.change_key
    )
    for candidate in header.split(","):
        value = candidate.strip()
        if value == "*":
            return
        if value.startswith("W/"):
            value = value[2:]
        value = value.strip().strip('"')
        if value == current:
            return
    raise GraphError(
        412,
        "ErrorIrresolvableConflict",
        "The send or update operation could not be performed because the change key passed in "
        "the request does not match the current change key for the item.",
    )


def update_event(ctx: HandlerContext, req: GraphRequest) -> GraphResponse:
    target = _target(ctx, req, write=True)
    payload = json_body(req)
    state = ctx.state
    with state.lock:
        event, key = _find(ctx, target, req.params["event_id"])
        _check_if_match(req, event, key)
        event, key = state.patch_event(target.user_id, req.params["event_id"], payload)
        response = _render_one(ctx, req, target, event, key=key)
        if key is None:
            room_booking.process(ctx.state, target.user_id, event.id)
        return response


def delete_event(ctx: HandlerContext, req: GraphRequest) -> GraphResponse:
    target = _target(ctx, req, write=True)
    state = ctx.state
    with state.lock:
        event, key = _find(ctx, target, req.params["event_id"])
        _check_if_match(req, event, key)
        state.remove_event(target.user_id, req.params["event_id"])
        if key is None:
            room_booking.release(state, target.user_id, event.ical_uid)
    return GraphResponse(204, None, {})


def instances(ctx: HandlerContext, req: GraphRequest) -> GraphResponse:
    target = _target(ctx, req, write=False)
    low, high = _window(req)
    event, key = _find(ctx, target, req.params["event_id"])
    if key is not None:
        raise item_not_found()
    with ctx.state.lock:
        items = []
        for occ_key, start, _end in event.occurrences(low, high):
            items.append((event.utc(start), f"{event.id}", event, occ_key))
    path = f"/events/{event.id}/instances"
    params = {
        "startDateTime": _query(req, "startDateTime"),
        "endDateTime": _query(req, "endDateTime"),
    }
    return _paged_list(ctx, req, target, items, path=path, extra_params=params)


# -- the calendar resource itself ----------------------------------------------------


def _calendar(ctx: HandlerContext, user_id: str) -> dict:
    record = ctx.state.user_record(user_id)
    props = record.props if record else {}
    return {
        "id": "AAMkCal" + user_id.replace("-", ""),
        "name": "Calendar",
        "color": "auto",
        "hexColor": "",
        "isDefaultCalendar": True,
        "changeKey": "fJKVL07sbkmIfHqjbDnRgQAAAAACJg==",
        "canShare": True,
        "canViewPrivateItems": True,
        "canEdit": True,
        # A tenant without Teams or a user without a licence: no provider (online_meetings).
        "allowedOnlineMeetingProviders": online_meetings.providers(
            ctx.state.teams_enabled, user_id not in ctx.state.teams_unlicensed
        ),
        "defaultOnlineMeetingProvider": online_meetings.default_provider(
            ctx.state.teams_enabled, user_id not in ctx.state.teams_unlicensed
        ),
        "isTallyingResponses": True,
        "isRemovable": False,
        "owner": {"name": props.get("displayName"), "address": props.get("mail")},
    }


def get_calendar(ctx: HandlerContext, req: GraphRequest) -> GraphResponse:
    target = _target(ctx, req, write=False)
    body = {
        "@odata.context": f"{ctx.graph_url}/$metadata#{_context(target, '/calendar/$entity')}",
        **_calendar(ctx, target.user_id),
    }
    return ok(body)


def list_calendars(ctx: HandlerContext, req: GraphRequest) -> GraphResponse:
    target = _target(ctx, req, write=False)
    body = {
        "@odata.context": f"{ctx.graph_url}/$metadata#{_context(target, '/calendars')}",
        "value": [_calendar(ctx, target.user_id)],
    }
    return ok(body)
