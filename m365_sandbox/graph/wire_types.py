"""Request and response types shared by the Graph handlers.

Handlers (``user_handlers``, ``calendar_handlers``, ``batch_handler``) take a
:class:`GraphRequest` and return a :class:`GraphResponse`; keeping these in
their own module lets the router import the handlers without import cycles.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

from ..identity.token_permissions import Principal
from ..tenant.request_log import HeaderDict
from ..tenant.service_errors import GraphError

JSON_TYPE = (
    "application/json; odata.metadata=minimal; odata.streaming=true; "
    "IEEE754Compatible=false; charset=utf-8"
)


class DropConnection(Exception):
    """Close the client connection without an answer (``after``: the work was done)."""

    def __init__(self, after: bool):
        super().__init__("drop")
        self.after = after


@dataclass
class GraphRequest:
    method: str
    path: str  # relative to /v1.0, e.g. "/users/abc/events"
    query: dict
    headers: HeaderDict
    body: object = None
    raw_body: bytes = b""
    in_batch: bool = False
    request_id: str = ""
    client_request_id: str = ""
    principal: Principal | None = None
    prefer: dict = field(default_factory=dict)
    mailbox_id: str | None = None
    params: dict = field(default_factory=dict)


@dataclass
class GraphResponse:
    status: int
    body: object = None
    headers: dict = field(default_factory=dict)


def throttled(retry_after) -> GraphError:
    headers = {}
    if retry_after is not None:
        headers["Retry-After"] = (
            str(int(retry_after)) if float(retry_after).is_integer() else str(retry_after)
        )
    return GraphError(
        429, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.", headers
    )


def new_request(
    method: str,
    path: str,
    query: dict,
    headers: HeaderDict,
    raw_body: bytes,
    *,
    in_batch: bool = False,
    body=None,
) -> GraphRequest:
    client_request_id = headers.get("client-request-id") or str(uuid.uuid4())
    if body is None and raw_body:
        try:
            body = json.loads(raw_body)
        except ValueError:
            body = _INVALID_JSON
    return GraphRequest(
        method=method.upper(),
        path=path,
        query=query,
        headers=headers,
        body=body,
        raw_body=raw_body,
        in_batch=in_batch,
        request_id=str(uuid.uuid4()),
        client_request_id=client_request_id,
    )


class _InvalidJson:
    pass


_INVALID_JSON = _InvalidJson()


def json_body(req: GraphRequest) -> dict:
    """The request's JSON object, or Graph's 400 for a missing/invalid body."""
    if req.body is None:
        raise GraphError(400, "BadRequest", "Empty Payload. JSON content expected.")
    if isinstance(req.body, _InvalidJson):
        raise GraphError(
            400,
            "BadRequest",
            "Unable to read JSON request payload. Please ensure Content-Type header is set and "
            "payload is of valid JSON format.",
        )
    if not isinstance(req.body, dict):
        raise GraphError(400, "RequestBodyRead", "The request body must be a JSON object.")
    return req.body


def ok(body, status: int = 200, headers: dict | None = None) -> GraphResponse:
    return GraphResponse(status, body, {"Content-Type": JSON_TYPE, **(headers or {})})
