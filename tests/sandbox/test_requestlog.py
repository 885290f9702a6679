"""The request log tests read to check what a client did."""

from .helpers import Graph

ADELE = "adele.vance@contoso.onmicrosoft.com"


def test_records_one_entry_per_request_with_details(sandbox):
    graph = Graph(sandbox)
    sandbox.log.clear()
    graph.get(
        f"/users/{ADELE}/calendarView",
        params={
            "startDateTime": "2026-11-01T00:00:00Z",
            "endDateTime": "2026-11-08T00:00:00Z",
            "$select": "start,end",
        },
        headers={"Prefer": 'outlook.timezone="UTC"', "client-request-id": "cr-1"},
    )
    graph.get("/users/nobody@contoso.onmicrosoft.com")
    assert len(sandbox.log) == 2
    view, missing = sandbox.log.records()
    assert view.method == "GET" and view.path == f"/v1.0/users/{ADELE}/calendarView"
    assert view.query == {
        "startDateTime": "2026-11-01T00:00:00Z",
        "endDateTime": "2026-11-08T00:00:00Z",
        "$select": "start,end",
    }
    assert (
        view.headers["prefer"] == 'outlook.timezone="UTC"'
        and view.headers["Client-Request-Id"] == "cr-1"
    )
    assert view.status == 200 and view.in_batch is False
    assert view.mailbox == sandbox.state.get_user(ADELE)["id"]
    assert view.request_id and view.duration >= 0
    assert missing.status == 404 and missing.mailbox is None


def test_count_filter_and_clear(sandbox):
    graph = Graph(sandbox)  # its token request is logged too
    assert sandbox.log.count(r"/oauth2/v2\.0/token$") == 1
    for _ in range(3):
        graph.get("/users")
    sandbox.faults.add(429, path=r"/users$")
    graph.get("/users")
    assert sandbox.log.count(r"^/v1\.0/users$") == 4
    assert sandbox.log.count(r"^/v1\.0/users$", status=429) == 1
    assert sandbox.log.count(in_batch=True) == 0
    assert sandbox.log[-1].fault == "status"
    sandbox.log.clear()
    assert len(sandbox.log) == 0 and list(sandbox.log) == []
