"""The error taxonomy: Graph statuses and identity-platform codes in plain words."""

from __future__ import annotations

import pytest
import requests

from m365_graph.core.errors import (
    AuthError,
    ConsentRequired,
    GraphError,
    NotFound,
    PermissionMissing,
    PreconditionFailed,
    ReconnectNeeded,
    SyncStateExpired,
    Throttled,
    Transient,
    aadsts_code,
    error_from_identity,
    error_from_response,
    transient_from_exception,
)


def body(code, message="m"):
    return {"error": {"code": code, "message": message, "innerError": {"request-id": "rid-1"}}}


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (401, "InvalidAuthenticationToken", PermissionMissing),
        (403, "ErrorAccessDenied", PermissionMissing),
        (403, "Authorization_RequestDenied", PermissionMissing),
        (404, "ErrorItemNotFound", NotFound),
        (404, "MailboxNotEnabledForRESTAPI", NotFound),
        (410, "syncStateNotFound", SyncStateExpired),
        (400, "SyncStateNotFound", SyncStateExpired),
        (400, "fullSyncRequired", SyncStateExpired),
        (412, "ErrorIrresolvableConflict", PreconditionFailed),
        (409, "ErrorIrresolvableConflict", PreconditionFailed),
        (429, "TooManyRequests", Throttled),
        (503, "serviceNotAvailable", Transient),
        (500, "generalException", Transient),
        (400, "BadRequest", GraphError),
    ],
)
def test_graph_status_mapping(status, code, cls):
    err = error_from_response(status, body(code), {"request-id": "hdr-rid"})
    assert type(err) is cls
    assert err.status == status
    assert err.code == code
    assert err.request_id == "hdr-rid"
    assert code in str(err)


def test_request_id_falls_back_to_inner_error():
    err = error_from_response(404, body("ErrorItemNotFound"), {})
    assert err.request_id == "rid-1"


def test_permission_missing_names_the_permission():
    err = error_from_response(
        403, body("ErrorAccessDenied"), what="Reading busy time", permission="Calendars.Read"
    )
    assert isinstance(err, PermissionMissing)
    assert err.permission == "Calendars.Read"
    assert "Calendars.Read" in str(err)
    assert str(err).startswith("Reading busy time")


def test_throttled_carries_retry_after_and_attempts():
    err = error_from_response(429, body("TooManyRequests"), retry_after=30, attempts=6)
    assert isinstance(err, Throttled)
    assert err.retry_after == 30
    assert "after 6 attempts" in str(err)
    assert "30 s" in str(err)


def test_error_body_not_json_still_gives_a_message():
    err = error_from_response(502, b"<html>Bad gateway</html>")
    assert isinstance(err, Transient)
    assert "Bad gateway" in (err.detail or "")


@pytest.mark.parametrize(
    ("number", "cls", "words"),
    [
        (7000215, AuthError, "client secret is wrong"),
        (7000222, AuthError, "client secret has expired"),
        (90002, AuthError, "was not found"),
        (700016, AuthError, "application"),
        (65001, ConsentRequired, "admin consent"),
        (50173, ReconnectNeeded, "connect the account again"),
        (700082, ReconnectNeeded, "connect the account again"),
        (70008, ReconnectNeeded, "connect the account again"),
    ],
)
def test_aadsts_codes_in_plain_words(number, cls, words):
    result = {
        "error": "invalid_grant" if cls is ReconnectNeeded else "invalid_client",
        "error_description": f"AADSTS{number}: something technical.\r\nTrace ID: x",
        "error_codes": [number],
    }
    err = error_from_identity(result, tenant="contoso.onmicrosoft.com", client_id="abc")
    assert type(err) is cls
    assert err.aadsts == f"AADSTS{number}"
    assert words in str(err)
    assert "Trace ID" not in err.message


def test_unknown_tenant_named_in_message():
    err = error_from_identity(
        "OIDC Discovery failed ... AADSTS90002: Tenant 'nope' not found.", tenant="nope"
    )
    assert "'nope'" in str(err)
    assert err.aadsts == "AADSTS90002"


def test_invalid_grant_while_refreshing_is_reconnect():
    err = error_from_identity({"error": "invalid_grant"}, refreshing=True)
    assert isinstance(err, ReconnectNeeded)


def test_unknown_identity_error_keeps_first_line():
    err = error_from_identity({"error": "weird", "error_description": "First.\r\nSecond"})
    assert type(err) is AuthError
    assert "First." in str(err)
    assert "Second" not in str(err)


def test_aadsts_code_extraction():
    assert aadsts_code(None, "x AADSTS700016: y") == "700016"
    assert aadsts_code([50173]) == "50173"
    assert aadsts_code("nothing") is None


def test_connect_timeout_names_host_and_timeout():
    err = transient_from_exception(
        requests.exceptions.ConnectTimeout("x"), host="graph.example", timeout=(4.0, 30.0)
    )
    assert isinstance(err, Transient)
    assert "graph.example" in str(err)
    assert "4 s" in str(err)
    assert err.timeout == 4.0


def test_read_timeout_names_read_timeout():
    err = transient_from_exception(
        requests.exceptions.ReadTimeout("x"), host="h", timeout=(4.0, 30.0), attempts=3
    )
    assert "did not answer within 30 s" in str(err)
    assert "after 3 attempts" in str(err)


def test_dropped_post_says_it_may_have_been_applied():
    err = transient_from_exception(
        requests.exceptions.ConnectionError("reset"), host="h", timeout=5, maybe_applied=True
    )
    assert "may have been applied" in str(err)


def test_every_time_out_message_names_the_http_time_out_alike():
    """One configured time-out, named the same way whatever timed out."""
    for exc, words in (
        (
            requests.exceptions.ConnectTimeout("x"),
            "could not reach h within 10 s (the HTTP time-out)",
        ),
        (requests.exceptions.ReadTimeout("x"), "h did not answer within 10 s (the HTTP time-out)"),
        (requests.exceptions.ConnectionError("reset"), "(HTTP time-out 10 s)"),
    ):
        assert words in str(transient_from_exception(exc, host="h", timeout=10.0))
