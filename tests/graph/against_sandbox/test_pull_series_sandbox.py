"""Recurring series in a real-shaped calendarView/delta round against the sandbox:
masters missing from the round read in $batch, changed series re-read through their
instances (the pure completion rules are in ``tests/graph/unit/test_pull_series.py``)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from m365_graph.core.types import GraphEvent
from m365_graph.resources.calendar import calendar_view_delta
from m365_graph.resources.events import read_events
from m365_graph.resources.series import complete_series
from m365_graph.sync.personal import pull_window, scopes_for_direction
from m365_graph.sync.pull import (
    is_stub,
)

from .test_personal_sandbox import ADELE, MONDAY, NOW, delegated_client


@pytest.fixture
def down_account(sb, connect_account):
    sb.state.signed_in_user = ADELE
    return connect_account(scopes=scopes_for_direction("down"))


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
