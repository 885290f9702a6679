"""Recurring series: expansion, occurrences and exceptions, cancellation, instances."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from .helpers import Graph

ADELE = "adele.vance@contoso.onmicrosoft.com"
BERLIN = ZoneInfo("Europe/Berlin")


def _series(
    state, pattern, range_, start=datetime(2026, 10, 19, 9, 0, tzinfo=BERLIN), minutes=30, **props
):
    end = (
        start.replace(minute=start.minute + minutes)
        if minutes < 60
        else start.replace(hour=start.hour + minutes // 60)
    )
    return state.add_event(
        ADELE, "Series", start, end, recurrence={"pattern": pattern, "range": range_}, **props
    )


def _view(graph, start, end, **headers):
    items, _, _ = graph.follow(
        f"/users/{ADELE}/calendarView",
        params={"startDateTime": start, "endDateTime": end},
        headers={"Prefer": "odata.maxpagesize=100", **headers},
    )
    return items


def test_weekly_series_expands_to_occurrences_following_dst(sandbox):
    master = _series(
        sandbox.state,
        {"type": "weekly", "interval": 1, "daysOfWeek": ["monday", "wednesday"]},
        {
            "type": "endDate",
            "startDate": "2026-10-19",
            "endDate": "2026-11-04",
            "recurrenceTimeZone": "Europe/Berlin",
        },
    )
    assert master["type"] == "seriesMaster"
    assert master["recurrence"]["pattern"]["firstDayOfWeek"] == "sunday"
    assert master["recurrence"]["range"]["numberOfOccurrences"] == 0
    graph = Graph(sandbox)
    items = _view(graph, "2026-10-01T00:00:00Z", "2026-12-01T00:00:00Z")
    starts = [e["start"]["dateTime"] for e in items]
    # 09:00 Berlin is 07:00 UTC in summer time, 08:00 UTC after 25 October.
    assert starts == [
        "2026-10-19T07:00:00.0000000",
        "2026-10-21T07:00:00.0000000",
        "2026-10-26T08:00:00.0000000",
        "2026-10-28T08:00:00.0000000",
        "2026-11-02T08:00:00.0000000",
        "2026-11-04T08:00:00.0000000",
    ]
    assert {e["type"] for e in items} == {"occurrence"}
    assert {e["seriesMasterId"] for e in items} == {master["id"]}
    assert len({e["id"] for e in items}) == 6 and len({e["iCalUId"] for e in items}) == 6
    berlin = _view(
        graph,
        "2026-10-01T00:00:00Z",
        "2026-12-01T00:00:00Z",
        Prefer='outlook.timezone="Europe/Berlin"',
    )
    assert {e["start"]["dateTime"][11:16] for e in berlin} == {"09:00"}
    # The /events list shows the master only.
    listed = graph.get(f"/users/{ADELE}/events").json()["value"]
    assert [e["type"] for e in listed] == ["seriesMaster"]


@pytest.mark.parametrize(
    ("pattern", "range_", "expected"),
    [
        (
            {"type": "daily", "interval": 2},
            {"type": "numbered", "startDate": "2026-11-02", "numberOfOccurrences": 4},
            ["02", "04", "06", "08"],
        ),
        (
            {"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 15},
            {"type": "noEnd", "startDate": "2026-09-15"},
            ["15"],
        ),
        (
            {"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["thursday"], "index": "last"},
            {"type": "noEnd", "startDate": "2026-01-01"},
            ["26"],
        ),
        (
            {"type": "absoluteYearly", "interval": 1, "dayOfMonth": 11, "month": 11},
            {"type": "noEnd", "startDate": "2020-11-11"},
            ["11"],
        ),
        (
            {
                "type": "relativeYearly",
                "interval": 1,
                "daysOfWeek": ["monday"],
                "index": "first",
                "month": 11,
            },
            {"type": "noEnd", "startDate": "2024-01-01"},
            ["02"],
        ),
        (
            {
                "type": "weekly",
                "interval": 2,
                "daysOfWeek": ["tuesday"],
                "firstDayOfWeek": "monday",
            },
            {"type": "endDate", "startDate": "2026-11-03", "endDate": "2026-11-30"},
            ["03", "17"],
        ),
    ],
)
def test_patterns(sandbox, pattern, range_, expected):
    start = datetime.fromisoformat(range_["startDate"]).replace(hour=12, tzinfo=BERLIN)
    _series(sandbox.state, pattern, range_, start=start)
    items = _view(Graph(sandbox), "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z")
    assert [e["start"]["dateTime"][8:10] for e in items] == expected


def test_exception_cancellation_and_series_delete(sandbox):
    master = _series(
        sandbox.state,
        {"type": "daily", "interval": 1},
        {"type": "numbered", "startDate": "2026-11-02", "numberOfOccurrences": 5},
        start=datetime(2026, 11, 2, 9, 0, tzinfo=BERLIN),
    )
    graph = Graph(sandbox)
    window = ("2026-11-01T00:00:00Z", "2026-11-30T00:00:00Z")
    occurrences = _view(graph, *window)
    assert len(occurrences) == 5
    second, third = occurrences[1], occurrences[2]

    moved = graph.patch(
        f"/users/{ADELE}/events/{second['id']}",
        json={
            "subject": "Moved",
            "start": {"dateTime": "2026-11-03T15:00:00", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": "2026-11-03T15:30:00", "timeZone": "Europe/Berlin"},
        },
        headers={"If-Match": second["@odata.etag"]},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["type"] == "exception" and moved.json()["id"] == second["id"]
    assert moved.json()["changeKey"] != second["changeKey"]

    assert graph.delete(f"/users/{ADELE}/events/{third['id']}").status_code == 204
    items = _view(graph, *window)
    assert [(e["type"], e["subject"]) for e in items] == [
        ("occurrence", "Series"),
        ("exception", "Moved"),
        ("occurrence", "Series"),
        ("occurrence", "Series"),
    ]
    assert items[1]["start"]["dateTime"] == "2026-11-03T14:00:00.0000000"
    assert graph.get(f"/users/{ADELE}/events/{third['id']}").status_code == 404

    instances = graph.get(
        f"/users/{ADELE}/events/{master['id']}/instances",
        params={"startDateTime": window[0], "endDateTime": window[1]},
    ).json()["value"]
    assert [e["id"] for e in instances] == [e["id"] for e in items]

    assert graph.delete(f"/users/{ADELE}/events/{master['id']}").status_code == 204
    assert _view(graph, *window) == []


def test_instances_needs_window(sandbox):
    master = _series(
        sandbox.state,
        {"type": "daily", "interval": 1},
        {"type": "noEnd", "startDate": "2026-10-19"},
    )
    response = Graph(sandbox).get(f"/users/{ADELE}/events/{master['id']}/instances")
    assert response.status_code == 400


def test_changing_the_series_drops_exceptions(sandbox):
    master = _series(
        sandbox.state,
        {"type": "daily", "interval": 1},
        {"type": "numbered", "startDate": "2026-11-02", "numberOfOccurrences": 3},
        start=datetime(2026, 11, 2, 9, tzinfo=BERLIN),
    )
    graph = Graph(sandbox)
    first = _view(graph, "2026-11-01T00:00:00Z", "2026-11-30T00:00:00Z")[0]
    graph.patch(f"/users/{ADELE}/events/{first['id']}", json={"subject": "Changed"})
    graph.patch(
        f"/users/{ADELE}/events/{master['id']}",
        json={
            "recurrence": {
                "pattern": {"type": "daily", "interval": 1},
                "range": {"type": "numbered", "startDate": "2026-11-02", "numberOfOccurrences": 2},
            }
        },
    )
    items = _view(graph, "2026-11-01T00:00:00Z", "2026-11-30T00:00:00Z")
    assert [e["subject"] for e in items] == ["Series", "Series"]


def test_invalid_recurrence_is_400(sandbox):
    response = Graph(sandbox).post(
        f"/users/{ADELE}/events",
        json={
            "subject": "bad",
            "start": {"dateTime": "2026-11-02T09:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2026-11-02T10:00:00", "timeZone": "UTC"},
            "recurrence": {
                "pattern": {"type": "weekly", "interval": 1},
                "range": {"type": "noEnd", "startDate": "2026-11-02"},
            },
        },
    )
    assert response.status_code == 400
