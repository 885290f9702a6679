"""calendarView/delta rounds: paging, changes, removals, expiry."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from .helpers import Graph, app_token

UTC = timezone.utc
ADELE = "adele.vance@contoso.onmicrosoft.com"
WINDOW = {"startDateTime": "2026-11-01T00:00:00Z", "endDateTime": "2026-12-01T00:00:00Z"}
PAGE = {"Prefer": "odata.maxpagesize=4"}


def _at(day, hour=9):
    return datetime(2026, 11, day, hour, tzinfo=UTC)


@pytest.fixture
def graph(sandbox):
    return Graph(sandbox)


def _round(graph, url, params=None):
    return graph.follow(url, params=params, headers=PAGE)


def test_first_round_pages_and_ends_with_delta_link(sandbox, graph):
    for day in range(1, 11):
        sandbox.state.add_event(ADELE, f"E{day}", _at(day), _at(day, 10))
    sandbox.state.add_event(
        ADELE,
        "outside",
        datetime(2026, 12, 5, 9, tzinfo=UTC),
        datetime(2026, 12, 5, 10, tzinfo=UTC),
    )
    items, pages, delta_link = _round(graph, f"/users/{ADELE}/calendarView/delta", WINDOW)
    assert len(pages) == 3 and [len(p["value"]) for p in pages] == [4, 4, 2]
    assert all("$skiptoken" in p["@odata.nextLink"] for p in pages[:-1])
    assert "$deltatoken" in delta_link
    assert sorted(e["subject"] for e in items) == sorted(f"E{d}" for d in range(1, 11))
    # Full events: delta can't $select, so it returns everything.
    assert "body" in items[0] and "attendees" in items[0]


def test_first_round_rejects_select_and_filter_and_needs_window(sandbox, graph):
    url = f"/users/{ADELE}/calendarView/delta"
    for extra in ({"$select": "subject"}, {"$filter": "showAs eq 'busy'"}):
        response = graph.get(url, params={**WINDOW, **extra})
        assert response.status_code == 400, extra
        assert "not supported with change tracking" in response.json()["error"]["message"]
    assert graph.get(url).status_code == 400


def test_later_rounds_report_changes_and_removals(sandbox, graph):
    state = sandbox.state
    keep = state.add_event(ADELE, "keep", _at(3), _at(3, 10))
    change = state.add_event(ADELE, "change", _at(4), _at(4, 10))
    delete = state.add_event(ADELE, "delete", _at(5), _at(5, 10))
    move = state.add_event(ADELE, "move out", _at(6), _at(6, 10))
    series = state.add_event(
        ADELE,
        "daily",
        _at(10, 8),
        _at(10, 8) + timedelta(minutes=15),
        recurrence={
            "pattern": {"type": "daily", "interval": 1},
            "range": {"type": "numbered", "startDate": "2026-11-10", "numberOfOccurrences": 3},
        },
    )
    items, _, delta_link = _round(graph, f"/users/{ADELE}/calendarView/delta", WINDOW)
    # 4 single events, the series master in full, its 3 occurrences as stubs.
    assert len(items) == 4 + 1 + 3
    series_items = [e for e in items if e["type"] != "singleInstance"]
    assert [e["type"] for e in series_items] == ["seriesMaster"] + ["occurrence"] * 3
    # Stubs: seven properties, the version only in the etag (no changeKey).
    assert set(series_items[1]) == {
        "@odata.type",
        "@odata.etag",
        "id",
        "seriesMasterId",
        "type",
        "start",
        "end",
    }
    occurrence_ids = [e["id"] for e in items if e["type"] == "occurrence"]

    # Nothing changed: an empty round (and a new deltaLink).
    items, _, delta_link = _round(graph, delta_link)
    assert items == []

    state.update_event(ADELE, change["id"], subject="changed")
    state.delete_event(ADELE, delete["id"])
    state.update_event(
        ADELE,
        move["id"],
        start=datetime(2027, 1, 6, 9, tzinfo=UTC),
        end=datetime(2027, 1, 6, 10, tzinfo=UTC),
    )
    state.delete_event(ADELE, occurrence_ids[1])
    new = state.add_event(ADELE, "new", _at(20), _at(20, 10))
    state.add_event(
        ADELE,
        "new but outside",
        datetime(2027, 2, 1, tzinfo=UTC),
        datetime(2027, 2, 1, 1, tzinfo=UTC),
    )
    items, _, delta_link = _round(graph, delta_link)
    updated = {e["id"]: e for e in items if "@removed" not in e}
    removed = {e["id"]: e["@removed"] for e in items if "@removed" in e}
    assert updated[change["id"]]["subject"] == "changed"
    assert new["id"] in updated
    assert keep["id"] not in updated and keep["id"] not in removed
    assert removed == {
        delete["id"]: {"reason": "deleted"},
        move["id"]: {"reason": "deleted"},
    }
    # A cancelled occurrence is not reported: only its master comes again, in full.
    assert set(updated) == {change["id"], new["id"], series["id"]}
    assert updated[series["id"]]["type"] == "seriesMaster"
    assert updated[series["id"]]["subject"] == "daily"

    state.delete_event(ADELE, series["id"])
    items, _, _ = _round(graph, delta_link)
    assert {e["id"] for e in items} == {series["id"], occurrence_ids[0], occurrence_ids[2]}
    assert all(e["@removed"] == {"reason": "deleted"} for e in items)


def test_changed_occurrence_is_reported_as_exception(sandbox, graph):
    state = sandbox.state
    state.add_event(
        ADELE,
        "weekly",
        datetime(2026, 11, 2, 9, tzinfo=ZoneInfo("Europe/Berlin")),
        datetime(2026, 11, 2, 10, tzinfo=ZoneInfo("Europe/Berlin")),
        recurrence={
            "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
            "range": {"type": "noEnd", "startDate": "2026-11-02"},
        },
    )
    items, _, delta_link = _round(graph, f"/users/{ADELE}/calendarView/delta", WINDOW)
    assert [e["type"] for e in items] == ["seriesMaster"] + ["occurrence"] * 5
    target = items[3]
    state.update_event(ADELE, target["id"], showAs="oof")
    items, _, _ = _round(graph, delta_link)
    assert [(e["id"], e["type"], e["showAs"]) for e in items] == [
        (target["id"], "exception", "oof")
    ]


def test_me_delta_with_delegated_token(sandbox):
    sandbox.state.add_event(ADELE, "mine", _at(3), _at(3, 10))
    graph = Graph(sandbox, sandbox.issue_user_token(ADELE, ["Calendars.Read"]))
    items, _, delta_link = graph.follow("/me/calendarView/delta", params=WINDOW)
    assert [e["subject"] for e in items] == ["mine"] and delta_link.startswith(
        f"{sandbox.graph_url}/me/"
    )


def test_expired_and_invalidated_tokens_are_410(sandbox, graph):
    sandbox.state.add_event(ADELE, "x", _at(3), _at(3, 10))
    for index in range(6):
        sandbox.state.add_event(ADELE, f"y{index}", _at(4 + index), _at(4 + index, 10))
    first_page = graph.get(f"/users/{ADELE}/calendarView/delta", params=WINDOW, headers=PAGE).json()
    next_link = first_page["@odata.nextLink"]
    _, _, delta_link = _round(graph, f"/users/{ADELE}/calendarView/delta", WINDOW)
    sandbox.state.expire_delta_tokens()
    for link in (delta_link, next_link):
        response = graph.get(link)
        assert response.status_code == 410
        # Outlook's own spelling and message (microsoft-graph-docs#2350).
        assert response.json()["error"]["code"] == "SyncStateNotFound"
        assert "sync state generation is not found" in response.json()["error"]["message"]
    # A new round works, and its token expires after 7 days on the sandbox clock.
    _, _, delta_link = _round(graph, f"/users/{ADELE}/calendarView/delta", WINDOW)
    assert graph.get(delta_link).status_code == 200
    sandbox.state.advance_clock(8 * 86400)
    assert graph.get(delta_link).status_code == 401  # the access token expired too
    graph.token = app_token(sandbox)
    assert graph.get(delta_link).status_code == 410


def test_token_of_another_mailbox_is_rejected(sandbox, graph):
    _, _, delta_link = _round(graph, f"/users/{ADELE}/calendarView/delta", WINDOW)
    token = delta_link.split("$deltatoken=")[1]
    other = graph.get(
        "/users/megan.bowen@contoso.onmicrosoft.com/calendarView/delta",
        params={"$deltatoken": token},
    )
    assert other.status_code == 410
    assert (
        graph.get(
            f"/users/{ADELE}/calendarView/delta", params={"$deltatoken": "garbage"}
        ).status_code
        == 410
    )


def test_changes_between_pages_never_skip_unchanged_events(sandbox, graph):
    state = sandbox.state
    created = [
        state.add_event(ADELE, f"E{day:02d}", _at(day), _at(day, 10)) for day in range(1, 13)
    ]
    first = graph.get(f"/users/{ADELE}/calendarView/delta", params=WINDOW, headers=PAGE).json()
    seen = {e["id"] for e in first["value"]}
    # Between pages: an early event is deleted and another moved to the front.
    state.delete_event(ADELE, created[0]["id"])
    state.update_event(ADELE, created[10]["id"], start=_at(1, 5), end=_at(1, 6))
    rest, _, delta_link = _round(graph, first["@odata.nextLink"])
    seen |= {e["id"] for e in rest}
    unchanged = {e["id"] for e in created[1:10]} | {created[11]["id"]}
    assert unchanged <= seen
    # What changed during the round comes in the next one.
    items, _, _ = _round(graph, delta_link)
    assert {e["id"] for e in items} >= {created[10]["id"]}


def test_overridden_json_is_rendered_and_reported_as_a_change(sandbox, graph):
    single = sandbox.state.add_event(ADELE, "Imported", _at(3), _at(3, 10))
    series = sandbox.state.add_event(
        ADELE,
        "Daily",
        _at(10),
        _at(10, 10),
        recurrence={
            "pattern": {"type": "daily", "interval": 1},
            "range": {"type": "numbered", "startDate": "2026-11-10", "numberOfOccurrences": 2},
        },
    )
    _items, _pages, delta_link = _round(graph, f"/users/{ADELE}/calendarView/delta", WINDOW)
    sandbox.state.override_event_json(
        ADELE, single["id"], end={"dateTime": "2026-11-02T09:00:00", "timeZone": "UTC"}
    )
    sandbox.state.override_event_json(
        ADELE, series["id"], start={"dateTime": "2026-11-10T09:00:00", "timeZone": "Mars"}
    )
    items, _pages, _link = _round(graph, delta_link)
    by_id = {item["id"]: item for item in items}
    assert by_id[single["id"]]["end"]["dateTime"] == "2026-11-02T09:00:00"
    occurrences = [item for item in items if item.get("seriesMasterId") == series["id"]]
    assert len(occurrences) == 2
    assert all(item["start"]["timeZone"] == "Mars" for item in occurrences)
    sandbox.state.override_event_json(ADELE, single["id"], subject=None)
    answer = graph.get(f"/users/{ADELE}/events/{single['id']}")
    assert answer.status_code == 200
    assert "subject" not in answer.json()
    assert answer.json()["end"]["dateTime"] == "2026-11-02T09:00:00"
    with pytest.raises(ValueError):
        sandbox.state.override_event_json(ADELE, occurrences[0]["id"], subject="x")
