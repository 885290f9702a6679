"""Recurring series in a real-shaped calendarView/delta round: stubs completed from their
master (same round, or read in $batch), exceptions from their own item, changed series
re-read through their instances."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from m365_graph.core.types import GraphEvent
from m365_graph.resources.calendar import calendar_view_delta
from m365_graph.resources.events import read_events
from m365_graph.resources.series import complete_series
from m365_graph.sync.personal import pull_window, scopes_for_direction
from m365_graph.sync.pull import (
    NO_TITLE,
    fill_occurrence,
    is_stub,
    map_event,
    plan_pull,
    resolve_series,
)

from .test_personal_sandbox import ADELE, MONDAY, NOW, delegated_client


@pytest.fixture
def down_account(sb, connect_account):
    sb.state.signed_in_user = ADELE
    return connect_account(scopes=scopes_for_direction("down"))


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


def _weekly(state, subject, count, **props):
    return state.add_event(
        ADELE,
        subject,
        MONDAY,
        MONDAY + timedelta(hours=1),
        recurrence={
            "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
            "range": {
                "type": "numbered",
                "startDate": MONDAY.date().isoformat(),
                "numberOfOccurrences": count,
            },
        },
        **props,
    )


def test_masters_missing_from_the_round_are_read_in_batch(sb, config, policy, down_account):
    state = sb.state
    masters = [_weekly(state, f"Series {i}", 2, showAs="free") for i in range(25)]
    client = delegated_client(config, down_account, policy)
    start, end = pull_window(NOW, 30, 365)
    first = calendar_view_delta(client, "me", start, end)
    stubs = [e for e in first.items if is_stub(e)]
    assert len(stubs) == 50
    sb.log.clear()
    completed = complete_series(client, "me", stubs, start, end, reread=False)
    calls = [r for r in sb.log if r.batch_item_id is None]
    assert [r.path for r in calls] == ["/v1.0/$batch"] * 2, "25 masters: 20 + 5 per $batch"
    throttled = [r for r in sb.log if r.status == 429]
    assert not throttled, "4 dependsOn chains per batch stay within Outlook's concurrency"
    assert len(completed.items) == 50 and not completed.skipped
    names = {e.series_master_id: e.subject for e in completed.items}
    assert names == {m["id"]: m["subject"] for m in masters}
    assert {e.show_as for e in completed.items} == {"free"}


def test_an_incremental_round_rereads_changed_series(sb, config, policy, down_account):
    state = sb.state
    series = _weekly(state, "Standup", 4, categories=["Team"])
    client = delegated_client(config, down_account, policy)
    start, end = pull_window(NOW, 30, 365)
    first = calendar_view_delta(client, "me", start, end)
    occurrences = [e.id for e in first.items if e.event_type == "occurrence"]
    state.update_event(
        ADELE,
        occurrences[2],
        subject="Standup (moved)",
        start=MONDAY + timedelta(days=15),
        end=MONDAY + timedelta(days=15, hours=1),
    )
    state.update_event(ADELE, series["id"], subject="Daily standup")
    second = calendar_view_delta(client, "me", delta_link=first.delta_link)
    sb.log.clear()
    completed = complete_series(client, "me", second.items, start, end, reread=True)
    calls = [r for r in sb.log if r.batch_item_id is None]
    assert [r.path for r in calls] == ["/v1.0/$batch"], "one $batch for the instances"
    assert completed.instances[series["id"]] == set(occurrences)
    subjects = {e.id: e.subject for e in completed.items if e.event_type != "seriesMaster"}
    # Changing the series' subject keeps the exception (not its time); every occurrence
    # shows the new subject.
    assert set(subjects.values()) <= {"Daily standup", "Standup (moved)"}
    assert subjects[occurrences[0]] == "Daily standup"

    state.delete_event(ADELE, series["id"])
    third = calendar_view_delta(client, "me", delta_link=second.delta_link)
    assert series["id"] in {r.id for r in third.removed}
    completed = complete_series(client, "me", [], start, end, reread=True)
    assert completed.instances == {}


def test_reads_in_chains_survive_a_404_in_the_chain(sb, config, policy, down_account):
    state = sb.state
    events = [
        state.add_event(
            ADELE, f"E{i}", MONDAY + timedelta(days=i), MONDAY + timedelta(days=i, hours=1)
        )
        for i in range(12)
    ]
    for gone in (0, 5):  # heads and middles of the dependsOn chains
        state.delete_event(ADELE, events[gone]["id"])
    client = delegated_client(config, down_account, policy)
    sb.log.clear()
    answers = read_events(client, "me", [e["id"] for e in events])
    assert [e["id"] for e in events if answers[e["id"]] is None] == [
        events[0]["id"],
        events[5]["id"],
    ]
    assert all(
        isinstance(answers[e["id"]], GraphEvent) for i, e in enumerate(events) if i not in (0, 5)
    )
    assert not [r for r in sb.log if r.status == 429]
    # The 404s broke their chains: the rest of those chains were asked again.
    assert len([r for r in sb.log if r.path == "/v1.0/$batch"]) == 2
