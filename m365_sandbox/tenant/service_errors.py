"""Error shapes of Microsoft Graph and of the Microsoft identity platform.

Both services have their own, documented error bodies and clients branch on
them (status, ``error.code``, ``error`` / ``AADSTS`` numbers), so the sandbox
raises these exceptions deep inside handlers and the HTTP layer turns them into
exactly the JSON each service sends.

They live in ``tenant/``, the bottom layer, because the tenant's own data
raises them too (an unknown time zone, an invalid recurrence, a stale change
key): ``graph/`` and ``identity/`` only turn them into answers.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class GraphError(Exception):
    """A Graph error: ``{"error": {"code", "message", "innerError": {…}}}``.

    Shape from the Graph docs, "Microsoft Graph error responses and resource
    types" (https://learn.microsoft.com/graph/errors): ``code`` and ``message``,
    and an ``innerError`` with the ``request-id``, ``client-request-id`` and
    ``date`` of the failed request (also sent as the ``request-id`` header).

    ``headers`` lets a handler add e.g. ``Retry-After`` to the answer.
    """

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def body(self, request_id: str, client_request_id: str) -> dict:
        return graph_error_body(self.code, self.message, request_id, client_request_id)


def graph_error_body(code: str, message: str, request_id: str, client_request_id: str) -> dict:
    # Graph always nests the diagnostics in "innerError" with a second-precision
    # UTC date without offset, e.g. "2026-11-21T09:00:00".
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": _utc_now().strftime("%Y-%m-%dT%H:%M:%S"),
                "request-id": request_id,
                "client-request-id": client_request_id,
            },
        }
    }


# Frequently used Graph errors, named after what happened.


def bad_request(message: str, code: str = "BadRequest") -> GraphError:
    return GraphError(400, code, message)


def invalid_auth(message: str) -> GraphError:
    return GraphError(401, "InvalidAuthenticationToken", message)


def directory_denied() -> GraphError:
    # Directory (Azure AD) endpoints use their own code family "Authorization_*".
    return GraphError(
        403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
    )


def mailbox_denied() -> GraphError:
    # Outlook endpoints answer missing permissions with Exchange's code.
    return GraphError(
        403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
    )


def user_not_found(ref: str) -> GraphError:
    return GraphError(
        404,
        "Request_ResourceNotFound",
        f"Resource '{ref}' does not exist or one of its queried reference-property objects "
        "are not present.",
    )


def invalid_user(ref: str) -> GraphError:
    # Outlook endpoints (/users/{x}/events, …) name an unknown user this way.
    return GraphError(404, "ErrorInvalidUser", f"The requested user '{ref}' is invalid.")


def mailbox_not_enabled() -> GraphError:
    return GraphError(
        404,
        "MailboxNotEnabledForRESTAPI",
        "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
    )


def item_not_found() -> GraphError:
    return GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")


def sync_state_not_found(generation: int | None = None) -> GraphError:
    """410 Gone for an expired or invalid delta token.

    Outlook (calendarView/delta, ``generation`` given) answers ``SyncStateNotFound``
    with "The sync state generation is not found; generation=…" — the exact body in
    microsoftgraph/microsoft-graph-docs#2350 and odoo/odoo#142153 (Odoo's own
    ``microsoft_calendar`` matches that code). The directory (users/delta) spells it
    ``syncStateNotFound``. Clients must compare codes case-insensitively.
    """
    if generation is not None:
        return GraphError(
            410,
            "SyncStateNotFound",
            f"The sync state generation is not found; generation={generation};"
            f"[highest={generation + 1}][{generation + 1}].",
        )
    return GraphError(
        410,
        "syncStateNotFound",
        "The sync state generation is not found; the delta token is expired or invalid.",
    )


class IdentityError(Exception):
    """An OAuth error of the identity platform (AADSTS numbered).

    The body is ``{"error", "error_description": "AADSTSnnn: …\\r\\nTrace ID: …",
    "error_codes": [nnn], "timestamp", "trace_id", "correlation_id", "error_uri"}``.
    """

    def __init__(self, status: int, error: str, aadsts: int, description: str):
        super().__init__(f"{error} AADSTS{aadsts}: {description}")
        self.status = status
        self.error = error
        self.aadsts = aadsts
        self.description = description

    def body(self, base_url: str, correlation_id: str | None = None) -> dict:
        trace_id = str(uuid.uuid4())
        correlation_id = correlation_id or str(uuid.uuid4())
        stamp = _utc_now().strftime("%Y-%m-%d %H:%M:%SZ")
        return {
            "error": self.error,
            "error_description": (
                f"AADSTS{self.aadsts}: {self.description}\r\nTrace ID: {trace_id}\r\n"
                f"Correlation ID: {correlation_id}\r\nTimestamp: {stamp}"
            ),
            "error_codes": [self.aadsts],
            "timestamp": stamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": f"{base_url}/error?code={self.aadsts}",
        }
