"""JSON batching: limits, dependsOn, shuffled answers, per-item faults and throttling."""

from datetime import datetime, timezone

from m365_sandbox import Sandbox

from .helpers import Graph

UTC = timezone.utc
ADELE = "adele.vance@contoso.onmicrosoft.com"
MEGAN = "megan.bowen@contoso.onmicrosoft.com"
VIEW = "calendarView?startDateTime=2026-11-01T00:00:00Z&endDateTime=2026-12-01T00:00:00Z"


def _get(item_id, url, **extra):
    return {"id": item_id, "method": "GET", "url": url, **extra}


def test_more_than_20_requests_is_400(sandbox):
    graph = Graph(sandbox)
    response = graph.post("/$batch", json={"requests": [_get(str(i), "/users") for i in range(21)]})
    assert response.status_code == 400 and response.json()["error"]["code"] == "BadRequest"
    assert (
        graph.post(
            "/$batch", json={"requests": [_get(str(i), "/users") for i in range(20)]}
        ).status_code
        == 200
    )


def test_mixed_batch_answers_every_item(sandbox):
    sandbox.state.add_event(
        ADELE, "E", datetime(2026, 11, 3, 9, tzinfo=UTC), datetime(2026, 11, 3, 10, tzinfo=UTC)
    )
    graph = Graph(sandbox)
    requests = [
        _get("users", "/users?$select=displayName&$top=3"),
        _get(
            "view", f"/users/{ADELE}/{VIEW}", headers={"Prefer": 'outlook.timezone="Europe/Berlin"'}
        ),
        _get("missing", "users/ghost@contoso.onmicrosoft.com"),
        {
            "id": "create",
            "method": "POST",
            "url": f"/users/{MEGAN}/events",
            "headers": {"Content-Type": "application/json"},
            "body": {
                "subject": "via batch",
                "start": {"dateTime": "2026-11-05T09:00:00", "timeZone": "UTC"},
                "end": {"dateTime": "2026-11-05T10:00:00", "timeZone": "UTC"},
            },
        },
    ]
    response = graph.post("/$batch", json={"requests": requests})
    assert response.status_code == 200
    answers = {r["id"]: r for r in response.json()["responses"]}
    assert set(answers) == {"users", "view", "missing", "create"}
    assert answers["users"]["status"] == 200 and len(answers["users"]["body"]["value"]) == 3
    assert answers["users"]["body"]["@odata.nextLink"].startswith(sandbox.graph_url)
    assert answers["view"]["body"]["value"][0]["start"]["timeZone"] == "Europe/Berlin"
    assert answers["missing"]["status"] == 404
    assert answers["missing"]["body"]["error"]["code"] == "Request_ResourceNotFound"
    assert (
        answers["create"]["status"] == 201 and answers["create"]["body"]["subject"] == "via batch"
    )
    assert answers["create"]["headers"]["Content-Type"].startswith("application/json")


def test_write_item_without_content_type_is_400(sandbox):
    response = Graph(sandbox).post(
        "/$batch",
        json={
            "requests": [
                {
                    "id": "1",
                    "method": "POST",
                    "url": f"/users/{ADELE}/events",
                    "body": {"subject": "x"},
                }
            ]
        },
    )
    assert response.status_code == 400


def test_depends_on_orders_and_failed_dependency_is_424(sandbox):
    graph = Graph(sandbox)
    event = {
        "start": {"dateTime": "2026-11-05T09:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2026-11-05T10:00:00", "timeZone": "UTC"},
    }
    requests = [
        {"id": "3", "method": "GET", "url": f"/users/{ADELE}/{VIEW}", "dependsOn": ["2"]},
        {
            "id": "1",
            "method": "POST",
            "url": f"/users/{ADELE}/events",
            "headers": {"Content-Type": "application/json"},
            "body": {"subject": "first", **event},
        },
        {
            "id": "2",
            "method": "POST",
            "url": f"/users/{ADELE}/events",
            "headers": {"Content-Type": "application/json"},
            "body": {"subject": "second", **event},
            "dependsOn": ["1"],
        },
        {"id": "4", "method": "GET", "url": "/users/ghost@contoso.onmicrosoft.com"},
        {"id": "5", "method": "GET", "url": "/users", "dependsOn": ["4"]},
    ]
    answers = {
        r["id"]: r for r in graph.post("/$batch", json={"requests": requests}).json()["responses"]
    }
    assert [e["subject"] for e in answers["3"]["body"]["value"]] == ["first", "second"]
    assert answers["4"]["status"] == 404
    assert answers["5"]["status"] == 424
    bad = graph.post("/$batch", json={"requests": [_get("1", "/users", dependsOn=["9"])]})
    assert bad.status_code == 400


def test_answers_are_shuffled_deterministically(sandbox):
    requests = [_get(str(i), "/users?$top=1") for i in range(12)]
    orders = []
    for _ in range(2):
        with Sandbox(rng_seed=5) as sb:
            answers = Graph(sb).post("/$batch", json={"requests": requests}).json()["responses"]
            orders.append([a["id"] for a in answers])
    assert orders[0] == orders[1]
    assert orders[0] != [str(i) for i in range(12)]
    assert sorted(orders[0], key=int) == [str(i) for i in range(12)]


def test_429_inside_a_batch_with_its_own_retry_after(sandbox):
    sandbox.faults.add(429, path=r"/users/megan", in_batch=True, retry_after=7, times=1)
    graph = Graph(sandbox)
    requests = [_get("a", f"/users/{ADELE}/{VIEW}"), _get("m", f"/users/{MEGAN}/{VIEW}")]
    answers = {
        r["id"]: r for r in graph.post("/$batch", json={"requests": requests}).json()["responses"]
    }
    assert answers["a"]["status"] == 200
    assert answers["m"]["status"] == 429 and answers["m"]["headers"]["Retry-After"] == "7"
    assert answers["m"]["body"]["error"]["code"] == "TooManyRequests"
    # The same URL outside a batch is not affected by an in_batch fault.
    assert graph.get(f"/users/{MEGAN}/{VIEW}").status_code == 200


def test_items_to_one_mailbox_count_as_concurrent_requests(sandbox):
    graph = Graph(sandbox)
    requests = [_get(str(i), f"/users/{ADELE}/{VIEW}") for i in range(6)] + [
        _get("other", f"/users/{MEGAN}/{VIEW}")
    ]
    answers = {
        r["id"]: r for r in graph.post("/$batch", json={"requests": requests}).json()["responses"]
    }
    throttled = [a for a in answers.values() if a["status"] == 429]
    assert len(throttled) == 2 and answers["other"]["status"] == 200
    assert {a["body"]["error"]["code"] for a in throttled} == {"ApplicationThrottled"}
    assert all(a["headers"]["Retry-After"] == "1" for a in throttled)
    sandbox.faults.mailbox_concurrency = None
    answers = graph.post("/$batch", json={"requests": requests}).json()["responses"]
    assert {a["status"] for a in answers} == {200}


def test_depends_on_chains_share_one_mailbox_slot(sandbox):
    """Four chains of five items each: 20 requests to one mailbox, 4 at a time, no 429."""
    graph = Graph(sandbox)
    requests = [
        _get(str(i), f"/users/{ADELE}/{VIEW}", **({"dependsOn": [str(i - 4)]} if i >= 4 else {}))
        for i in range(20)
    ]
    answers = graph.post("/$batch", json={"requests": requests}).json()["responses"]
    assert {a["status"] for a in answers} == {200}
    # Five independent chains are five concurrent requests: the fifth chain is throttled.
    requests = [
        _get(str(i), f"/users/{ADELE}/{VIEW}", **({"dependsOn": [str(i - 5)]} if i >= 5 else {}))
        for i in range(10)
    ]
    answers = {
        a["id"]: a["status"]
        for a in graph.post("/$batch", json={"requests": requests}).json()["responses"]
    }
    assert answers["4"] == 429 and answers["9"] == 424
    assert [answers[str(i)] for i in (0, 1, 2, 3, 5, 6, 7, 8)] == [200] * 8


def test_batch_items_are_logged(sandbox):
    graph = Graph(sandbox)
    sandbox.log.clear()
    graph.post(
        "/$batch", json={"requests": [_get("1", f"/users/{ADELE}/{VIEW}"), _get("2", "/users")]}
    )
    assert sandbox.log.count(r"/\$batch$", in_batch=False) == 1
    items = sandbox.log.filter(in_batch=True)
    assert len(items) == 2
    view = next(r for r in items if r.path.endswith("/calendarView"))
    assert view.path == f"/v1.0/users/{ADELE}/calendarView"
    assert view.query["startDateTime"] == "2026-11-01T00:00:00Z"
    assert view.mailbox == sandbox.state.get_user(ADELE)["id"] and view.status == 200
    assert view.batch_item_id == "1"


def test_nested_batch_item_is_400(sandbox):
    answers = (
        Graph(sandbox)
        .post(
            "/$batch",
            json={
                "requests": [
                    {
                        "id": "1",
                        "method": "POST",
                        "url": "/$batch",
                        "headers": {"Content-Type": "application/json"},
                        "body": {"requests": []},
                    }
                ]
            },
        )
        .json()["responses"]
    )
    assert answers[0]["status"] == 400
