"""Odoo appointment values → the Graph body of an upload (m365_graph.sync.push)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from m365_graph.core.timezones import resolve_zone
from m365_graph.sync.push import (
    MAX_BODY_CHARS,
    MAX_SUBJECT_CHARS,
    NO_TITLE,
    Appointment,
    Attendee,
    build_payload,
    html_is_empty,
    occurrence_payload,
    payload_hash,
)
from m365_graph.sync.recurrence import Recurrence

UTC = timezone.utc


def appt(**values):
    base = {
        "subject": "Customer call",
        "start": datetime(2025, 3, 28, 8, 0),
        "stop": datetime(2025, 3, 28, 9, 30),
        "time_zone": "Europe/Brussels",
    }
    base.update(values)
    return Appointment(**base)


def test_timed_event_is_sent_in_the_users_zone_with_its_windows_name():
    built = build_payload(appt())
    body = built.payload
    # 08:00 UTC is 09:00 in Brussels (winter time); Outlook stores the Windows name.
    assert body["start"] == {
        "dateTime": "2025-03-28T09:00:00.0000000",
        "timeZone": "Romance Standard Time",
    }
    assert body["end"]["dateTime"] == "2025-03-28T10:30:00.0000000"
    assert body["isAllDay"] is False
    assert body["subject"] == "Customer call"
    assert body["showAs"] == "busy"
    assert body["sensitivity"] == "normal"
    assert body["categories"] == []
    assert body["location"] == {"displayName": ""}
    assert body["body"] == {"contentType": "html", "content": ""}
    assert "attendees" not in body, "no invitations unless the user asked for them"
    assert "transactionId" not in body
    assert built.warnings == ()
    assert built.time_zone == "Romance Standard Time"


def test_summer_time_is_the_zones_own_offset():
    body = build_payload(
        appt(start=datetime(2025, 7, 1, 7, 0), stop=datetime(2025, 7, 1, 8))
    ).payload
    assert body["start"]["dateTime"] == "2025-07-01T09:00:00.0000000"


def test_unknown_zone_falls_back_to_utc_with_a_warning():
    built = build_payload(appt(time_zone="Mars/Olympus_Mons"))
    assert built.payload["start"] == {"dateTime": "2025-03-28T08:00:00.0000000", "timeZone": "UTC"}
    assert any("Mars/Olympus_Mons" in w for w in built.warnings)


def test_missing_zone_is_utc_without_warning():
    built = build_payload(appt(time_zone=None))
    assert built.payload["start"]["timeZone"] == "UTC"
    assert built.warnings == ()


def test_no_stop_is_one_hour_and_reversed_stop_is_zero_length():
    built = build_payload(appt(stop=None))
    assert built.payload["end"]["dateTime"] == "2025-03-28T10:00:00.0000000"
    assert built.warnings
    built = build_payload(appt(stop=datetime(2025, 3, 28, 7, 0)))
    assert built.payload["end"] == built.payload["start"]
    assert built.warnings


def test_zero_length_event_is_kept_as_is():
    built = build_payload(appt(stop=datetime(2025, 3, 28, 8, 0)))
    assert built.payload["end"] == built.payload["start"]
    assert built.warnings == ()


def test_all_day_event_ends_at_the_next_midnight():
    body = build_payload(
        appt(all_day=True, start_date=date(2025, 4, 1), stop_date=date(2025, 4, 2))
    ).payload
    assert body["isAllDay"] is True
    assert body["start"] == {
        "dateTime": "2025-04-01T00:00:00.0000000",
        "timeZone": "Romance Standard Time",
    }
    assert body["end"]["dateTime"] == "2025-04-03T00:00:00.0000000"


def test_subject_html_body_location_and_privacy():
    body = build_payload(
        appt(
            subject="   ",
            description="<p>Bring the <b>offer</b></p>",
            location=" Room 4 ",
            show_as="free",
            private=True,
            categories=["Customer", "Customer", " ", "Travel"],
        )
    ).payload
    assert body["subject"] == NO_TITLE
    assert body["body"] == {"contentType": "html", "content": "<p>Bring the <b>offer</b></p>"}
    assert body["location"] == {"displayName": "Room 4"}
    assert body["showAs"] == "free"
    assert body["sensitivity"] == "private"
    assert body["categories"] == ["Customer", "Travel"]


def test_empty_odoo_html_clears_the_body():
    assert html_is_empty("<p><br></p>")
    assert html_is_empty("<p>&nbsp;</p>")
    assert not html_is_empty('<p><img src="x"></p>')
    assert build_payload(appt(description="<p><br></p>")).payload["body"]["content"] == ""


def test_long_subject_and_description_are_cut_and_said_so():
    built = build_payload(appt(subject="x" * 400, description="<p>" + "y" * 300_000 + "</p>"))
    assert len(built.payload["subject"]) == MAX_SUBJECT_CHARS
    content = built.payload["body"]["content"]
    assert len(content) < MAX_BODY_CHARS + 200
    assert "shortened" in content
    assert len(built.warnings) == 2


def test_cut_never_leaves_half_a_tag():
    text = "<p>" + "a" * (MAX_BODY_CHARS - 10) + '<a href="https://example.com/very/long">x</a></p>'
    content = build_payload(appt(description=text)).payload["body"]["content"]
    head = content.split("<p><i>")[0]
    assert head.count("<") == head.count(">")


def test_attendees_only_with_invitations_and_only_with_an_address():
    people = (
        Attendee("Adele", "adele@contoso.com"),
        Attendee("No Mail", None),
        Attendee("Broken", "not-an-address"),
        Attendee("Megan", "megan@contoso.com", optional=True),
        Attendee("Megan again", "MEGAN@contoso.com"),
    )
    quiet = build_payload(appt(attendees=people, organizer_email="adele@contoso.com"))
    assert "attendees" not in quiet.payload
    assert quiet.warnings == ()
    loud = build_payload(
        appt(attendees=people, organizer_email="adele@contoso.com"), send_invitations=True
    )
    assert loud.payload["attendees"] == [
        {
            "emailAddress": {"address": "megan@contoso.com", "name": "Megan"},
            "type": "optional",
        }
    ]
    assert len(loud.warnings) == 2
    assert any("No Mail" in w for w in loud.warnings)


def test_recurrence_starts_on_the_local_date_in_the_users_zone():
    # 23:30 UTC on Sunday is Monday 08:30 in Tokyo: the series starts on Monday.
    rule = Recurrence("weekly", weekdays=frozenset({"mon"}), end_type="count", count=5)
    built = build_payload(
        appt(
            start=datetime(2025, 3, 2, 23, 30),
            stop=datetime(2025, 3, 3, 0, 30),
            time_zone="Asia/Tokyo",
            recurrence=rule,
        )
    )
    recurrence = built.payload["recurrence"]
    assert recurrence["range"]["startDate"] == "2025-03-03"
    assert recurrence["range"]["recurrenceTimeZone"] == "Tokyo Standard Time"
    assert recurrence["pattern"]["daysOfWeek"] == ["monday"]
    assert "recurrence" not in occurrence_payload(built)
    assert occurrence_payload(built)["start"] == built.payload["start"]


def test_hash_ignores_key_order_and_transaction_id():
    body = build_payload(appt()).payload
    shuffled = dict(reversed(list(body.items())))
    assert payload_hash(body) == payload_hash(shuffled)
    assert payload_hash(body) == payload_hash({**body, "transactionId": "abc"})
    assert payload_hash(body) != payload_hash({**body, "subject": "Other"})


zones = st.sampled_from(
    ["Europe/Brussels", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "UTC"]
)


@given(
    start=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2060, 1, 1)),
    minutes=st.integers(0, 60 * 24 * 3),
    zone=zones,
)
def test_wall_time_and_zone_give_back_the_same_instant(start, minutes, zone):
    """Whatever the zone and DST, Outlook reading (dateTime, timeZone) finds our instant."""
    stop = start + timedelta(minutes=minutes)
    body = build_payload(appt(start=start, stop=stop, time_zone=zone)).payload
    for moment, key in ((start, "start"), (stop, "end")):
        wall = datetime.fromisoformat(body[key]["dateTime"][:19])
        tz = resolve_zone(body[key]["timeZone"])
        # fold=0/1: an ambiguous wall time (autumn) is resolved like Outlook, either fold
        instants = {
            wall.replace(tzinfo=tz, fold=fold).astimezone(UTC).replace(tzinfo=None)
            for fold in (0, 1)
        }
        assert moment.replace(microsecond=0) in instants
