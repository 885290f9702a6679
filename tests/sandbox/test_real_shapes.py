"""The sandbox answers in Graph's real shapes (each with its source in the sandbox code).

calendarView/delta: masters in full, occurrences as stubs without changeKey,
exceptions in full, a series never split across pages, a changed master resends
its series; error bodies with innerError; Retry-After as seconds or an HTTP date.
"""

from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import pytest

from m365_graph.core.retry import retry_after_from_headers

from .helpers import Graph

UTC = timezone.utc
ADELE = "adele.vance@contoso.onmicrosoft.com"
WINDOW = {"startDateTime": "2026-11-01T00:00:00Z", "endDateTime": "2026-12-01T00:00:00Z"}
STUB_KEYS = {"@odata.type", "@odata.etag", "id", "seriesMasterId", "type", "start", "end"}


@pytest.fixture
def graph(sandbox):
    return Graph(sandbox)


def _daily(state, subject, day, count, **props):
    return state.add_event(
        ADELE,
        subject,
        datetime(2026, 11, day, 8, tzinfo=UTC),
        datetime(2026, 11, day, 9, tzinfo=UTC),
        recurrence={
            "pattern": {"type": "daily", "interval": 1},
            "range": {
                "type": "numbered",
                "startDate": f"2026-11-{day:02d}",
                "numberOfOccurrences": count,
            },
        },
        **props,
    )


def _delta(graph, url=None, page=4):
    return graph.follow(
        url or f"/users/{ADELE}/calendarView/delta",
        params=None if url else WINDOW,
        headers={"Prefer": f"odata.maxpagesize={page}"},
    )


def test_first_round_lists_master_stubs_and_exceptions(sandbox, graph):
    state = sandbox.state
    series = _daily(state, "Daily", 2, 3, showAs="free", categories=["Team"])
    items, _pages, _link = _delta(graph, page=50)
    state.update_event(ADELE, items[2]["id"], subject="Daily (changed)")
    items, _pages, _link = _delta(graph, page=50)
    by_type = {}
    for item in items:
        by_type.setdefault(item["type"], []).append(item)
    (master,) = by_type["seriesMaster"]
    assert master["id"] == series["id"]
    assert master["subject"] == "Daily" and master["recurrence"]["pattern"]["type"] == "daily"
    assert master["changeKey"] and master["showAs"] == "free"
    assert len(by_type["occurrence"]) == 2
    for stub in by_type["occurrence"]:
        assert set(stub) == STUB_KEYS, "a stub: seven properties, no changeKey"
        assert stub["seriesMasterId"] == series["id"]
        assert stub["@odata.etag"] == f'W/"{master["changeKey"]}"'
    (exception,) = by_type["exception"]
    assert exception["subject"] == "Daily (changed)" and exception["changeKey"]
    assert exception["categories"] == ["Team"]


def test_a_series_is_never_split_across_pages(sandbox, graph):
    state = sandbox.state
    state.add_event(
        ADELE, "Before", datetime(2026, 11, 1, 7, tzinfo=UTC), datetime(2026, 11, 1, 8, tzinfo=UTC)
    )
    series = _daily(state, "Long", 3, 6)
    state.add_event(
        ADELE, "After", datetime(2026, 11, 20, 7, tzinfo=UTC), datetime(2026, 11, 20, 8, tzinfo=UTC)
    )
    _items, pages, _link = _delta(graph, page=4)
    sizes = [len(page["value"]) for page in pages]
    holding = [
        index
        for index, page in enumerate(pages)
        if any(
            item["id"] == series["id"] or item.get("seriesMasterId") == series["id"]
            for item in page["value"]
        )
    ]
    assert len(holding) == 1, "master and all its occurrences on one page"
    assert sizes[holding[0]] == 7, "a page grows beyond maxpagesize rather than split a series"
    assert sum(sizes) == 9


def test_a_changed_master_resends_its_series_and_a_cancellation_only_the_master(sandbox, graph):
    state = sandbox.state
    series = _daily(state, "Daily", 2, 4)
    items, _pages, link = _delta(graph)
    occurrences = [i["id"] for i in items if i["type"] == "occurrence"]
    state.update_event(ADELE, series["id"], subject="Daily standup")
    items, _pages, link = _delta(graph, link)
    assert [i["type"] for i in items] == ["seriesMaster"] + ["occurrence"] * 4
    assert items[0]["subject"] == "Daily standup"
    state.delete_event(ADELE, occurrences[1])
    items, _pages, link = _delta(graph, link)
    assert [(i["id"], i["type"]) for i in items] == [(series["id"], "seriesMaster")]
    instances = graph.get(f"/users/{ADELE}/events/{series['id']}/instances", params=WINDOW).json()
    assert occurrences[1] not in {i["id"] for i in instances["value"]}
    # /instances answers in full (what Odoo's microsoft_calendar relies on).
    assert all(i["subject"] == "Daily standup" and i["iCalUId"] for i in instances["value"])


def test_errors_carry_inner_error_with_request_id_and_date(sandbox, graph):
    response = graph.get(f"/users/{ADELE}/events/does-not-exist")
    assert response.status_code == 404
    inner = response.json()["error"]["innerError"]
    assert set(inner) >= {"request-id", "client-request-id", "date"}
    assert inner["request-id"] == response.headers["request-id"]
    datetime.strptime(inner["date"], "%Y-%m-%dT%H:%M:%S")


def test_retry_after_as_seconds_and_as_an_http_date(sandbox, graph):
    sandbox.faults.add(429, path=r"/users$", retry_after=7)
    sandbox.faults.add(503, path=r"/users$", retry_after=120, retry_after_date=True)
    seconds = graph.get("/users")
    dated = graph.get("/users")
    assert seconds.headers["Retry-After"] == "7"
    when = parsedate_to_datetime(dated.headers["Retry-After"])
    assert timedelta(seconds=100) < when - datetime.now(UTC) <= timedelta(seconds=121)
    # The engine reads both forms.
    assert retry_after_from_headers(seconds.headers) == 7
    assert 100 < retry_after_from_headers(dated.headers) <= 121
    assert graph.get("/users").status_code == 200
