"""``TenantState.tamper_event``: malformed items, as calendars written by other clients
return them, for the tests of busy-time validation."""

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


def test_tampered_properties_are_rendered_verbatim(sandbox, graph):
    event = sandbox.state.add_event(
        ADELE,
        "Review",
        datetime(2026, 11, 20, 9, tzinfo=UTC),
        datetime(2026, 11, 20, 10, tzinfo=UTC),
    )
    sandbox.state.tamper_event(
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


def test_tampered_removal_and_occurrences(sandbox, graph):
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
    sandbox.state.tamper_event(ADELE, master["id"], remove=("start",))
    items = graph.get(f"/users/{ADELE}/calendarView", params=WINDOW).json()["value"]
    assert len(items) == 3
    assert all("start" not in item and "end" in item for item in items)


def test_unknown_event_cannot_be_tampered(sandbox):
    with pytest.raises(KeyError):
        sandbox.state.tamper_event(ADELE, "no-such-event", showAs="free")
