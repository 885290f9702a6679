"""``TenantState.override_event_json`` on calendarView: malformed items, as calendars
written by other clients return them (busy-time validation), ``$select`` still applied."""

from datetime import datetime, timezone

import pytest

from .helpers import Graph

UTC = timezone.utc
ADELE = "adele.vance@contoso.onmicrosoft.com"
WINDOW = {
    "startDateTime": "2026-11-01T00:00:00Z",
    "endDateTime": "2026-12-01T00:00:00Z",
    "$select": "start,end,showAs,categories,isAllDay",
}


@pytest.fixture
def graph(sandbox):
    return Graph(sandbox)


def test_overridden_properties_are_rendered_verbatim(sandbox, graph):
    event = sandbox.state.add_event(
        ADELE,
        "Review",
        datetime(2026, 11, 20, 9, tzinfo=UTC),
        datetime(2026, 11, 20, 10, tzinfo=UTC),
    )
    sandbox.state.override_event_json(
        ADELE,
        event["id"],
        showAs="maybe",
        end={"dateTime": "2026-11-20T08:00:00.0000000", "timeZone": "UTC"},
    )
    (item,) = graph.get(f"/users/{ADELE}/calendarView", params=WINDOW).json()["value"]
    assert item["showAs"] == "maybe"
    assert item["end"]["dateTime"] == "2026-11-20T08:00:00.0000000"
    assert item["start"]["dateTime"] == "2026-11-20T09:00:00.0000000"
    assert "subject" not in item, "$select still applies"


def test_removed_property_and_occurrences(sandbox, graph):
    master = sandbox.state.add_event(
        ADELE,
        "Daily",
        datetime(2026, 11, 16, 9, tzinfo=UTC),
        datetime(2026, 11, 16, 10, tzinfo=UTC),
        recurrence={
            "pattern": {"type": "daily", "interval": 1},
            "range": {"type": "numbered", "startDate": "2026-11-16", "numberOfOccurrences": 3},
        },
    )
    sandbox.state.override_event_json(ADELE, master["id"], start=None)
    items = graph.get(f"/users/{ADELE}/calendarView", params=WINDOW).json()["value"]
    assert len(items) == 3
    assert all("start" not in item and "end" in item for item in items)


def test_unknown_event_cannot_be_overridden(sandbox):
    with pytest.raises(KeyError):
        sandbox.state.override_event_json(ADELE, "no-such-event", showAs="free")
