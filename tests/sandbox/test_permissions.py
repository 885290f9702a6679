"""Authorisation from the bearer token: 401s, 403s, basic-only reads, delegated scope."""

from datetime import datetime, timezone

import pytest

from .helpers import Graph, app_token

UTC = timezone.utc
ADELE = "adele.vance@contoso.onmicrosoft.com"
MEGAN = "megan.bowen@contoso.onmicrosoft.com"
WINDOW = {"startDateTime": "2026-11-01T00:00:00Z", "endDateTime": "2026-12-01T00:00:00Z"}
EVENT = {
    "subject": "x",
    "start": {"dateTime": "2026-11-21T09:00:00", "timeZone": "UTC"},
    "end": {"dateTime": "2026-11-21T10:00:00", "timeZone": "UTC"},
}


def _seed_event(sandbox, user=ADELE):
    return sandbox.state.add_event(
        user,
        "Secret merger talk",
        datetime(2026, 11, 21, 9, tzinfo=UTC),
        datetime(2026, 11, 21, 10, tzinfo=UTC),
        body={"contentType": "text", "content": "confidential"},
        location={"displayName": "Board room"},
        attendees=[{"emailAddress": {"address": MEGAN}}],
        categories=["Focus time"],
        showAs="busy",
    )


@pytest.mark.parametrize(
    ("header", "message"),
    [(None, "empty"), ("Bearer not.a.jwt", "JWT"), ("Basic abc", "empty")],
)
def test_missing_or_malformed_token_is_401(sandbox, header, message):
    graph = Graph(sandbox, token="")
    headers = {"Authorization": header} if header else {}
    response = graph.get("/users", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert message in response.json()["error"]["message"]


def test_tampered_and_expired_tokens_are_401(sandbox):
    token = app_token(sandbox)
    header, payload, signature = token.split(".")
    tampered = ".".join(
        [header, payload[:-4] + ("AAAA" if payload[-4:] != "AAAA" else "BBBB"), signature]
    )
    response = Graph(sandbox, tampered).get("/users")
    assert (
        response.status_code == 401
        and response.json()["error"]["code"] == "InvalidAuthenticationToken"
    )
    sandbox.state.advance_clock(3601)
    expired = Graph(sandbox, token).get("/users")
    assert expired.status_code == 401 and "expired" in expired.json()["error"]["message"]
    assert "WWW-Authenticate" in expired.headers


def test_users_needs_directory_permission(sandbox):
    graph = Graph(sandbox, app_token(sandbox, roles=["Calendars.ReadWrite"]))
    response = graph.get("/users")
    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "Authorization_RequestDenied",
        "message": "Insufficient privileges to complete the operation.",
        "innerError": response.json()["error"]["innerError"],
    }
    assert graph.get("/users/delta").status_code == 403
    for role in ("User.Read.All", "Directory.Read.All", "User.ReadBasic.All"):
        assert Graph(sandbox, app_token(sandbox, roles=[role])).get("/users").status_code == 200, (
            role
        )


def test_calendar_permissions_for_apps(sandbox):
    _seed_event(sandbox)
    url = f"/users/{ADELE}/calendarView"
    none = Graph(sandbox, app_token(sandbox, roles=["User.Read.All"]))
    denied = none.get(url, params=WINDOW)
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "ErrorAccessDenied"
    # Permission is checked before the mailbox is looked up.
    assert (
        none.get("/users/ghost@contoso.onmicrosoft.com/calendarView", params=WINDOW).status_code
        == 403
    )

    read = Graph(sandbox, app_token(sandbox, roles=["Calendars.Read"]))
    assert read.get(url, params=WINDOW).json()["value"][0]["subject"] == "Secret merger talk"
    assert read.post(f"/users/{ADELE}/events", json=EVENT).status_code == 403

    write = Graph(sandbox, app_token(sandbox, roles=["Calendars.ReadWrite"]))
    assert write.post(f"/users/{ADELE}/events", json=EVENT).status_code == 201


def test_read_basic_strips_what_the_event_is_about(sandbox):
    event = _seed_event(sandbox)
    basic = Graph(sandbox, app_token(sandbox, roles=["Calendars.ReadBasic.All"]))
    for response in (
        basic.get(f"/users/{ADELE}/calendarView", params=WINDOW),
        basic.get(f"/users/{ADELE}/calendarView/delta", params=WINDOW),
    ):
        (item,) = response.json()["value"]
        for hidden in ("subject", "body", "bodyPreview", "location", "locations", "attendees"):
            assert hidden not in item
        assert item["showAs"] == "busy" and item["categories"] == ["Focus time"]
        assert item["start"]["dateTime"].startswith("2026-11-21T09:00")
    selected = basic.get(
        f"/users/{ADELE}/calendarView", params={**WINDOW, "$select": "subject,start"}
    ).json()["value"][0]
    assert "subject" not in selected and "start" in selected
    single = basic.get(f"/users/{ADELE}/events/{event['id']}").json()
    assert "subject" not in single
    assert (
        basic.patch(f"/users/{ADELE}/events/{event['id']}", json={"subject": "y"}).status_code
        == 403
    )


def test_delegated_tokens_reach_only_their_own_mailbox(sandbox):
    _seed_event(sandbox, MEGAN)
    token = sandbox.issue_user_token(ADELE, ["Calendars.ReadWrite", "User.Read"])
    graph = Graph(sandbox, token)
    assert graph.get(f"/users/{ADELE}/calendarView", params=WINDOW).status_code == 200
    assert graph.get("/me/calendarView", params=WINDOW).status_code == 200
    other = graph.get(f"/users/{MEGAN}/calendarView", params=WINDOW)
    assert other.status_code == 403 and other.json()["error"]["code"] == "ErrorAccessDenied"
    # A user reading the directory needs more than User.Read, but may read themself.
    assert graph.get("/users").status_code == 403
    assert graph.get(f"/users/{ADELE}").status_code == 200


def test_shared_calendars_need_a_share_and_a_shared_scope(sandbox):
    _seed_event(sandbox, MEGAN)
    url = f"/users/{MEGAN}/calendarView"
    plain = Graph(sandbox, sandbox.issue_user_token(ADELE, ["Calendars.ReadWrite"]))
    shared_scope = Graph(sandbox, sandbox.issue_user_token(ADELE, ["Calendars.ReadWrite.Shared"]))
    read_shared = Graph(sandbox, sandbox.issue_user_token(ADELE, ["Calendars.Read.Shared"]))
    assert shared_scope.get(url, params=WINDOW).status_code == 403  # not shared yet
    sandbox.state.share_calendar(MEGAN, ADELE, write=False)
    assert plain.get(url, params=WINDOW).status_code == 403  # scope missing
    assert read_shared.get(url, params=WINDOW).status_code == 200
    assert (
        shared_scope.post(f"/users/{MEGAN}/events", json=EVENT).status_code == 403
    )  # read-only share
    sandbox.state.share_calendar(MEGAN, ADELE, write=True)
    assert shared_scope.post(f"/users/{MEGAN}/events", json=EVENT).status_code == 201
    assert read_shared.post(f"/users/{MEGAN}/events", json=EVENT).status_code == 403


def test_role_changes_apply_to_new_tokens_only(sandbox):
    old = app_token(sandbox)
    sandbox.state.set_app_roles([])
    assert Graph(sandbox, old).get("/users").status_code == 200
    assert Graph(sandbox, app_token(sandbox)).get("/users").status_code == 403
