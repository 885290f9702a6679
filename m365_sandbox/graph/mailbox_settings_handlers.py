"""``/users/{id}/mailboxSettings`` and ``/me/mailboxSettings``: GET and PATCH.

Shapes and rules, with their sources:

* the resource is Graph's ``mailboxSettings`` (Graph docs, "mailboxSettings
  resource type"): ``archiveFolder``, ``automaticRepliesSetting`` (``status``
  ``disabled`` | ``alwaysEnabled`` | ``scheduled``, ``externalAudience`` ``none`` |
  ``contactsOnly`` | ``all``, ``scheduledStartDateTime`` and
  ``scheduledEndDateTime`` as ``dateTimeTimeZone``, ``internalReplyMessage``,
  ``externalReplyMessage``), ``dateFormat``, ``timeFormat``, ``timeZone``,
  ``language`` (``locale``, ``displayName``), ``workingHours``,
  ``delegateMeetingMessageDeliveryOptions``, ``userPurpose``;
* GET answers the whole resource with ``@odata.context``
  ``…/$metadata#users('{id}')/mailboxSettings``; PATCH answers 200 with the
  updated properties only (Graph docs, "Update user mailbox settings":
  "returns only the updated properties");
* permissions ``MailboxSettings.Read`` / ``MailboxSettings.ReadWrite``
  (application, or delegated for one's own mailbox), else 403
  ``ErrorAccessDenied`` (Graph docs, "Get user mailbox settings", permissions);
* a PATCH body with a property the resource does not have is refused with 400
  ``ErrorInvalidRequest`` "The OData request is not supported." — what tenants
  report for malformed automatic-reply updates
  (microsoftgraph/microsoft-graph-docs#5007, #3289;
  microsoftgraph/microsoft-graph-docs-contrib#6938);
* ``scheduled`` needs both scheduled dates (Graph docs, automaticRepliesSetting:
  the dates "if Status is set to Scheduled").
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from ..tenant.service_errors import GraphError, invalid_user, mailbox_not_enabled
from .wire_types import GraphRequest, GraphResponse, json_body, ok

if TYPE_CHECKING:
    from ..tenant.handler_context import HandlerContext

READ = frozenset({"MailboxSettings.Read", "MailboxSettings.ReadWrite"})
WRITE = frozenset({"MailboxSettings.ReadWrite"})
PROPERTIES = {
    "archiveFolder",
    "automaticRepliesSetting",
    "dateFormat",
    "timeFormat",
    "timeZone",
    "language",
    "workingHours",
    "delegateMeetingMessageDeliveryOptions",
    "userPurpose",
}
REPLY_PROPERTIES = {
    "status",
    "externalAudience",
    "scheduledStartDateTime",
    "scheduledEndDateTime",
    "internalReplyMessage",
    "externalReplyMessage",
}
_NO_DATE = {"dateTime": "0001-01-01T00:00:00.0000000", "timeZone": "UTC"}


def default_settings(record) -> dict:
    purpose = "room" if record.room is not None else "user"
    return {
        "archiveFolder": "AAMkAGI2TGuLAAA=",
        "timeZone": "UTC",
        "automaticRepliesSetting": {
            "status": "disabled",
            "externalAudience": "all",
            "scheduledStartDateTime": dict(_NO_DATE),
            "scheduledEndDateTime": dict(_NO_DATE),
            "internalReplyMessage": "",
            "externalReplyMessage": "",
        },
        "language": {"locale": "en-US", "displayName": "English (United States)"},
        "dateFormat": "M/d/yyyy",
        "timeFormat": "h:mm tt",
        "delegateMeetingMessageDeliveryOptions": "sendToDelegateOnly",
        "userPurpose": purpose,
        "workingHours": {
            "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
            "startTime": "08:00:00.0000000",
            "endTime": "17:00:00.0000000",
            "timeZone": {"name": "UTC"},
        },
    }


def _denied() -> GraphError:
    return GraphError(
        403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
    )


def _unsupported() -> GraphError:
    return GraphError(400, "ErrorInvalidRequest", "The OData request is not supported.")


def _target(ctx: HandlerContext, req: GraphRequest, write: bool):
    principal = req.principal
    state = ctx.state
    if req.params.get("me"):
        if principal.is_app:
            raise GraphError(
                400, "BadRequest", "/me request is only valid with delegated authentication flow."
            )
        ref = principal.user_id or ""
    else:
        ref = req.params["user"]
    needed = WRITE if write else READ
    with state.lock:
        record = state.user_record(ref)
        if record is None:
            raise invalid_user(ref)
        user_id = record.props["id"]
        own = not principal.is_app and principal.user_id == user_id
        if not principal.has_any(needed) or not (principal.is_app or own):
            raise _denied()
        if not record.has_mailbox or user_id not in state.mailboxes:
            raise mailbox_not_enabled()
        settings = state.mailbox_settings.setdefault(user_id, default_settings(record))
    return user_id, settings


def _context(ctx, user_id: str) -> str:
    return f"{ctx.graph_url}/$metadata#users('{user_id}')/mailboxSettings"


def get_settings(ctx: HandlerContext, req: GraphRequest) -> GraphResponse:
    user_id, settings = _target(ctx, req, write=False)
    with ctx.state.lock:
        body = copy.deepcopy(settings)
    return ok({"@odata.context": _context(ctx, user_id), **body})


def patch_settings(ctx: HandlerContext, req: GraphRequest) -> GraphResponse:
    user_id, settings = _target(ctx, req, write=True)
    payload = json_body(req)
    if not isinstance(payload, dict):
        raise _unsupported()
    changes = {k: v for k, v in payload.items() if not k.startswith("@odata.")}
    if set(changes) - PROPERTIES:
        raise _unsupported()
    replies = changes.get("automaticRepliesSetting")
    if replies is not None:
        if not isinstance(replies, dict) or set(replies) - REPLY_PROPERTIES:
            raise _unsupported()
        merged = {**settings["automaticRepliesSetting"], **copy.deepcopy(replies)}
        if merged.get("status") not in ("disabled", "alwaysEnabled", "scheduled"):
            raise _unsupported()
        if merged["status"] == "scheduled":
            for name in ("scheduledStartDateTime", "scheduledEndDateTime"):
                value = merged.get(name) or {}
                if not isinstance(value, dict) or not value.get("dateTime") or value == _NO_DATE:
                    raise GraphError(
                        400,
                        "ErrorInvalidRequest",
                        f"The scheduled automatic replies need {name}.",
                    )
        changes["automaticRepliesSetting"] = merged
    with ctx.state.lock:
        settings.update(copy.deepcopy(changes))
        body = {name: copy.deepcopy(settings[name]) for name in changes}
    return ok({"@odata.context": _context(ctx, user_id), **body})
