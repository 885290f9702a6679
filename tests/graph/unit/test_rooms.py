"""Room decisions: parsing Graph rooms (documented example and mutations), matching
them to Odoo rooms (renamed, re-keyed, missing, archived), room blocks, answers and
conflicts."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

import pytest

from m365_graph.core.errors import BadResponse
from m365_graph.sync.push import Appointment, Attendee, build_payload
from m365_graph.sync.rooms import (
    MISSING_GRACE,
    GraphRoom,
    Known,
    RoomBlock,
    conflicts,
    plan_rooms,
    room_answer,
)

UTC = timezone.utc
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)

# Graph docs, "List places", example response of /places/microsoft.graph.room.
DOC_ROOM = {
    "id": "3162F1E1-C4C0-604B-51D8-91DA78989EB1",
    "emailAddress": "cf100@contoso.com",
    "displayName": "Conf Room 100",
    "address": {"street": "4567 Main Street", "city": "Buffalo", "state": "NY"},
    "geoCoordinates": None,
    "phone": "000-000-0000",
    "nickname": "Conf Room",
    "label": "100",
    "capacity": 50,
    "building": "1",
    "floorNumber": 1,
    "isWheelChairAccessible": False,
    "bookingType": "standard",
    "tags": ["bean bags"],
    "audioDeviceName": None,
    "videoDeviceName": None,
    "displayDeviceName": "surface hub",
}


def test_documented_room():
    room = GraphRoom.from_graph(DOC_ROOM)
    assert room.values() == {
        "graph_id": DOC_ROOM["id"],
        "email": "cf100@contoso.com",
        "name": "Conf Room 100",
        "capacity": 50,
        "building": "1",
        "floor": "1",
        "wheelchair": False,
        "bookable": True,
    }


@pytest.mark.parametrize(
    ("mutation", "check"),
    [
        (
            {"emailAddress": None, "emailaddress": "CF100@Contoso.com"},
            lambda r: r.email == "cf100@contoso.com",
        ),
        ({"capacity": "twelve"}, lambda r: r.capacity is None),
        ({"capacity": "12"}, lambda r: r.capacity == 12),
        ({"floorNumber": None, "floorLabel": "P"}, lambda r: r.floor == "P"),
        ({"bookingType": "reserved"}, lambda r: not r.bookable),
        ({"displayName": None}, lambda r: r.name == "cf100@contoso.com"),
        ({"tags": "not a list"}, lambda r: r.tags == ()),
    ],
)
def test_mutated_rooms(mutation, check):
    raw = {**copy.deepcopy(DOC_ROOM), **mutation}
    assert check(GraphRoom.from_graph(raw))


@pytest.mark.parametrize(
    "raw", [None, [], {"id": "x"}, {"emailAddress": "a@b.c"}, {**DOC_ROOM, "emailAddress": 5}]
)
def test_unusable_rooms_are_refused(raw):
    with pytest.raises(BadResponse):
        GraphRoom.from_graph(raw)


def known(ident, room, **kw):
    return Known(ident, room.email, room.id, room.values(), **kw)


def test_plan_matches_by_email_then_id_and_writes_only_changes():
    room = GraphRoom.from_graph(DOC_ROOM)
    plan = plan_rooms([room], [known(1, room)], NOW)
    assert (plan.create, plan.update, plan.missing) == ([], [], [])
    # The id changed (it is not immutable): same room, new id written.
    rekeyed = GraphRoom.from_graph({**DOC_ROOM, "id": "NEW"})
    assert plan_rooms([rekeyed], [known(1, room)], NOW).update == [(1, {"graph_id": "NEW"})]
    # Renamed mailbox (new address, same id): matched by id.
    renamed = GraphRoom.from_graph({**DOC_ROOM, "emailAddress": "cf101@contoso.com"})
    plan = plan_rooms([renamed], [known(1, room)], NOW)
    assert plan.update == [(1, {"email": "cf101@contoso.com"})]


def test_plan_marks_missing_then_archives_after_the_grace():
    room = GraphRoom.from_graph(DOC_ROOM)
    assert plan_rooms([], [known(1, room)], NOW).missing == [1]
    soon = known(1, room, missing_since=NOW - timedelta(hours=30))
    assert plan_rooms([], [soon], NOW).archive == []
    late = known(1, room, missing_since=NOW - MISSING_GRACE)
    assert plan_rooms([], [late], NOW).archive == [1]
    back = plan_rooms([room], [soon], NOW)
    assert back.seen == [1] and back.update == []
    archived = known(1, room, active=False)
    assert plan_rooms([room], [archived], NOW).update == [(1, {"active": True})]


def test_plan_takes_a_room_listed_twice_once():
    room = GraphRoom.from_graph(DOC_ROOM)
    plan = plan_rooms([room, room], [], NOW)
    assert plan.create == [room] and plan.duplicates == ["cf100@contoso.com"]


def test_block_title_only_when_allowed_and_not_private():
    raw = {
        "id": "e1",
        "subject": "Board meeting",
        "start": {"dateTime": "2026-03-02T09:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2026-03-02T10:00:00.0000000", "timeZone": "UTC"},
        "showAs": "busy",
        "sensitivity": "normal",
        "organizer": {"emailAddress": {"name": "Adele", "address": "Adele@Contoso.com"}},
        "iCalUId": "uid",
    }
    block = RoomBlock.from_graph(raw)
    assert block.values(titles=False)["subject"] is False
    assert block.values(titles=True)["subject"] == "Board meeting"
    assert block.organizer_email == "adele@contoso.com"
    private = RoomBlock.from_graph({**raw, "sensitivity": "private"})
    assert private.values(titles=True)["subject"] is False
    with pytest.raises(BadResponse):
        RoomBlock.from_graph({**raw, "end": None})


def test_room_answer_ignores_case_and_odd_values():
    event = {
        "attendees": [
            {"emailAddress": {"address": "ROOM@x.com"}, "status": {"response": "declined"}},
            "garbage",
        ]
    }
    assert room_answer(event, "room@x.com").response == "declined"
    assert room_answer(event, "other@x.com") is None
    odd = {"attendees": [{"emailAddress": {"address": "room@x.com"}, "status": {"response": 3}}]}
    assert room_answer(odd, "room@x.com").response == "none"


def test_conflicts():
    a, b = NOW, NOW + timedelta(hours=1)
    assert conflicts(a, b, [(a + timedelta(minutes=30), b, "busy")])
    assert not conflicts(a, b, [(b, b + timedelta(hours=1), "busy")])  # touching
    assert not conflicts(a, b, [(a, b, "free")])


def test_rooms_are_resource_attendees_and_the_location():
    built = build_payload(
        Appointment(
            "Planning", NOW, NOW + timedelta(hours=1), rooms=(Attendee("Rainier", "r@x.com"),)
        )
    )
    assert built.payload["attendees"] == [
        {"emailAddress": {"address": "r@x.com", "name": "Rainier"}, "type": "resource"}
    ]
    assert built.payload["location"] == {"displayName": "Rainier"}
    # Without rooms and invitations: no attendees property at all (nothing wiped).
    assert "attendees" not in build_payload(Appointment("x", NOW, NOW)).payload
    released = build_payload(Appointment("x", NOW, NOW, manage_attendees=True)).payload
    assert released["attendees"] == []
