"""``/subscriptions``: change-notification subscriptions to a mailbox's events.

Why this file exists: Graph's webhook subscriptions (create, read, list, renew,
reauthorize, delete — https://learn.microsoft.com/graph/api/resources/subscription)
are what lets a client hear about a calendar change instead of polling. The
subscriptions and the delivery live in ``tenant/notification_delivery.py``; these
handlers check requests as Graph does:

* the resource must be ``me/events`` (delegated) or ``users/{id|upn}/events``;
  the caller needs a calendar read permission (``Calendars.Read`` or more —
  application role or delegated scope), a delegated caller only for its own
  mailbox;
* ``notificationUrl`` (and ``lifecycleNotificationUrl``) must be ``https``
  (``http://localhost`` is the sandbox's documented deviation) and pass the
  validation handshake during the POST, or the creation fails with Graph's 400
  "Subscription validation request failed. Notification endpoint must respond
  with 200 OK to validation request." (the handshake runs outside the tenant
  lock: the receiver may call back into the sandbox meanwhile);
* ``expirationDateTime`` at most 10,070 minutes ahead for events — the documented
  maximum is 10,080 minutes, real Graph refuses more than 10,070 with
  ``ExtensionError`` "Subscription expiration can only be 10070 minutes in the
  future." (reported by client libraries meeting it) — and not in the past;
* an unknown or expired subscription answers 404 ``ResourceNotFound``;
* duplicates (same resource and change type) are accepted: the documented 409
  is reported not to happen (microsoftgraph/microsoft-graph-docs-contrib#9039).
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from ..identity.token_permissions import CAL_APP_READ, CAL_OWN_READ
from ..tenant.notification_delivery import SandboxSubscription, url_allowed
from ..tenant.service_errors import GraphError, invalid_user, mailbox_denied, mailbox_not_enabled
from .wire_types import GraphRequest, GraphResponse, json_body, ok

if TYPE_CHECKING:
    from ..tenant.handler_context import HandlerContext

#: Real Graph's ceiling for Outlook resources (the docs say 10,080).
MAX_MINUTES = 10_070
CHANGE_TYPES = {"created", "updated", "deleted"}
_RESOURCE = re.compile(r"^/?(?:(?P<me>me)|users/(?P<user>[^/]+))/events/?$", re.IGNORECASE)
VALIDATION_FAILED = (
    "Subscription validation request failed. Notification endpoint must respond with 200 OK "
    "to validation request."
)


def _hub(ctx: HandlerContext):
    if ctx.notifications is None:
        raise GraphError(501, "NotImplemented", "Change notifications are not available.")
    return ctx.notifications


def _not_found() -> GraphError:
    return GraphError(404, "ResourceNotFound", "The object was not found.")


def _extension(reason: str, operation: str = "Create") -> GraphError:
    return GraphError(
        400,
        "ExtensionError",
        f"Operation: {operation}; Exception: [Status Code: BadRequest; Reason: {reason}]",
    )


def _parse_expiry(value, now: datetime, operation: str) -> datetime:
    if not isinstance(value, str):
        raise GraphError(400, "InvalidRequest", "expirationDateTime is a required property.")
    text = re.sub(r"(\.\d{6})\d+", r"\1", value.strip().replace("Z", "+00:00"))
    try:
        expires = datetime.fromisoformat(text)
    except ValueError as exc:
        raise GraphError(
            400, "InvalidRequest", f"Cannot convert '{value}' to a DateTimeOffset."
        ) from exc
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=timezone.utc)
    expires = expires.astimezone(timezone.utc)
    if expires <= now:
        raise _extension("Subscription expiration date time is in the past.", operation)
    if expires > now + timedelta(minutes=MAX_MINUTES, seconds=30):
        raise _extension(
            f"Subscription expiration can only be {MAX_MINUTES} minutes in the future.", operation
        )
    return expires


def _render(ctx: HandlerContext, sub: SandboxSubscription, *, with_state: bool) -> dict:
    return {
        "@odata.context": f"{ctx.graph_url}/$metadata#subscriptions/$entity",
        "id": sub.id,
        "resource": sub.resource,
        "applicationId": sub.application_id,
        "changeType": ",".join(sorted(sub.change_types)),
        "clientState": sub.client_state if with_state else None,
        "notificationUrl": sub.notification_url,
        "lifecycleNotificationUrl": sub.lifecycle_url,
        "expirationDateTime": sub.expires.strftime("%Y-%m-%dT%H:%M:%S.0000000Z"),
        "creatorId": sub.creator_id or sub.application_id,
        "latestSupportedTlsVersion": "v1_2",
        "includeResourceData": False,
        "encryptionCertificate": None,
        "encryptionCertificateId": None,
        "notificationUrlAppId": None,
    }


def _mailbox(ctx: HandlerContext, req: GraphRequest, resource: str) -> str:
    match = _RESOURCE.match(resource or "")
    if not match:
        raise GraphError(
            400,
            "InvalidRequest",
            f"The value '{resource}' of parameter 'Resource' is not supported.",
        )
    principal = req.principal
    if principal.is_app:
        if match.group("me"):
            raise GraphError(
                400, "BadRequest", "/me request is only valid with delegated authentication flow."
            )
        if not principal.has_any(CAL_APP_READ):
            raise mailbox_denied()
        ref = match.group("user")
    else:
        if not principal.has_any(CAL_OWN_READ):
            raise mailbox_denied()
        ref = principal.user_id if match.group("me") else match.group("user")
    state = ctx.state
    with state.lock:
        record = state.user_record(ref or "")
        if record is None:
            raise invalid_user(ref or "")
        user_id = record.props["id"]
        if not principal.is_app and user_id != principal.user_id:
            raise mailbox_denied()
        if not record.has_mailbox or user_id not in state.mailboxes:
            raise mailbox_not_enabled()
    return user_id


def _own(req: GraphRequest, sub: SandboxSubscription | None) -> SandboxSubscription:
    principal = req.principal
    if sub is None or sub.application_id != principal.client_id:
        raise _not_found()
    if not principal.is_app and sub.creator_id != principal.user_id:
        raise _not_found()
    return sub


def create_subscription(ctx: HandlerContext, req: GraphRequest) -> GraphResponse:
    """POST /subscriptions — runs without the tenant lock (the handshake is HTTP)."""
    hub = _hub(ctx)
    body = json_body(req)
    now = ctx.state.now()
    change_types = {p.strip() for p in str(body.get("changeType") or "").split(",") if p.strip()}
    if not change_types or not change_types <= CHANGE_TYPES:
        raise GraphError(
            400, "InvalidRequest", "changeType must be created, updated and/or deleted."
        )
    url = body.get("notificationUrl")
    lifecycle = body.get("lifecycleNotificationUrl")
    for name, value in (("notificationUrl", url), ("lifecycleNotificationUrl", lifecycle)):
        if value is None and name == "lifecycleNotificationUrl":
            continue
        if not isinstance(value, str) or not url_allowed(value):
            raise GraphError(400, "InvalidRequest", f"The {name} must be an https URL: '{value}'.")
    state_value = body.get("clientState")
    if state_value is not None and (not isinstance(state_value, str) or len(state_value) > 128):
        raise GraphError(
            400, "InvalidRequest", "clientState must be a string of at most 128 characters."
        )
    expires = _parse_expiry(body.get("expirationDateTime"), now, "Create")
    mailbox_id = _mailbox(ctx, req, str(body.get("resource") or ""))
    for target in dict.fromkeys(u for u in (url, lifecycle) if u):
        if hub.validate(target) is not None:
            raise GraphError(400, "ValidationError", VALIDATION_FAILED)
    principal = req.principal
    sub = SandboxSubscription(
        id=str(uuid.uuid4()),
        resource=str(body["resource"]),
        mailbox_id=mailbox_id,
        change_types=frozenset(change_types),
        notification_url=url,
        lifecycle_url=lifecycle,
        client_state=state_value,
        expires=expires,
        application_id=principal.client_id,
        creator_id=None if principal.is_app else principal.user_id,
        created=now,
    )
    hub.add(sub)
    return ok(_render(ctx, sub, with_state=True), 201)


def list_subscriptions(ctx: HandlerContext, req: GraphRequest) -> GraphResponse:
    principal = req.principal
    subs = [
        s
        for s in _hub(ctx).active()
        if s.application_id == principal.client_id
        and (principal.is_app or s.creator_id == principal.user_id)
    ]
    return ok(
        {
            "@odata.context": f"{ctx.graph_url}/$metadata#subscriptions",
            "value": [_render(ctx, s, with_state=False) for s in subs],
        }
    )


def get_subscription(ctx: HandlerContext, req: GraphRequest) -> GraphResponse:
    sub = _own(req, _hub(ctx).get(req.params["sub_id"]))
    return ok(_render(ctx, sub, with_state=False))


def update_subscription(ctx: HandlerContext, req: GraphRequest) -> GraphResponse:
    """PATCH: renew (a new ``expirationDateTime``)."""
    hub = _hub(ctx)
    sub = _own(req, hub.get(req.params["sub_id"]))
    body = json_body(req)
    sub.expires = _parse_expiry(body.get("expirationDateTime"), ctx.state.now(), "Update")
    return ok(_render(ctx, sub, with_state=False))


def reauthorize_subscription(ctx: HandlerContext, req: GraphRequest) -> GraphResponse:
    _own(req, _hub(ctx).get(req.params["sub_id"]))
    return GraphResponse(200, None, {})


def delete_subscription(ctx: HandlerContext, req: GraphRequest) -> GraphResponse:
    hub = _hub(ctx)
    sub = _own(req, hub.get(req.params["sub_id"]))
    hub.remove(sub.id)
    return GraphResponse(204, None, {})
