"""Graph event → Odoo calendar values, and the pull plan of a delta round."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from m365_graph.core.errors import BadResponse, NotFound
from m365_graph.core.types import GraphEvent, Removed
from m365_graph.sync.pull import (
    NO_TITLE,
    LinkState,
    attendee_state,
    decide_removals,
    map_event,
    plan_pull,
    privacy_for,
    show_as_for,
)


def graph_event(event_id="E1", start="2026-03-05T09:00:00.0000000", end=None, zone="UTC", **extra):
    body = {
        "id": event_id,
        "subject": "Customer call",
        "changeKey": f"ck-{event_id}",
        "iCalUId": f"uid-{event_id}",
        "type": "singleInstance",
        "start": {"dateTime": start, "timeZone": zone},
        "end": {"dateTime": end or start.replace("T09", "T10"), "timeZone": zone},
    }
    body.update(extra)
    return GraphEvent.from_graph(body)


def test_timed_event_in_utc():
    pulled = map_event(graph_event())
    assert pulled.values["start"] == datetime(2026, 3, 5, 9, 0)
    assert pulled.values["stop"] == datetime(2026, 3, 5, 10, 0)
    assert pulled.values["allday"] is False
    assert pulled.values["name"] == "Customer call"
    assert pulled.ical_uid == "uid-E1"
    assert pulled.change_key == "ck-E1"


@pytest.mark.parametrize(
    ("zone", "hour"),
    [
        ("W. Europe Standard Time", 8),  # Windows name, CET in March (UTC+1)
        ("Europe/Berlin", 8),  # IANA name
        ("Pacific Standard Time", 17),  # UTC-8
        ("UTC", 9),
    ],
)
def test_time_zones_windows_and_iana(zone, hour):
    pulled = map_event(graph_event(zone=zone))
    assert pulled.values["start"] == datetime(2026, 3, 5, hour, 0)


def test_daylight_saving_time_follows_the_zone():
    # 30 March 2026: Europe is on summer time (UTC+2).
    pulled = map_event(graph_event(start="2026-03-30T09:00:00", zone="Romance Standard Time"))
    assert pulled.values["start"] == datetime(2026, 3, 30, 7, 0)


def test_unknown_time_zone_is_a_bad_item():
    with pytest.raises(BadResponse, match="unknown time zone"):
        graph_event(zone="Mars Standard Time")


def test_all_day_end_is_exclusive():
    one_day = map_event(
        graph_event(start="2026-03-05T00:00:00", end="2026-03-06T00:00:00", isAllDay=True)
    )
    assert one_day.values["allday"] is True
    assert one_day.values["start"].date() == date(2026, 3, 5)
    assert one_day.values["stop"].date() == date(2026, 3, 5)
    three_days = map_event(
        graph_event(start="2026-03-05T00:00:00", end="2026-03-08T00:00:00", isAllDay=True)
    )
    assert three_days.values["stop"].date() == date(2026, 3, 7)


def test_all_day_keeps_its_date_in_any_zone():
    # Midnight in Tokyo is the previous day in UTC: the date must not move.
    pulled = map_event(
        graph_event(
            start="2026-03-05T00:00:00",
            end="2026-03-06T00:00:00",
            zone="Tokyo Standard Time",
            isAllDay=True,
        )
    )
    assert pulled.values["start"].date() == date(2026, 3, 5)
    assert pulled.values["stop"].date() == date(2026, 3, 5)


def test_end_before_start_is_a_bad_item():
    with pytest.raises(BadResponse, match="ends before it starts"):
        map_event(graph_event(start="2026-03-05T10:00:00", end="2026-03-05T09:00:00"))
    with pytest.raises(BadResponse, match="ends before it starts"):
        map_event(
            graph_event(start="2026-03-05T00:00:00", end="2026-03-04T00:00:00", isAllDay=True)
        )


def test_zero_length_event_is_kept():
    pulled = map_event(graph_event(start="2026-03-05T09:00:00", end="2026-03-05T09:00:00"))
    assert pulled.values["start"] == pulled.values["stop"]


@pytest.mark.parametrize(
    ("show_as", "expected"),
    [
        ("free", "free"),
        ("workingElsewhere", "free"),
        ("tentative", "busy"),
        ("busy", "busy"),
        ("oof", "busy"),
        ("unknown", "busy"),
        (None, "busy"),
    ],
)
def test_show_as(show_as, expected):
    assert show_as_for(show_as) == expected


@pytest.mark.parametrize(
    ("sensitivity", "expected"),
    [("private", "private"), ("confidential", "private"), ("personal", False), ("normal", False)],
)
def test_private_stays_private(sensitivity, expected):
    assert privacy_for(sensitivity) == expected
    assert map_event(graph_event(sensitivity=sensitivity)).values["privacy"] == expected


def test_categories_location_meeting_url_and_body():
    pulled = map_event(
        graph_event(
            categories=["Customer", " Travel ", "Customer", ""],
            location={"displayName": "Room 1"},
            isOnlineMeeting=True,
            onlineMeeting={"joinUrl": "https://teams.microsoft.com/l/meetup-join/abc"},
            body={"contentType": "text", "content": "Agenda <b>\nline 2"},
        )
    )
    assert pulled.categories == ("Customer", "Travel")
    assert pulled.values["location"] == "Room 1"
    assert pulled.values["videocall_location"] == "https://teams.microsoft.com/l/meetup-join/abc"
    assert pulled.values["description"] == "<p>Agenda &lt;b&gt;<br/>line 2</p>"
    legacy = map_event(graph_event(onlineMeetingUrl="https://meet.example.com/x"))
    assert legacy.values["videocall_location"] == "https://meet.example.com/x"


def test_missing_optional_fields():
    pulled = map_event(graph_event(subject="  "))
    assert pulled.values["name"] == NO_TITLE
    assert pulled.values["location"] is False
    assert pulled.values["description"] is False
    assert pulled.values["videocall_location"] is False
    assert pulled.categories == ()


@pytest.mark.parametrize(
    ("response", "state"),
    [
        ("organizer", "accepted"),
        ("accepted", "accepted"),
        ("tentativelyAccepted", "tentative"),
        ("declined", "declined"),
        ("notResponded", "needsAction"),
        ("none", "needsAction"),
    ],
)
def test_attendance(response, state):
    assert attendee_state({"response": response}) == state
    assert attendee_state(None) == "accepted"


def test_occurrence_keeps_its_series():
    pulled = map_event(
        graph_event(
            "M_20260305T090000Z",
            type="occurrence",
            seriesMasterId="M",
            originalStart="2026-03-05T09:00:00Z",
        )
    )
    assert pulled.series_master_id == "M"
    assert pulled.event_type == "occurrence"
    assert pulled.original_start == datetime(2026, 3, 5, 9, 0)


# --------------------------------------------------------------------------- the plan


def known_after(pulled_list):
    return {
        p.graph_id: LinkState(p.graph_id, change_key=p.change_key, fingerprint=p.fingerprint)
        for p in pulled_list
    }


def test_plan_sorts_items():
    old = map_event(graph_event("A"))
    same_values = map_event(graph_event("B"))
    known = {
        "A": LinkState("A", change_key="old", fingerprint="something else"),
        "B": LinkState("B", change_key="old", fingerprint=same_values.fingerprint),
        "C": LinkState("C", change_key="ck-C", fingerprint="x"),
        "D": LinkState("D"),
        "X": LinkState("X"),
    }
    items = [
        graph_event("A"),
        graph_event("B"),
        graph_event("C"),
        graph_event("N"),
        graph_event("D", isCancelled=True),
        graph_event("Z", isCancelled=True),
        graph_event("S", type="seriesMaster"),
        GraphEvent.from_graph(
            {
                "id": "BAD",
                "start": {"dateTime": "2026-03-05T10:00:00", "timeZone": "UTC"},
                "end": {"dateTime": "2026-03-05T09:00:00", "timeZone": "UTC"},
            }
        ),
    ]
    plan = plan_pull(items, [Removed("X"), Removed("never-seen")], known)
    assert [p.graph_id for p in plan.update] == ["A"]
    assert plan.update[0].fingerprint == old.fingerprint
    assert [p.graph_id for p in plan.refresh] == ["B"]
    assert plan.unchanged == 1  # C: same change key, a replay
    assert [p.graph_id for p in plan.create] == ["N"]
    assert plan.delete == ["D"]
    assert plan.verify == ["X"]
    assert plan.ignored == 3  # Z cancelled but unknown, S series master, never-seen removal
    assert [s.id for s in plan.skipped] == ["BAD"]
    assert "ends before it starts" in plan.skipped[0].reason
    assert plan.writes == 4


event_strategy = st.builds(
    lambda ident, hour, minutes, show_as, sensitivity, cats, all_day, subject: graph_event(
        f"E{ident}",
        start=(
            f"2026-03-{1 + ident % 27:02d}T00:00:00"
            if all_day
            else f"2026-03-{1 + ident % 27:02d}T{hour:02d}:00:00"
        ),
        end=(
            f"2026-03-{1 + ident % 27:02d}T23:59:00"
            if not all_day
            else f"2026-03-{2 + ident % 27:02d}T00:00:00"
        ),
        showAs=show_as,
        sensitivity=sensitivity,
        categories=cats,
        isAllDay=all_day,
        subject=subject,
        changeKey=f"ck{minutes}",
    ),
    st.integers(0, 40),
    st.integers(0, 22),
    st.integers(0, 3),
    st.sampled_from(["free", "busy", "oof", "tentative", "workingElsewhere"]),
    st.sampled_from(["normal", "private", "personal", "confidential"]),
    st.lists(st.sampled_from(["A", "B", "C"]), max_size=3),
    st.booleans(),
    st.text(max_size=10),
)


@given(st.lists(event_strategy, max_size=30))
def test_a_second_identical_round_writes_nothing(events):
    """Property: after applying a round, replaying it plans no write at all."""
    first = plan_pull(events, [], {})
    known = known_after(first.create)
    second = plan_pull(events, [], known)
    assert second.writes == 0
    assert not second.create
    assert second.unchanged + len(second.skipped) == len({e.id for e in events})
    assert [s.id for s in second.skipped] == [s.id for s in first.skipped]


@given(event_strategy, st.permutations(["A", "B", "C"]))
def test_fingerprint_ignores_category_order(event, order):
    raw = dict(event.raw, categories=list(order))
    again = dict(event.raw, categories=list(reversed(order)))
    assert (
        map_event(GraphEvent.from_graph(raw)).fingerprint
        == map_event(GraphEvent.from_graph(again)).fingerprint
    )


def test_removals_are_checked_before_deleting():
    still_there = graph_event("MOVED", start="2027-06-01T09:00:00")
    cancelled = graph_event("CANCELLED", isCancelled=True)
    decision = decide_removals(
        {
            "GONE": None,
            "MOVED": still_there,
            "CANCELLED": cancelled,
            "FAILED": NotFound("boom"),
        }
    )
    assert decision.delete == ["GONE", "CANCELLED"]
    assert [e.id for e in decision.moved] == ["MOVED"]
    assert [s.id for s in decision.unknown] == ["FAILED"]
    assert "could not check" in decision.unknown[0].reason
