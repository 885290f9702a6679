"""Rooms against the sandbox: the places listing (paging, hidden new rooms, malformed
rooms), the booking assistant's answers read back from the organiser's event, the
room calendar read as blocks, and a room mailbox the app may not read."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from m365_graph.core.errors import GraphError, PermissionMissing
from m365_graph.resources.outbox import push_operations
from m365_graph.resources.places import list_rooms, read_room_answers, read_room_calendars
from m365_graph.sync.outbox import PushOperation
from m365_graph.sync.push import Appointment, Attendee, build_payload
from m365_graph.sync.rooms import room_answer

ADELE = "adele.vance@contoso.onmicrosoft.com"
RAINIER = "rainier@contoso.onmicrosoft.com"
UTC = timezone.utc
BASE = (datetime.now(UTC) + timedelta(days=3)).replace(hour=8, minute=0, second=0, microsecond=0)


def booking(subject, hours=0, length=1, rooms=(RAINIER,)):
    start = BASE + timedelta(hours=hours)
    return build_payload(
        Appointment(
            subject,
            start,
            start + timedelta(hours=length),
            time_zone="Europe/Brussels",
            rooms=tuple(Attendee("Room", r) for r in rooms),
        )
    ).payload


def create(client, key, payload):
    [result] = push_operations(
        client, ADELE, [PushOperation(key, "create", payload, transaction_id=f"tx-{key}")]
    )
    assert result.ok, result.error
    return result.event


def answer(client, event_id, room=RAINIER):
    body = read_room_answers(client, [(ADELE, event_id)])[(ADELE, event_id)]
    return room_answer(body, room).response


def test_places_lists_rooms_in_pages_of_100(sb, app_client):
    sb.state.set_app_roles(["Place.Read.All"])
    for i in range(130):
        sb.state.add_room(f"Room {i:03}", f"room{i:03}@contoso.onmicrosoft.com", capacity=i)
    listing = list_rooms(app_client)
    assert listing.pages == 2
    assert len(listing.rooms) == 131  # + Rainier of the default tenant
    rainier = next(r for r in listing.rooms if r.email == RAINIER)
    assert (rainier.capacity, rainier.building, rainier.floor) == (12, "Building 1", "1")


def test_a_new_room_is_hidden_until_places_catches_up(sb, app_client):
    sb.state.set_app_roles(["Place.Read.All"])
    sb.state.add_room("Fresh", "fresh@contoso.onmicrosoft.com", placesHidden=True)
    assert "fresh@contoso.onmicrosoft.com" not in {r.email for r in list_rooms(app_client).rooms}
    sb.state.update_room("fresh@contoso.onmicrosoft.com", placesHidden=False)
    assert "fresh@contoso.onmicrosoft.com" in {r.email for r in list_rooms(app_client).rooms}


def test_places_needs_place_read_all(sb, app_client):
    sb.state.set_app_roles(["Calendars.ReadWrite"])
    with pytest.raises(PermissionMissing):
        list_rooms(app_client)


def test_room_accepts_when_free_and_declines_a_double_booking(sb, app_client):
    sb.state.set_app_roles(["Calendars.ReadWrite", "Place.Read.All"])
    first = create(app_client, "a", booking("Planning"))
    # Graph answers the write before the room does.
    assert room_answer(first.raw, RAINIER).response == "none"
    assert answer(app_client, first.id) == "accepted"
    second = create(app_client, "b", booking("Overlap", hours=0.5))
    assert answer(app_client, second.id) == "declined"
    # The room calendar holds the accepted meeting only, titled with the organiser.
    [calendar] = read_room_calendars(
        app_client, [RAINIER], BASE - timedelta(days=1), BASE + timedelta(days=1)
    ).values()
    assert calendar.ok
    [block] = calendar.slots
    assert block.ical_uid == first.ical_uid
    assert block.subject == "Adele Vance"
    assert block.organizer_email == ADELE


def test_allow_conflicts_accepts_and_moving_asks_again(sb, app_client):
    sb.state.set_app_roles(["Calendars.ReadWrite"])
    first = create(app_client, "a", booking("Planning"))
    second = create(app_client, "b", booking("Later", hours=3))
    assert answer(app_client, second.id) == "accepted"
    # Moved onto the first meeting: declined, and its copy leaves the room calendar.
    [moved] = push_operations(
        app_client,
        ADELE,
        [PushOperation("m", "update", booking("Later", hours=0), event_id=second.id)],
    )
    assert moved.ok
    assert answer(app_client, second.id) == "declined"
    sb.state.set_calendar_processing(RAINIER, allowConflicts=True)
    push_operations(
        app_client,
        ADELE,
        [PushOperation("m", "update", booking("Later!", hours=0), event_id=second.id)],
    )
    assert answer(app_client, second.id) == "accepted"
    assert answer(app_client, first.id) == "accepted"


def test_deleting_the_meeting_releases_the_room(sb, app_client):
    sb.state.set_app_roles(["Calendars.ReadWrite"])
    first = create(app_client, "a", booking("Planning"))
    assert len(sb.state.events(RAINIER)) == 1
    [gone] = push_operations(app_client, ADELE, [PushOperation("d", "delete", event_id=first.id)])
    assert gone.ok
    assert sb.state.events(RAINIER) == []


def test_a_blocked_room_mailbox_fails_alone(sb, app_client):
    sb.state.set_app_roles(["Calendars.ReadWrite"])
    sb.state.add_room("Shut", "shut@contoso.onmicrosoft.com")
    sb.state.block_app("shut@contoso.onmicrosoft.com")
    calendars = read_room_calendars(
        app_client,
        [RAINIER, "shut@contoso.onmicrosoft.com"],
        BASE - timedelta(days=1),
        BASE + timedelta(days=1),
    )
    assert calendars[RAINIER].ok
    error = calendars["shut@contoso.onmicrosoft.com"].error
    assert error is not None and "AccessPolicy" in str(error)


# -- mailbox settings (automatic replies) ---------------------------------------------


def test_automatic_replies_are_scheduled_and_read_back(sb, app_client):
    from m365_graph.resources.mailbox_settings import read_auto_replies, set_auto_replies

    sb.state.set_app_roles(["MailboxSettings.ReadWrite"])
    assert read_auto_replies(app_client, [ADELE])[ADELE].status == "disabled"
    start, end = BASE, BASE + timedelta(days=3)
    assert set_auto_replies(app_client, [(ADELE, (start, end), "Away")]) == {ADELE: None}
    replies = read_auto_replies(app_client, [ADELE])[ADELE]
    assert (replies.status, replies.start, replies.end) == ("scheduled", start, end)
    assert set_auto_replies(app_client, [(ADELE, None, "")]) == {ADELE: None}
    assert read_auto_replies(app_client, [ADELE])[ADELE].status == "disabled"


def test_mailbox_settings_need_the_permission_and_refuse_odd_bodies(sb, app_client):
    from m365_graph.resources.mailbox_settings import read_auto_replies

    sb.state.set_app_roles(["Calendars.ReadWrite"])
    error = read_auto_replies(app_client, [ADELE])[ADELE]
    assert isinstance(error, PermissionMissing)
    sb.state.set_app_roles(["MailboxSettings.ReadWrite"])
    with pytest.raises(GraphError, match="OData request is not supported"):
        app_client.request(
            "PATCH",
            f"/users/{ADELE}/mailboxSettings",
            json={"automaticRepliesSetting": {"status": "scheduled", "colour": "red"}},
            what="odd body",
        )
    with pytest.raises(GraphError, match="scheduledEndDateTime"):
        app_client.request(
            "PATCH",
            f"/users/{ADELE}/mailboxSettings",
            json={
                "automaticRepliesSetting": {
                    "status": "scheduled",
                    "scheduledStartDateTime": {
                        "dateTime": "2030-01-01T00:00:00",
                        "timeZone": "UTC",
                    },
                }
            },
            what="no end",
        )
