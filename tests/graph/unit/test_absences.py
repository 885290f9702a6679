"""Time off and work location decisions: the Outlook body of a leave (all-day across
DST, timed half days), stretches of work location, Outlook absences worth a request."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from m365_graph.core.types import BusySlot
from m365_graph.sync.absences import (
    Absence,
    Stretch,
    absence_candidates,
    absence_payload,
    location_payload,
    stretches,
)

UTC = timezone.utc


def test_all_day_leave_across_dst_keeps_its_days():
    body = absence_payload(
        Absence(True, date(2027, 3, 26), date(2027, 3, 29), time_zone="Europe/Brussels")
    ).payload
    assert body["isAllDay"] is True
    assert body["showAs"] == "oof"
    assert body["categories"] == ["Odoo"]
    assert body["start"] == {
        "dateTime": "2027-03-26T00:00:00.0000000",
        "timeZone": "Romance Standard Time",
    }
    assert body["end"] == {
        "dateTime": "2027-03-30T00:00:00.0000000",
        "timeZone": "Romance Standard Time",
    }
    assert "attendees" not in body


def test_timed_leave_on_the_wall_clock():
    body = absence_payload(
        Absence(
            False,
            start=datetime(2027, 3, 28, 7),  # 09:00 in Brussels, after the DST change
            stop=datetime(2027, 3, 28, 11),
            time_zone="Europe/Brussels",
        )
    ).payload
    assert body["isAllDay"] is False
    assert body["start"]["dateTime"].startswith("2027-03-28T09:00")
    assert body["end"]["dateTime"].startswith("2027-03-28T13:00")


def test_same_leave_same_digest_and_a_change_changes_it():
    one = absence_payload(Absence(True, date(2027, 1, 4), date(2027, 1, 5)))
    again = absence_payload(Absence(True, date(2027, 1, 4), date(2027, 1, 5)))
    other = absence_payload(Absence(True, date(2027, 1, 4), date(2027, 1, 6)))
    assert one.hash == again.hash != other.hash


def test_a_leave_without_dates_is_refused():
    with pytest.raises(ValueError):
        absence_payload(Absence(True))


MON = date(2027, 1, 4)


def week(*places):
    return [(MON + timedelta(days=i), *p) for i, p in enumerate(places)]


HQ = (1, "office", "HQ")
HOME = (2, "home", "Home")
LAB = (3, "office", "Lab")
NONE = (None, None, None)


def test_stretches_join_consecutive_days_and_skip_the_default():
    days = week(HQ, HOME, HOME, LAB, HOME, NONE, NONE)
    found = stretches(days, default_id=1)
    assert [(s.first.day, s.last.day, s.subject) for s in found] == [
        (5, 6, "Remote work"),
        (7, 7, "Office: Lab"),
        (8, 8, "Remote work"),
    ]


def test_stretches_break_on_gaps_and_order_does_not_matter():
    days = week(HOME, HOME, HOME)
    del days[1]
    assert len(stretches(list(reversed(days)), default_id=None)) == 2


def test_location_payload_is_working_elsewhere_all_day():
    body = location_payload(
        Stretch(MON, MON + timedelta(days=1), "home", "Home", 2), "Europe/Paris"
    ).payload
    assert (body["showAs"], body["isAllDay"], body["subject"]) == (
        "workingElsewhere",
        True,
        "Remote work",
    )
    assert body["end"]["dateTime"].startswith("2027-01-06")


def slot(ident, hours, show_as="oof", all_day=False, categories=()):
    start = datetime(2027, 1, 4, 8, tzinfo=UTC)
    return BusySlot(
        ident, start, start + timedelta(hours=hours), show_as, tuple(categories), all_day
    )


def test_absence_candidates():
    found = absence_candidates(
        [
            slot("long", 5),
            slot("short", 1),
            slot("day", 24, all_day=True),
            slot("busy", 8, show_as="busy"),
            slot("ours", 8, categories=("Odoo",)),
            slot("long", 5),  # the same event twice (a page repeated): once
        ],
        timedelta(hours=4),
    )
    assert [s.event_id for s in found] == ["long", "day"]


def test_auto_replies_only_touch_what_odoo_set():
    from m365_graph.sync.absences import AutoReplies, plan_auto_replies

    a = datetime(2027, 1, 4, tzinfo=UTC)
    b = a + timedelta(days=2)
    off = AutoReplies("disabled")
    ours = AutoReplies("scheduled", a, b)
    users = AutoReplies("alwaysEnabled")
    assert plan_auto_replies(off, (a, b), None) == "schedule"
    assert plan_auto_replies(ours, (a, b), ours.key) == "keep"
    assert plan_auto_replies(ours, (a, b + timedelta(days=1)), ours.key) == "schedule"
    assert plan_auto_replies(ours, None, ours.key) == "disable"
    assert plan_auto_replies(users, (a, b), None) == "keep", "the user's own replies stay"
    assert plan_auto_replies(users, None, ours.key) == "keep"


def test_auto_replies_parse_documented_and_odd_shapes():
    from m365_graph.sync.absences import AutoReplies

    doc = {
        "automaticRepliesSetting": {
            "status": "scheduled",
            "externalAudience": "all",
            "scheduledStartDateTime": {
                "dateTime": "2016-03-14T07:00:00.0000000",
                "timeZone": "UTC",
            },
            "scheduledEndDateTime": {"dateTime": "2016-03-28T07:00:00.0000000", "timeZone": "UTC"},
        }
    }
    replies = AutoReplies.from_graph(doc)
    assert replies.start == datetime(2016, 3, 14, 7, tzinfo=UTC)
    assert AutoReplies.from_graph(None).status == "disabled"
    odd = {"automaticRepliesSetting": {"status": "scheduled", "scheduledStartDateTime": "x"}}
    assert AutoReplies.from_graph(odd).key is None
