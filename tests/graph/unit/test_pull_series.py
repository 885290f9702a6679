"""Recurring series in a real-shaped calendarView/delta round: stubs completed from their
master (same round, or read in $batch), exceptions from their own item, changed series
re-read through their instances."""

from __future__ import annotations

from datetime import datetime

import pytest

from m365_graph.core.types import GraphEvent
from m365_graph.sync.pull import (
    NO_TITLE,
    fill_occurrence,
    is_stub,
    map_event,
    plan_pull,
    resolve_series,
)

MASTER = {
    "@odata.etag": 'W/"master-ck"',
    "id": "M1",
    "type": "seriesMaster",
    "changeKey": "master-ck",
    "iCalUId": "040000008200E00074C5B7101A82E008000000001",
    "subject": "Weekly review",
    "showAs": "tentative",
    "sensitivity": "private",
    "categories": ["Team"],
    "isAllDay": False,
    "isCancelled": False,
    "body": {"contentType": "html", "content": "<p>Agenda</p>"},
    "location": {"displayName": "Room 7"},
    "onlineMeeting": {"joinUrl": "https://teams.microsoft.com/l/meetup-join/abc"},
    "responseStatus": {"response": "tentativelyAccepted", "time": "0001-01-01T00:00:00Z"},
    "recurrence": {"pattern": {"type": "weekly"}},
    "start": {"dateTime": "2026-11-02T09:00:00.0000000", "timeZone": "UTC"},
    "end": {"dateTime": "2026-11-02T10:00:00.0000000", "timeZone": "UTC"},
}


def stub(day: int, master: str = "M1", etag: str = 'W/"master-ck"') -> GraphEvent:
    return GraphEvent.from_graph(
        {
            "@odata.type": "#microsoft.graph.event",
            "@odata.etag": etag,
            "id": f"{master}_occ{day}",
            "seriesMasterId": master,
            "type": "occurrence",
            "start": {"dateTime": f"2026-11-{day:02d}T09:00:00.0000000", "timeZone": "UTC"},
            "end": {"dateTime": f"2026-11-{day:02d}T10:00:00.0000000", "timeZone": "UTC"},
        }
    )


def test_a_stub_takes_its_content_from_the_master():
    occurrence = stub(9)
    assert is_stub(occurrence)
    assert occurrence.change_key == "master-ck", "a stub's version is its @odata.etag"
    full = fill_occurrence(occurrence, GraphEvent.from_graph(MASTER))
    assert not is_stub(full)
    assert (full.id, full.event_type, full.series_master_id) == ("M1_occ9", "occurrence", "M1")
    assert full.change_key == "master-ck", "the version is the stub's etag"
    assert full.ical_uid is None, "the master's iCalUId is not the occurrence's"
    assert full.raw.get("recurrence") is None
    pulled = map_event(full)
    values = pulled.values
    assert values["name"] == "Weekly review"
    assert values["start"] == datetime(2026, 11, 9, 9)
    assert (values["show_as"], values["privacy"]) == ("busy", "private")
    assert values["location"] == "Room 7"
    assert values["description"] == "<p>Agenda</p>"
    assert values["videocall_location"] == "https://teams.microsoft.com/l/meetup-join/abc"
    assert pulled.categories == ("Team",)
    assert pulled.attendee_state == "tentative"
    assert pulled.original_start == datetime(2026, 11, 9, 9)
    assert pulled.ical_uid is None and pulled.series_ical_uid == MASTER["iCalUId"]


def test_a_stub_of_another_series_is_refused():
    with pytest.raises(ValueError, match="not the series"):
        fill_occurrence(stub(9, master="M2"), GraphEvent.from_graph(MASTER))


def test_resolve_series_uses_the_round_and_names_missing_masters():
    exception = GraphEvent.from_graph(
        {**MASTER, "id": "M1_exc", "type": "exception", "seriesMasterId": "M1", "subject": "Moved"}
    )
    items = [GraphEvent.from_graph(MASTER), stub(9), stub(16), exception, stub(3, master="M2")]
    resolution = resolve_series(items)
    assert resolution.missing_masters == ["M2"]
    assert [e.id for e in resolution.waiting] == ["M2_occ3"]
    by_id = {e.id: e for e in resolution.items}
    assert by_id["M1_occ9"].subject == "Weekly review"
    assert by_id["M1_exc"].subject == "Moved", "an exception keeps its own content"
    # The master was read: completed. A 404 drops the stubs; an error skips them.
    other = GraphEvent.from_graph({**MASTER, "id": "M2", "subject": "Other"})
    done = resolve_series(items, {"M2": other})
    assert {e.id: e.subject for e in done.items}["M2_occ3"] == "Other"
    assert not done.missing_masters
    gone = resolve_series(items, {"M2": None})
    assert "M2_occ3" not in {e.id for e in gone.items} and not gone.skipped
    broken = resolve_series([stub(3, master="M2")], {"M2": RuntimeError("boom")})
    assert [s.id for s in broken.skipped] == ["M2_occ3"]


def test_plan_pull_never_names_a_filled_occurrence_no_title():
    items = resolve_series([GraphEvent.from_graph(MASTER), stub(9), stub(16)]).items
    plan = plan_pull(items, [], {})
    assert plan.ignored == 1  # the master
    assert [p.values["name"] for p in plan.create] == ["Weekly review"] * 2
    assert NO_TITLE not in {p.values["name"] for p in plan.create}
