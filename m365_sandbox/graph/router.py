"""The Graph v1.0 front door: routing and the per-request pipeline.

Every Graph request — top-level or ``$batch`` item — goes through the same
steps, in Graph's order: injected faults, the bearer token (401), routing
(400 for an unknown segment), the per-app-and-mailbox concurrency limit (429
``ApplicationThrottled``), simulated latency, permissions and the handler.
Each produces one record in the request log. Handlers live in
``user_handlers.py``, ``place_handlers.py``, ``calendar_handlers.py`` and ``batch_handler.py`` and
return :class:`GraphResponse`; resource handlers receive the narrow
:class:`~m365_sandbox.tenant.handler_context.HandlerContext`, the ``$batch``
handler the :class:`GraphService` itself (it runs its items through this
pipeline).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..identity.token_permissions import Principal
from ..tenant.request_log import HeaderDict, LogRecord
from ..tenant.service_errors import GraphError
from . import (
    batch_handler,
    calendar_handlers,
    mailbox_settings_handlers,
    place_handlers,
    schedule_handlers,
    subscription_handlers,
    user_handlers,
)
from .odata_query import parse_prefer, prefer_get
from .wire_types import JSON_TYPE, DropConnection, GraphRequest, GraphResponse, throttled

if TYPE_CHECKING:
    from ..tenant.handler_context import HandlerContext

logger = logging.getLogger("m365_sandbox")

MAILBOX_PREFIX = r"/(?:users/(?P<user>[^/]+)|(?P<me>me))"


@dataclass(frozen=True)
class Route:
    methods: tuple[str, ...]
    pattern: re.Pattern
    handler: Callable
    mailbox: bool = False
    #: False: the handler takes the tenant lock itself (it waits on HTTP meanwhile).
    locked: bool = True


def _route(
    methods: str, path: str, handler: Callable, mailbox: bool = False, locked: bool = True
) -> Route:
    return Route(tuple(methods.split(",")), re.compile(f"^{path}$"), handler, mailbox, locked)


_EVENT = r"(?:/calendar)?/events/(?P<event_id>[^/]+)"
ROUTES = [
    _route("POST", r"/\$batch", batch_handler.handle_batch),
    _route("GET", r"/users/delta(?:\(\))?", user_handlers.users_delta),
    _route("GET", r"/users", user_handlers.list_users),
    _route("GET", r"/me", user_handlers.get_me),
    _route("GET", r"/places/microsoft\.graph\.room", place_handlers.list_rooms),
    _route("GET", r"/places/microsoft\.graph\.roomlist", place_handlers.list_room_lists),
    _route(
        "GET",
        r"/places/(?P<room_list>[^/]+)/microsoft\.graph\.roomlist/rooms",
        place_handlers.list_rooms_of_list,
    ),
    _route(
        "GET",
        MAILBOX_PREFIX + r"(?:/calendar)?/calendarView/delta(?:\(\))?",
        calendar_handlers.calendar_view_delta,
        True,
    ),
    _route(
        "GET",
        MAILBOX_PREFIX + r"(?:/calendar)?/calendarView",
        calendar_handlers.calendar_view,
        True,
    ),
    _route("GET", MAILBOX_PREFIX + r"(?:/calendar)?/events", calendar_handlers.list_events, True),
    _route("POST", MAILBOX_PREFIX + r"(?:/calendar)?/events", calendar_handlers.create_event, True),
    _route("GET", MAILBOX_PREFIX + _EVENT + r"/instances", calendar_handlers.instances, True),
    _route("GET", MAILBOX_PREFIX + _EVENT, calendar_handlers.get_event, True),
    _route("PATCH", MAILBOX_PREFIX + _EVENT, calendar_handlers.update_event, True),
    _route("DELETE", MAILBOX_PREFIX + _EVENT, calendar_handlers.delete_event, True),
    _route(
        "POST",
        MAILBOX_PREFIX + r"/calendar/getSchedule",
        schedule_handlers.get_schedule,
        True,
    ),
    _route("GET", MAILBOX_PREFIX + r"/calendar", calendar_handlers.get_calendar, True),
    _route(
        "GET", MAILBOX_PREFIX + r"/mailboxSettings", mailbox_settings_handlers.get_settings, True
    ),
    _route(
        "PATCH",
        MAILBOX_PREFIX + r"/mailboxSettings",
        mailbox_settings_handlers.patch_settings,
        True,
    ),
    _route("GET", MAILBOX_PREFIX + r"/calendars", calendar_handlers.list_calendars, True),
    _route("GET", r"/users/(?P<user>[^/]+)", user_handlers.get_user),
    _route("POST", r"/subscriptions", subscription_handlers.create_subscription, locked=False),
    _route("GET", r"/subscriptions", subscription_handlers.list_subscriptions),
    _route(
        "POST",
        r"/subscriptions/(?P<sub_id>[^/]+)/reauthorize",
        subscription_handlers.reauthorize_subscription,
    ),
    _route("GET", r"/subscriptions/(?P<sub_id>[^/]+)", subscription_handlers.get_subscription),
    _route("PATCH", r"/subscriptions/(?P<sub_id>[^/]+)", subscription_handlers.update_subscription),
    _route(
        "DELETE", r"/subscriptions/(?P<sub_id>[^/]+)", subscription_handlers.delete_subscription
    ),
]


def match_route(method: str, path: str) -> tuple[Route, dict]:
    path = path.rstrip("/") or "/"
    allowed = False
    for route in ROUTES:
        match = route.pattern.match(path)
        if not match:
            continue
        if method.upper() in route.methods:
            return route, {k: v for k, v in match.groupdict().items() if v is not None}
        allowed = True
    if allowed:
        raise GraphError(
            405, "BadRequest", "Specified HTTP method is not allowed for the request target."
        )
    segments = [s for s in path.split("/") if s]
    known = {
        "users",
        "me",
        "places",
        "$batch",
        "calendar",
        "calendars",
        "calendarView",
        "events",
        "delta",
        "instances",
        "getSchedule",
        "subscriptions",
        "reauthorize",
        "mailboxSettings",
    }
    unknown = next((s for s in segments if s not in known), segments[-1] if segments else "")
    raise GraphError(400, "BadRequest", f"Resource not found for the segment '{unknown}'.")


class GraphService:
    """Executes Graph requests against one tenant, through its handler context."""

    def __init__(self, ctx: HandlerContext):
        self.ctx = ctx
        self.state = ctx.state

    match_route = staticmethod(match_route)

    @property
    def base(self) -> str:
        return self.ctx.graph_url

    # -- authentication ---------------------------------------------------

    def authenticate(self, headers: HeaderDict) -> Principal:
        auth = headers.get("Authorization") or ""
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer":
            token = ""
        claims = self.ctx.tokens.verify(token.strip(), self.state.tenant_id, self.state.now())
        return Principal.from_claims(claims)

    def resolve_mailbox(self, route: Route, params: dict, principal: Principal) -> str | None:
        """Graph user id of the mailbox a calendar route addresses (None if unknown)."""
        if not route.mailbox:
            return None
        if params.get("me"):
            return principal.user_id
        record = self.state.user_record(params.get("user", ""))
        return record.props["id"] if record else None

    # -- the pipeline ------------------------------------------------------

    def execute(
        self,
        req: GraphRequest,
        *,
        latency: float = 0.0,
        limit_concurrency: bool = True,
    ) -> GraphResponse:
        """Run one request (or batch item) and log it. Raises DropConnection."""
        started = time.monotonic()
        record = LogRecord(
            method=req.method,
            path="/v1.0" + req.path,
            query=dict(req.query),
            headers=req.headers,
            in_batch=req.in_batch,
            request_id=req.request_id,
            started=time.time(),
        )
        if req.in_batch:
            record.batch_item_id = req.params.get("_batch_id")
        try:
            response = self._execute(req, record, latency, limit_concurrency)
        except DropConnection:
            record.status = 0
            record.duration = time.monotonic() - started
            self.ctx.log.append(record)
            raise
        record.status = response.status
        record.mailbox = req.mailbox_id
        record.duration = time.monotonic() - started
        self.ctx.log.append(record)
        response.headers.setdefault("request-id", req.request_id)
        response.headers.setdefault("client-request-id", req.client_request_id)
        return response

    def _execute(
        self, req: GraphRequest, record: LogRecord, latency: float, limit: bool
    ) -> GraphResponse:
        delay, fault = self.ctx.faults.fire(req.method, "/v1.0" + req.path, req.in_batch)
        if fault is not None:
            record.fault = fault.kind
        if fault is not None and fault.kind == "drop":
            time.sleep(latency + delay)
            raise DropConnection(after=False)
        slot = None
        try:
            try:
                principal = req.principal or self.authenticate(req.headers)
                req.principal = principal
                route, params = match_route(req.method, req.path)
                req.params.update(params)
                req.mailbox_id = self.resolve_mailbox(route, params, principal)
                if limit and req.mailbox_id and route.mailbox:
                    slot = (principal.client_id, req.mailbox_id)
                    if not self.ctx.faults.acquire(slot):
                        slot = None
                        raise throttled(self.ctx.faults.concurrency_retry_after)
            except GraphError as exc:
                time.sleep(latency + delay)
                return self.error_response(req, exc)
            if route.handler is batch_handler.handle_batch:
                if req.in_batch:
                    return self.error_response(
                        req,
                        GraphError(400, "BadRequest", "Nested batch requests are not supported."),
                    )
                return self._run(route, req, fault, latency + delay)
            time.sleep(latency + delay)
            return self._run(route, req, fault, 0.0)
        finally:
            if slot is not None:
                self.ctx.faults.release(slot)

    def _run(self, route: Route, req: GraphRequest, fault, latency: float) -> GraphResponse:
        if fault is not None and fault.kind == "status":
            code, message = fault.error()
            return self.error_response(
                req, GraphError(fault.status, code, message, fault.headers())
            )
        try:
            prefer = parse_prefer([req.headers.get("Prefer")] if req.headers.get("Prefer") else [])
            req.prefer = prefer
            if route.handler is batch_handler.handle_batch:
                response = route.handler(self, req, latency=latency)
            # One lock around each handler: the tenant is consistent for the
            # whole answer (handlers are CPU-bound; latency sleeps happen
            # outside, so concurrent clients still overlap).
            elif route.locked:
                with self.state.lock:
                    response = route.handler(self.ctx, req)
            else:
                response = route.handler(self.ctx, req)
            if prefer_get(prefer, "IdType"):
                # Accepted: the sandbox's ids are immutable anyway.
                logger.debug(
                    "Prefer IdType=%s on %s %s", prefer_get(prefer, "IdType"), req.method, req.path
                )
                applied = response.headers.get("Preference-Applied")
                idtype = f'IdType="{prefer_get(prefer, "IdType")}"'
                response.headers["Preference-Applied"] = (
                    f"{applied}, {idtype}" if applied else idtype
                )
        except GraphError as exc:
            return self.error_response(req, exc)
        except DropConnection:
            raise
        except Exception:
            logger.exception("sandbox handler failed: %s %s", req.method, req.path)
            return self.error_response(
                req, GraphError(500, "generalException", "An unspecified error has occurred.")
            )
        if fault is not None and fault.kind == "drop_after":
            raise DropConnection(after=True)
        return response

    def error_response(self, req: GraphRequest, exc: GraphError) -> GraphResponse:
        headers = {"Content-Type": JSON_TYPE, **exc.headers}
        if exc.status == 401:
            headers["WWW-Authenticate"] = (
                'Bearer realm="", '
                f'authorization_uri="{self.ctx.base_url}/common/oauth2/authorize", '
                'client_id="00000003-0000-0000-c000-000000000000"'
            )
        return GraphResponse(exc.status, exc.body(req.request_id, req.client_request_id), headers)
