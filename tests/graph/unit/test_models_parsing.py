"""Parsing Graph JSON into typed results; BadResponse names the field."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from m365_graph.core.errors import BadResponse
from m365_graph.core.timezones import (
    format_query_datetime,
    parse_graph_datetime,
    resolve_zone,
    to_graph_datetime,
)
from m365_graph.core.types import BatchRequest, BusySlot, GraphEvent, GraphUser

UTC = timezone.utc


def test_graph_datetime_seven_digits_utc():
    value = {"dateTime": "2025-05-01T09:30:00.0000000", "timeZone": "UTC"}
    assert parse_graph_datetime(value, "start") == datetime(2025, 5, 1, 9, 30, tzinfo=UTC)


def test_graph_datetime_windows_zone():
    value = {"dateTime": "2025-07-01T09:00:00.0000000", "timeZone": "W. Europe Standard Time"}
    assert parse_graph_datetime(value, "start") == datetime(2025, 7, 1, 7, 0, tzinfo=UTC)
    winter = {"dateTime": "2025-01-15T09:00:00", "timeZone": "Pacific Standard Time"}
    assert parse_graph_datetime(winter, "end") == datetime(2025, 1, 15, 17, 0, tzinfo=UTC)


def test_graph_datetime_iana_zone():
    value = {"dateTime": "2025-07-01T09:00:00", "timeZone": "Europe/Brussels"}
    assert parse_graph_datetime(value, "start").hour == 7


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ("2025-01-01", "start"),
        ({"timeZone": "UTC"}, "start.dateTime"),
        ({"dateTime": 12, "timeZone": "UTC"}, "start.dateTime"),
        ({"dateTime": "yesterday", "timeZone": "UTC"}, "start.dateTime"),
        ({"dateTime": "2025-01-01T00:00:00", "timeZone": "Mars/Olympus"}, "start.timeZone"),
    ],
)
def test_graph_datetime_errors_name_the_field(value, field):
    with pytest.raises(BadResponse) as info:
        parse_graph_datetime(value, "start")
    assert info.value.field == field


def test_resolve_zone_unknown():
    with pytest.raises(ValueError, match="unknown time zone"):
        resolve_zone("Nowhere Standard Time")


def test_to_graph_datetime_naive_is_utc_and_aware_is_converted():
    assert to_graph_datetime(datetime(2025, 1, 2, 3, 4, 5)) == {
        "dateTime": "2025-01-02T03:04:05.0000000",
        "timeZone": "UTC",
    }
    aware = datetime(2025, 1, 2, 3, 4, 5, tzinfo=resolve_zone("Tokyo Standard Time"))
    assert to_graph_datetime(aware)["dateTime"] == "2025-01-01T18:04:05.0000000"
    assert format_query_datetime(datetime(2025, 1, 2)) == "2025-01-02T00:00:00Z"


def test_user_parsing_and_present_fields():
    user = GraphUser.from_graph(
        {
            "id": "u1",
            "displayName": "Anna",
            "mail": None,
            "userPrincipalName": "anna@contoso.com",
            "businessPhones": ["+32 2 123"],
            "accountEnabled": True,
            "@odata.type": "#microsoft.graph.user",
        }
    )
    assert user.email == "anna@contoso.com"
    assert user.business_phones == ("+32 2 123",)
    assert user.present == {
        "id",
        "displayName",
        "mail",
        "userPrincipalName",
        "businessPhones",
        "accountEnabled",
    }


@pytest.mark.parametrize(
    ("obj", "field"),
    [
        ({"displayName": "x"}, "id"),
        ({"id": 5}, "id"),
        ({"id": "u", "businessPhones": "123"}, "businessPhones"),
        ({"id": "u", "accountEnabled": "yes"}, "accountEnabled"),
        ({"id": "u", "mail": ["a"]}, "mail"),
    ],
)
def test_user_bad_fields(obj, field):
    with pytest.raises(BadResponse) as info:
        GraphUser.from_graph(obj)
    assert info.value.field == field
    assert field in str(info.value)


def test_user_not_an_object():
    with pytest.raises(BadResponse):
        GraphUser.from_graph(["u1"])


def test_busy_slot():
    slot = BusySlot.from_graph(
        {
            "id": "e1",
            "start": {"dateTime": "2025-05-01T09:00:00.0000000", "timeZone": "UTC"},
            "end": {"dateTime": "2025-05-01T10:30:00.0000000", "timeZone": "UTC"},
            "showAs": "busy",
            "categories": ["Blue"],
            "isAllDay": False,
            "sensitivity": "normal",
            "type": "singleInstance",
        }
    )
    assert slot.hours == 1.5
    assert slot.categories == ("Blue",)
    assert slot.start.tzinfo is not None


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"start": None}, "start"),
        ({"end": {"dateTime": "x", "timeZone": "UTC"}}, "end.dateTime"),
        ({"categories": "Blue"}, "categories"),
        ({"isAllDay": "no"}, "isAllDay"),
        ({"end": {"dateTime": "2025-05-01T08:00:00", "timeZone": "UTC"}}, "end"),
    ],
)
def test_busy_slot_bad_fields(patch, field):
    obj = {
        "id": "e1",
        "start": {"dateTime": "2025-05-01T09:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2025-05-01T10:00:00", "timeZone": "UTC"},
    }
    obj.update(patch)
    with pytest.raises(BadResponse) as info:
        BusySlot.from_graph(obj)
    assert info.value.field == field
    assert "'e1'" in str(info.value)


def test_graph_event():
    event = GraphEvent.from_graph(
        {
            "id": "e1",
            "subject": "Plan",
            "start": {"dateTime": "2025-05-01T09:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2025-05-01T10:00:00", "timeZone": "UTC"},
            "changeKey": "ck1",
            "location": {"displayName": "Room 1"},
            "body": {"contentType": "html", "content": "<p>x</p>"},
            "lastModifiedDateTime": "2025-04-30T10:00:00Z",
            "transactionId": "odoo-1",
        }
    )
    assert event.location == "Room 1"
    assert event.body_type == "html"
    assert event.last_modified == datetime(2025, 4, 30, 10, tzinfo=UTC)
    assert event.raw["changeKey"] == "ck1"
    with pytest.raises(BadResponse) as info:
        GraphEvent.from_graph({**event.raw, "location": "Room 1"})
    assert info.value.field == "location"


def test_batch_request_json():
    req = BatchRequest("1", "post", "/me/events", body={"a": 1}, depends_on=("0",))
    assert req.as_json() == {
        "id": "1",
        "method": "POST",
        "url": "/me/events",
        "body": {"a": 1},
        "headers": {"Content-Type": "application/json"},
        "dependsOn": ["0"],
    }
    assert not req.is_retry_safe
    assert BatchRequest("2", "GET", "/me").is_retry_safe
