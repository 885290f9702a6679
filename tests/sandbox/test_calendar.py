"""calendarView, events CRUD, transactionId, If-Match, time zones, instances."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from .helpers import Graph

UTC = timezone.utc
ADELE = "adele.vance@contoso.onmicrosoft.com"
WINDOW = {"startDateTime": "2026-11-01T00:00:00Z", "endDateTime": "2026-12-01T00:00:00Z"}


def _at(day, hour, minute=0):
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def graph(sandbox):
    return Graph(sandbox)


def test_calendar_view_needs_a_window(sandbox, graph):
    response = graph.get(f"/users/{ADELE}/calendarView")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "ErrorInvalidParameter"
    assert "StartDateTime" in response.json()["error"]["message"]


def test_calendar_view_shape_and_default_utc(sandbox, graph):
    sandbox.state.add_event(
        ADELE,
        "Planning",
        datetime(2026, 11, 21, 9, 0, tzinfo=ZoneInfo("Europe/Berlin")),
        datetime(2026, 11, 21, 10, 30, tzinfo=ZoneInfo("Europe/Berlin")),
        showAs="oof",
        categories=["Focus time"],
        body={"contentType": "html", "content": "<p>Hello <b>world</b></p>"},
        location={"displayName": "Room 1"},
        sensitivity="private",
    )
    response = graph.get(f"/users/{ADELE}/calendarView", params=WINDOW)
    assert response.status_code == 200
    (event,) = response.json()["value"]
    assert event["start"] == {"dateTime": "2026-11-21T08:00:00.0000000", "timeZone": "UTC"}
    assert event["end"] == {"dateTime": "2026-11-21T09:30:00.0000000", "timeZone": "UTC"}
    assert event["originalStartTimeZone"] == "Europe/Berlin"
    assert event["type"] == "singleInstance" and event["seriesMasterId"] is None
    assert event["showAs"] == "oof" and event["categories"] == ["Focus time"]
    assert event["bodyPreview"] == "Hello world"
    assert event["location"]["displayName"] == "Room 1"
    assert event["@odata.etag"] == f'W/"{event["changeKey"]}"'
    assert event["iCalUId"] and event["createdDateTime"].endswith("Z")
    for key in (
        "subject",
        "body",
        "attendees",
        "organizer",
        "isAllDay",
        "sensitivity",
        "isCancelled",
        "recurrence",
        "isOnlineMeeting",
        "onlineMeeting",
        "responseRequested",
        "transactionId",
        "lastModifiedDateTime",
    ):
        assert key in event


@pytest.mark.parametrize(
    ("prefer", "expected_time", "expected_zone"),
    [
        ('outlook.timezone="Europe/Berlin"', "2026-11-21T09:00:00.0000000", "Europe/Berlin"),
        (
            'outlook.timezone="W. Europe Standard Time"',
            "2026-11-21T09:00:00.0000000",
            "W. Europe Standard Time",
        ),
        (
            'outlook.timezone="Pacific Standard Time"',
            "2026-11-21T00:00:00.0000000",
            "Pacific Standard Time",
        ),
        ('outlook.timezone="UTC"', "2026-11-21T08:00:00.0000000", "UTC"),
    ],
)
def test_prefer_outlook_timezone(sandbox, graph, prefer, expected_time, expected_zone):
    sandbox.state.add_event(ADELE, "x", _at(21, 8), _at(21, 9))
    response = graph.get(f"/users/{ADELE}/calendarView", params=WINDOW, headers={"Prefer": prefer})
    (event,) = response.json()["value"]
    assert event["start"] == {"dateTime": expected_time, "timeZone": expected_zone}
    assert "outlook.timezone" in response.headers["Preference-Applied"]


def test_prefer_immutable_id_is_accepted(sandbox, graph):
    response = graph.get(
        f"/users/{ADELE}/calendarView",
        params=WINDOW,
        headers={"Prefer": 'IdType="ImmutableId", outlook.timezone="UTC"'},
    )
    assert response.status_code == 200
    assert 'IdType="ImmutableId"' in response.headers["Preference-Applied"]
    assert sandbox.log.filter(path_regex="calendarView$")[-1].headers["Prefer"].startswith("IdType")


def test_select_and_paging_with_maxpagesize_and_top(sandbox, graph):
    for day in range(1, 26):
        sandbox.state.add_event(ADELE, f"E{day:02d}", _at(day, 9), _at(day, 10))
    items, pages, _ = graph.follow(
        f"/users/{ADELE}/calendarView",
        params={**WINDOW, "$select": "start,end,showAs"},
        headers={"Prefer": "odata.maxpagesize=10"},
    )
    assert [len(p["value"]) for p in pages] == [10, 10, 5]
    assert all(set(e) == {"@odata.etag", "id", "start", "end", "showAs"} for e in items)
    assert [e["start"]["dateTime"][:10] for e in items] == [
        f"2026-11-{d:02d}" for d in range(1, 26)
    ]
    # The default page is 10, like Graph's; $top sets it too.
    assert len(graph.get(f"/users/{ADELE}/calendarView", params=WINDOW).json()["value"]) == 10
    page = graph.get(f"/users/{ADELE}/calendarView", params={**WINDOW, "$top": "7"}).json()
    assert len(page["value"]) == 7 and "$skip=7" in page["@odata.nextLink"]
    bad = graph.get(f"/users/{ADELE}/calendarView", params={**WINDOW, "$select": "subject,nope"})
    assert bad.status_code == 400


def test_event_crud_and_transaction_id_idempotency(sandbox, graph):
    payload = {
        "subject": "Odoo activity",
        "body": {"contentType": "text", "content": "Call the customer"},
        "start": {"dateTime": "2026-11-21T09:00:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2026-11-21T10:00:00", "timeZone": "Europe/Berlin"},
        "showAs": "busy",
        "categories": ["Odoo"],
        "transactionId": "odoo-mail.activity-42",
        "attendees": [
            {
                "emailAddress": {"address": "megan.bowen@contoso.onmicrosoft.com", "name": "Megan"},
                "type": "required",
            }
        ],
        "isOnlineMeeting": True,
    }
    created = graph.post(f"/users/{ADELE}/events", json=payload)
    assert created.status_code == 201, created.text
    event = created.json()
    assert event["transactionId"] == "odoo-mail.activity-42"
    assert event["start"] == {"dateTime": "2026-11-21T08:00:00.0000000", "timeZone": "UTC"}
    assert event["onlineMeeting"]["joinUrl"].startswith("https://teams.microsoft.com/")
    assert event["attendees"][0]["status"]["response"] == "none"

    again = graph.post(f"/users/{ADELE}/events", json={**payload, "subject": "retried"})
    assert again.status_code == 201 and again.json()["id"] == event["id"]
    assert len(sandbox.state.events(ADELE)) == 1

    fetched = graph.get(
        f"/users/{ADELE}/events/{event['id']}", params={"$select": "subject"}
    ).json()
    assert fetched["subject"] == "Odoo activity" and "body" not in fetched

    listed = graph.get(f"/users/{ADELE}/events").json()["value"]
    assert [e["id"] for e in listed] == [event["id"]]

    assert graph.delete(f"/users/{ADELE}/events/{event['id']}").status_code == 204
    assert (
        graph.get(f"/users/{ADELE}/events/{event['id']}").json()["error"]["code"]
        == "ErrorItemNotFound"
    )
    assert graph.delete(f"/users/{ADELE}/events/{event['id']}").status_code == 404


def test_patch_with_if_match(sandbox, graph):
    event = sandbox.state.add_event(ADELE, "Before", _at(21, 9), _at(21, 10))
    url = f"/users/{ADELE}/events/{event['id']}"
    stale = graph.patch(url, json={"subject": "x"}, headers={"If-Match": 'W/"not-the-key"'})
    assert stale.status_code == 412
    assert stale.json()["error"]["code"] == "ErrorIrresolvableConflict"

    first = graph.patch(url, json={"subject": "After"}, headers={"If-Match": event["@odata.etag"]})
    assert first.status_code == 200 and first.json()["subject"] == "After"
    new_key = first.json()["changeKey"]
    assert new_key != event["changeKey"]
    # The old key is stale now; the bare new key works.
    assert (
        graph.patch(
            url, json={"subject": "y"}, headers={"If-Match": event["changeKey"]}
        ).status_code
        == 412
    )
    bare = graph.patch(url, json={"showAs": "tentative"}, headers={"If-Match": new_key})
    assert bare.status_code == 200 and bare.json()["showAs"] == "tentative"
    assert (
        graph.patch(url, json={"showAs": "free"}).status_code == 200
    )  # no If-Match: last writer wins
    assert graph.delete(url, headers={"If-Match": '"stale"'}).status_code == 412


def test_bad_payloads(sandbox, graph):
    url = f"/users/{ADELE}/events"
    good_times = {
        "start": {"dateTime": "2026-11-21T09:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2026-11-21T10:00:00", "timeZone": "UTC"},
    }
    unknown = graph.post(url, json={**good_times, "subjekt": "typo"})
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "RequestBodyRead"
    enum = graph.post(url, json={**good_times, "showAs": "sleeping"})
    assert enum.status_code == 400
    zone = graph.post(
        url,
        json={
            "start": {"dateTime": "2026-11-21T09:00:00", "timeZone": "Mars/Olympus"},
            "end": good_times["end"],
        },
    )
    assert (
        zone.status_code == 400 and zone.json()["error"]["code"] == "TimeZoneNotSupportedException"
    )
    empty = graph.post(url, data=b"", headers={"Content-Type": "application/json"})
    assert empty.status_code == 400


def test_all_day_events_float_in_the_requested_zone(sandbox, graph):
    created = graph.post(
        f"/users/{ADELE}/events",
        json={
            "subject": "Holiday",
            "isAllDay": True,
            "showAs": "oof",
            "start": {"dateTime": "2026-11-23T00:00:00", "timeZone": "W. Europe Standard Time"},
            "end": {"dateTime": "2026-11-24T00:00:00", "timeZone": "W. Europe Standard Time"},
        },
    ).json()
    assert created["isAllDay"] is True
    assert created["start"] == {"dateTime": "2026-11-23T00:00:00.0000000", "timeZone": "UTC"}
    view = graph.get(
        f"/users/{ADELE}/calendarView",
        params=WINDOW,
        headers={"Prefer": 'outlook.timezone="Pacific Standard Time"'},
    ).json()["value"]
    assert view[0]["start"] == {
        "dateTime": "2026-11-23T00:00:00.0000000",
        "timeZone": "Pacific Standard Time",
    }
    bad = graph.post(
        f"/users/{ADELE}/events",
        json={
            "isAllDay": True,
            "start": {"dateTime": "2026-11-23T09:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2026-11-24T00:00:00", "timeZone": "UTC"},
        },
    )
    assert bad.status_code == 400


def test_me_routes_and_calendar_alias(sandbox):
    token = sandbox.issue_user_token(ADELE, ["Calendars.ReadWrite", "User.Read"])
    graph = Graph(sandbox, token)
    created = graph.post(
        "/me/calendar/events",
        json={
            "subject": "mine",
            "start": {"dateTime": "2026-11-21T09:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2026-11-21T09:30:00", "timeZone": "UTC"},
        },
    )
    assert created.status_code == 201
    assert [e["subject"] for e in graph.get("/me/calendarView", params=WINDOW).json()["value"]] == [
        "mine"
    ]
    assert graph.get(f"/me/events/{created.json()['id']}").status_code == 200
    assert graph.get("/me/calendar").json()["isDefaultCalendar"] is True
    assert len(graph.get("/me/calendars").json()["value"]) == 1


def test_unknown_user_unlicensed_user_and_unknown_segment(sandbox, graph):
    unknown = graph.get("/users/ghost@contoso.onmicrosoft.com/calendarView", params=WINDOW)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "ErrorInvalidUser"
    unlicensed = graph.get(
        "/users/isaiah.langer@contoso.onmicrosoft.com/calendarView", params=WINDOW
    )
    assert unlicensed.status_code == 404
    assert unlicensed.json()["error"]["code"] == "MailboxNotEnabledForRESTAPI"
    segment = graph.get("/users/x/mailboxSettingz")
    assert segment.status_code == 400 and "segment" in segment.json()["error"]["message"]


def test_state_helpers_round_trip(sandbox):
    state = sandbox.state
    event = state.add_event(
        ADELE, "Helper", datetime(2026, 11, 21, 9), datetime(2026, 11, 21, 10), showAs="free"
    )
    assert event["start"]["dateTime"].startswith("2026-11-21T09:00")
    updated = state.update_event(
        ADELE, event["id"], subject="Renamed", start=datetime(2026, 11, 21, 8)
    )
    assert updated["subject"] == "Renamed" and updated["changeKey"] != event["changeKey"]
    assert [e["subject"] for e in state.events(ADELE)] == ["Renamed"]
    state.delete_event(ADELE, event["id"])
    assert state.events(ADELE) == []


def test_zero_length_and_boundary_events(sandbox, graph):
    state = sandbox.state
    state.add_event(ADELE, "ends at window start", _at(1, 0) - timedelta(hours=1), _at(1, 0))
    state.add_event(ADELE, "reminder", _at(5, 9), _at(5, 9))
    state.add_event(
        ADELE,
        "starts at window end",
        datetime(2026, 12, 1, tzinfo=UTC),
        datetime(2026, 12, 1, 1, tzinfo=UTC),
    )
    subjects = [
        e["subject"]
        for e in graph.get(f"/users/{ADELE}/calendarView", params=WINDOW).json()["value"]
    ]
    assert subjects == ["reminder"]


def test_attendees_receive_meeting_mail_only_when_the_event_has_some(sandbox, graph):
    """Outlook invites as soon as an organiser's event has attendees; none otherwise."""
    path = f"/users/{ADELE}/events"
    quiet = graph.post(
        path,
        json={
            "subject": "Alone",
            "start": {"dateTime": "2026-11-03T09:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2026-11-03T10:00:00", "timeZone": "UTC"},
        },
    ).json()
    graph.patch(f"{path}/{quiet['id']}", json={"subject": "Still alone"})
    assert sandbox.state.sent_meeting_mail == []
    meeting = graph.post(
        path,
        json={
            "subject": "Meeting",
            "start": {"dateTime": "2026-11-04T09:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2026-11-04T10:00:00", "timeZone": "UTC"},
            "attendees": [{"emailAddress": {"address": "megan@contoso.com"}, "type": "required"}],
        },
    ).json()
    graph.patch(f"{path}/{meeting['id']}", json={"subject": "Meeting (moved)"})
    graph.delete(f"{path}/{meeting['id']}")
    mail = sandbox.state.sent_meeting_mail
    assert [(m["kind"], m["to"]) for m in mail] == [
        ("request", ["megan@contoso.com"]),
        ("update", ["megan@contoso.com"]),
        ("cancellation", ["megan@contoso.com"]),
    ]
