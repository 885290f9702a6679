"""The error taxonomy of the Graph client, with messages an administrator understands.

Why this file exists: the Odoo addon must decide what to do after a failure
(retry later, mark an account "reconnect needed", tell the admin which permission
to grant, start a new delta round…) without parsing HTTP bodies or AADSTS codes
itself. Every failure leaving ``m365_graph`` is one of the classes below, and its
``str()`` is a sentence that can be shown in Settings or in a sync-run row as is.

Two sources of errors are mapped here:

* Microsoft Graph responses: ``{"error": {"code", "message", "innerError":
  {"request-id"}}}`` plus the ``request-id`` response header.
* The Microsoft identity platform (through msal): ``{"error", "error_description",
  "error_codes"}`` where the description starts with an ``AADSTSnnnnn`` code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from .text import clean_text

__all__ = [
    "AuthError",
    "BadResponse",
    "ConsentRequired",
    "GraphError",
    "GraphUnavailable",
    "NotFound",
    "PermissionMissing",
    "PreconditionFailed",
    "ReconnectNeeded",
    "SyncStateExpired",
    "Throttled",
    "Transient",
    "aadsts_code",
    "error_from_identity",
    "error_from_response",
    "transient_from_exception",
]


class GraphError(Exception):
    """Base of every error raised by ``m365_graph``.

    ``status`` is the HTTP status (``None`` when no response was received),
    ``code`` Graph's or the identity platform's error code, ``request_id`` the
    id Microsoft support asks for.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        detail: str | None = None,
        inner_code: str | None = None,
        date: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id
        self.detail = detail
        #: The most specific code of Graph's ``innerError`` chain, when it differs.
        self.inner_code = inner_code
        #: Graph's ``innerError.date`` (when Microsoft saw the request), for support.
        self.date = date

    def __str__(self) -> str:
        parts = []
        if self.status:
            parts.append(f"HTTP {self.status}")
        if self.code:
            parts.append(self.code)
        if self.inner_code and self.inner_code != self.code:
            parts.append(self.inner_code)
        if self.request_id:
            parts.append(f"request-id {self.request_id}")
        if self.date:
            parts.append(f"date {self.date}")
        return f"{self.message} ({', '.join(parts)})" if parts else self.message


class AuthError(GraphError):
    """Sign-in or configuration problem: an administrator or the user must act.

    ``aadsts`` is the identity platform's code (e.g. ``"AADSTS7000215"``) when known.
    """

    def __init__(self, message: str, *, aadsts: str | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.aadsts = aadsts


class ConsentRequired(AuthError):
    """The application (or the user) has not consented to the permissions it asks for."""


class ReconnectNeeded(AuthError):
    """A delegated sign-in can no longer be refreshed: the user must connect again.

    Raised for ``invalid_grant`` on refresh (revoked, expired, password changed,
    MFA now required) and when the stored token cache holds no usable sign-in.
    """


class PermissionMissing(GraphError):
    """Graph answered 401/403: the token lacks a permission. ``permission`` names it."""

    def __init__(self, message: str, *, permission: str | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.permission = permission


class Throttled(GraphError):
    """Graph kept answering 429 (too many requests) after our bounded retries.

    ``retry_after`` is the last wait Graph asked for, in seconds, when it gave one.
    """

    def __init__(
        self, message: str, *, retry_after: float | None = None, attempts: int = 0, **kwargs: Any
    ):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
        self.attempts = attempts


class NotFound(GraphError):
    """The user, mailbox or event does not exist (or the user has no mailbox)."""


class SyncStateExpired(GraphError):
    """A delta link is no longer valid (410, ``syncStateNotFound``, ``fullSyncRequired``).

    The caller starts a new round without a link and must expect items it has
    already seen to come back (replays).
    """


class Transient(GraphError):
    """5xx, dropped connection or time-out that persisted through our retries.

    ``host`` and ``timeout`` (seconds) say where and how long we waited.
    """

    def __init__(
        self,
        message: str,
        *,
        host: str | None = None,
        timeout: float | None = None,
        retry_after: float | None = None,
        attempts: int = 0,
        **kwargs: Any,
    ):
        super().__init__(message, **kwargs)
        self.host = host
        self.timeout = timeout
        self.retry_after = retry_after
        self.attempts = attempts


class GraphUnavailable(Transient):
    """A job's circuit breaker opened: Graph kept failing, or the job's wait budget is spent.

    Raised instead of waiting on: after ``failures`` failed requests in a row, or when
    the next wait would take the job's total waiting past ``budget`` seconds. Once
    raised, every further request of the same client fails at once with it, so a
    job stops, records "failed — Graph unavailable" and the next run resumes.
    """

    def __init__(
        self,
        message: str,
        *,
        failures: int = 0,
        waited: float = 0.0,
        budget: float | None = None,
        **kwargs: Any,
    ):
        super().__init__(message, **kwargs)
        self.failures = failures
        self.waited = waited
        self.budget = budget


class BadResponse(GraphError):
    """Graph answered something we cannot use: not JSON, a missing field, a wrong type.

    ``field`` names the offending field when there is one. ``link_refused``: the
    problem is a paging link (another host, or one Graph already gave in this
    round): it must never be stored as a place to resume from.
    """

    def __init__(
        self, message: str, *, field: str | None = None, link_refused: bool = False, **kwargs: Any
    ):
        super().__init__(message, **kwargs)
        self.field = field
        self.link_refused = link_refused


class PreconditionFailed(GraphError):
    """412 (or Outlook's 409 ``ErrorIrresolvableConflict``): the item changed meanwhile.

    The caller re-reads the item and decides again.
    """


# --------------------------------------------------------------------------- Graph


# Codes Graph uses, with 400 or 410, when a delta token can no longer be used.
_SYNC_STATE_CODES = frozenset(
    {"syncstatenotfound", "fullsyncrequired", "syncstateinvalid", "resyncrequired"}
)


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    try:
        for key, value in headers.items():
            if str(key).lower() == name:
                return _short(value)
    except (AttributeError, TypeError):
        return None
    return None


def _short(value: Any, limit: int = 100) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = clean_text(str(value)).strip()
    return text[:limit] or None


def _inner(error: Mapping[str, Any]) -> Mapping[str, Any]:
    for key in ("innerError", "innererror", "InnerError"):
        inner = error.get(key)
        if isinstance(inner, Mapping):
            return inner
    return {}


def inner_error_facts(
    headers: Mapping[str, str] | None, error: Mapping[str, Any]
) -> dict[str, str | None]:
    """``request_id``, ``date`` and the deepest ``inner_code`` of a Graph error body.

    Graph documents ``innerError`` with ``request-id``, ``client-request-id`` and
    ``date``; nested ``innerError`` objects may carry more specific codes (the
    deepest wins). The response header ``request-id`` wins over the body's.
    """
    inner = _inner(error)
    rid = _header(headers, "request-id") or _header(headers, "client-request-id")
    if not rid:
        rid = _short(inner.get("request-id") or inner.get("requestId"))
    date = _short(inner.get("date")) or _header(headers, "date")
    inner_code = None
    node, depth = inner, 0
    while isinstance(node, Mapping) and node and depth < 10:
        code = _short(node.get("code"))
        if code:
            inner_code = code
        node, depth = _inner(node), depth + 1
    return {"request_id": rid, "date": _short(date), "inner_code": inner_code}


def parse_error_body(body: Any) -> tuple[str | None, str | None, Mapping[str, Any]]:
    """Return ``(code, message, error_object)`` from a Graph error body of any shape."""
    if isinstance(body, (bytes, bytearray, str)):
        try:
            body = json.loads(body or b"null")
        except (ValueError, RecursionError):
            text = body.decode("utf-8", "replace") if isinstance(body, (bytes, bytearray)) else body
            text = clean_text(text)
            if text.lstrip()[:1] == "<":  # an HTML page (a proxy's, a load balancer's)
                words = " ".join(re.sub(r"<[^>]{0,2000}>", " ", text[:20000]).split())[:200]
                return None, f"an HTML page instead of a Graph error: {words}".strip(), {}
            return None, text.strip()[:300] or None, {}
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping):
            code = error.get("code")
            message = error.get("message")
            return (
                clean_text(str(code))[:100] if code is not None else None,
                clean_text(str(message))[:1000] if message is not None else None,
                error,
            )
        if isinstance(error, str):  # identity-platform style {"error": "...", ...}
            description = clean_text(str(body.get("error_description") or ""))
            return clean_text(error)[:100], description[:1000] or None, body
    return None, None, {}


def error_from_response(
    status: int,
    body: Any,
    headers: Mapping[str, str] | None = None,
    *,
    what: str = "Microsoft Graph request",
    permission: str | None = None,
    retry_after: float | None = None,
    attempts: int = 0,
    host: str | None = None,
) -> GraphError:
    """Map a failed Graph response to the taxonomy.

    ``what`` describes the request in plain words ("reading the calendar of
    anna@contoso.com"); ``permission`` is the Graph permission the request needs,
    named in :class:`PermissionMissing`.
    """
    code, message, error = parse_error_body(body)
    facts = inner_error_facts(headers, error)
    graph_says = f" Graph says: {message}" if message else ""
    common = {"status": status, "code": code, "detail": message, **facts}
    lcode = (code or "").lower()
    if status == 410 or lcode in _SYNC_STATE_CODES:
        return SyncStateExpired(
            f"{what}: the saved sync state has expired; a full resynchronisation is needed.",
            **common,
        )
    if status == 401:
        return PermissionMissing(
            f"{what}: Microsoft Graph rejected the access token"
            + (f"; the app needs the {permission} permission" if permission else "")
            + f".{graph_says}",
            permission=permission,
            **common,
        )
    if status == 403:
        need = (
            f"the {permission} permission is missing (or not consented by an administrator)"
            if permission
            else "a permission is missing"
        )
        return PermissionMissing(
            f"{what}: access denied, {need}.{graph_says}", permission=permission, **common
        )
    if status == 404:
        return NotFound(f"{what}: not found.{graph_says}", **common)
    if status == 412 or (status == 409 and lcode == "errorirresolvableconflict"):
        return PreconditionFailed(
            f"{what}: the item was changed in Microsoft 365 since it was last read.{graph_says}",
            **common,
        )
    if status == 429:
        wait = f" Graph asked to wait {retry_after:g} s." if retry_after is not None else ""
        tries = f" after {attempts} attempts" if attempts else ""
        return Throttled(
            f"{what}: Microsoft Graph is throttling this application{tries}.{wait}",
            retry_after=retry_after,
            attempts=attempts,
            **common,
        )
    if status >= 500:
        tries = f" after {attempts} attempts" if attempts else ""
        return Transient(
            f"{what}: Microsoft Graph had a temporary failure{tries}; try again later.{graph_says}",
            host=host,
            retry_after=retry_after,
            attempts=attempts,
            **common,
        )
    return GraphError(f"{what}: Microsoft Graph refused the request.{graph_says}", **common)


def transient_from_exception(
    exc: BaseException,
    *,
    host: str,
    timeout: float | tuple[float, float] | None,
    what: str = "Microsoft Graph request",
    attempts: int = 0,
    maybe_applied: bool = False,
) -> Transient:
    """Plain words for a time-out or a connection that could not be made or was dropped.

    Every message names the one time-out the caller configured (Settings → HTTP
    time-out in the addon) the same way: "within N s (the HTTP time-out)".
    """
    import requests  # local: keeps this module importable without requests for docs

    connect_t, read_t = (timeout if isinstance(timeout, tuple) else (timeout, timeout)) or (
        None,
        None,
    )
    tries = f" (after {attempts} attempts)" if attempts else ""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        msg = f"{what}: could not reach {host} within {connect_t:g} s (the HTTP time-out){tries}."
        limit = connect_t
    elif isinstance(exc, requests.exceptions.ReadTimeout):
        msg = f"{what}: {host} did not answer within {read_t:g} s (the HTTP time-out){tries}."
        limit = read_t
    elif isinstance(exc, requests.exceptions.SSLError):
        msg = (
            f"{what}: the TLS certificate of {host} could not be verified{tries}; "
            "check the CA bundle setting."
        )
        limit = connect_t
    else:
        limit = connect_t
        wait = f" (HTTP time-out {connect_t:g} s)" if connect_t else ""
        msg = f"{what}: the connection to {host} failed or was dropped{wait}{tries}."
    if maybe_applied:
        msg += " The request may have been applied before the connection dropped."
    return Transient(msg, host=host, timeout=limit, attempts=attempts, detail=str(exc)[:300])


# --------------------------------------------------------------- identity platform

_AADSTS_RE = re.compile(r"AADSTS(\d{5,7})")

_SECRET_CODES = {"7000215", "7000222", "7000218"}
_UNKNOWN_TENANT_CODES = {"90002", "900023", "90013"}
_UNKNOWN_APP_CODES = {"700016"}
_CONSENT_CODES = {"65001", "65004", "90094", "90008"}
_REVOKED_CODES = {"50173", "700082", "70008", "50133", "700084", "50078", "50076", "50079"}


def aadsts_code(*texts: Any) -> str | None:
    """The first ``AADSTSnnnnn`` number found in ``texts`` (strings or lists of ints)."""
    for text in texts:
        if isinstance(text, (list, tuple)):
            for item in text:
                if isinstance(item, int) or (isinstance(item, str) and item.isdigit()):
                    return str(item)
            continue
        if text:
            found = _AADSTS_RE.search(str(text))
            if found:
                return found.group(1)
    return None


def error_from_identity(
    result: Mapping[str, Any] | str,
    *,
    tenant: str | None = None,
    client_id: str | None = None,
    refreshing: bool = False,
) -> AuthError:
    """Map an identity-platform error (msal result dict or exception text) to plain words.

    ``refreshing`` says the error came while redeeming a stored refresh token, where
    ``invalid_grant`` always means the user must connect again.
    """
    if isinstance(result, Mapping):
        error = str(result.get("error") or "")
        description = str(result.get("error_description") or "")
        number = aadsts_code(result.get("error_codes"), description)
    else:
        description = str(result)
        found = re.search(r'"error"\s*:\s*"([a-z_]+)"', description)
        error = found.group(1) if found else ""
        number = aadsts_code(description)
    aad = f"AADSTS{number}" if number else None
    first_line = description.strip().splitlines()[0][:300] if description.strip() else ""
    common = {"aadsts": aad, "code": aad or error or None, "detail": first_line or None}
    tenant_txt = f"'{tenant}'" if tenant else "the configured tenant"
    app_txt = f"'{client_id}'" if client_id else "the configured client id"

    secret_expired = AuthError(
        "The client secret has expired. Create a new secret in the app registration "
        "(Certificates & secrets) and enter its value in the Microsoft 365 settings.",
        **common,
    )
    secret_wrong = AuthError(
        "The client secret is wrong. Copy the secret's Value (not its Secret ID) from "
        "the app registration (Certificates & secrets) into the Microsoft 365 settings.",
        **common,
    )
    unknown_tenant = AuthError(
        f"The tenant {tenant_txt} was not found. Enter the Directory (tenant) ID or the "
        "tenant's domain (e.g. contoso.onmicrosoft.com).",
        **common,
    )
    unknown_app = AuthError(
        f"The application {app_txt} was not found in tenant {tenant_txt}. Check the "
        "Application (client) ID of the app registration, and that it is registered "
        "in (or consented to by) this tenant.",
        **common,
    )
    consent = ConsentRequired(
        "The application has not been granted the permissions it needs. An administrator "
        "must grant admin consent (Settings → Microsoft 365 → Grant admin consent).",
        **common,
    )
    reconnect = ReconnectNeeded(
        "The Microsoft 365 sign-in of this account has expired or was revoked "
        "(password change, sign-out, or an administrator's decision). The user must "
        "connect the account again.",
        **common,
    )
    # The AADSTS number is the most precise signal; the OAuth error string second.
    if number == "7000222":
        return secret_expired
    if number in _SECRET_CODES:
        return secret_wrong
    if number in _UNKNOWN_TENANT_CODES:
        return unknown_tenant
    if number in _UNKNOWN_APP_CODES:
        return unknown_app
    if number in _CONSENT_CODES:
        return consent
    if number in _REVOKED_CODES:
        return reconnect
    if error == "invalid_client":
        return secret_wrong
    if error == "unauthorized_client":
        return unknown_app
    if error == "consent_required":
        return consent
    if error == "interaction_required" or (error == "invalid_grant" and refreshing):
        return reconnect
    if error == "invalid_grant":
        return AuthError(
            "The sign-in code was rejected (expired or already used); start the connection again.",
            **common,
        )
    if error == "access_denied":
        return AuthError("The sign-in was cancelled or access was denied.", **common)
    if error == "invalid_scope":
        return AuthError(
            "The identity platform rejected the requested permissions (invalid scope); "
            "check the Graph URL for this cloud.",
            **common,
        )
    text = f": {first_line}" if first_line else ""
    return AuthError(f"Sign-in to Microsoft 365 failed ({error or 'error'}){text}", **common)
