"""$batch: splitting by 20, matching by id, retrying only throttled sub-requests."""

from __future__ import annotations

import pytest

from m365_graph.core.batch import plan_chunks
from m365_graph.core.client import GraphClient
from m365_graph.core.errors import BadResponse, PermissionMissing, Throttled
from m365_graph.core.types import BatchRequest

from ..fakes import FakeSession, FakeTokens, quick_policy, response

BASE = "https://graph.test/v1.0"


def get(i, **kw):
    return BatchRequest(str(i), "GET", f"/users/u{i}/calendarView", **kw)


def test_plan_chunks_splits_by_twenty_keeping_order():
    chunks = plan_chunks([get(i) for i in range(45)])
    assert [len(c) for c in chunks] == [20, 20, 5]
    assert [r.id for c in chunks for r in c] == [str(i) for i in range(45)]


def test_plan_chunks_keeps_dependency_groups_together():
    reqs = [get(i) for i in range(19)]
    reqs += [get(19), get(20, depends_on=("19",)), get(21, depends_on=("20",))]
    chunks = plan_chunks(reqs)
    assert [len(c) for c in chunks] == [19, 3]


def test_plan_chunks_rejects_bad_input():
    with pytest.raises(ValueError, match="unique"):
        plan_chunks([get(1), get(1)])
    with pytest.raises(ValueError, match="unknown"):
        plan_chunks([get(1, depends_on=("9",))])
    chain = [get(0)] + [get(i, depends_on=(str(i - 1),)) for i in range(1, 21)]
    with pytest.raises(ValueError, match="depend on each other"):
        plan_chunks(chain)


class BatchServer:
    """Answers $batch calls; ``script(id, attempt)`` gives (status, headers) per item."""

    def __init__(self, script, shuffle=True):
        self.script = script
        self.shuffle = shuffle
        self.attempts = {}
        self.batches = []

    def __call__(self, call):
        assert call.url == f"{BASE}/$batch"
        reqs = call.json["requests"]
        self.batches.append([r["id"] for r in reqs])
        out = []
        for r in reqs:
            n = self.attempts[r["id"]] = self.attempts.get(r["id"], 0) + 1
            status, headers = self.script(r["id"], n)
            out.append(
                {
                    "id": r["id"],
                    "status": status,
                    "headers": headers,
                    "body": {"value": [r["id"]]} if status == 200 else {"error": {"code": "X"}},
                }
            )
        if self.shuffle:
            out.reverse()
        return response(200, {"responses": out})


def run(server, reqs, max_attempts=4):
    policy, waits = quick_policy(max_attempts)
    client = GraphClient(FakeTokens(), BASE, session=FakeSession(server), retry=policy)
    return client, client.batch(reqs), waits


def test_batch_matches_out_of_order_responses_and_splits():
    server = BatchServer(lambda i, n: (200, {}))
    client, answers, _ = run(server, [get(i) for i in range(45)])
    assert [a.id for a in answers] == [str(i) for i in range(45)]
    assert all(a.body == {"value": [a.id]} for a in answers)
    assert [len(b) for b in server.batches] == [20, 20, 5]
    snap = client.counters.snapshot()
    assert (snap.requests, snap.batch_items) == (3, 45)


def test_only_throttled_items_retried_with_longest_retry_after():
    def script(ident, attempt):
        if ident in {"2", "5"} and attempt == 1:
            return 429, {"Retry-After": "3" if ident == "2" else "9"}
        if ident == "7" and attempt == 1:
            return 503, {}
        return 200, {}

    server = BatchServer(script)
    client, answers, waits = run(server, [get(i) for i in range(10)])
    assert server.batches[1] == ["2", "5", "7"]
    assert waits == [9.0]
    assert all(a.ok for a in answers)
    assert {a.id: a.attempts for a in answers if a.attempts > 1} == {"2": 2, "5": 2, "7": 2}
    snap = client.counters.snapshot()
    assert (snap.throttled, snap.retried, snap.batch_items) == (3, 3, 13)


def test_throttled_items_without_retry_after_back_off():
    server = BatchServer(lambda i, n: (429, {}) if n < 3 else (200, {}))
    _, answers, waits = run(server, [get(1)])
    assert len(waits) == 2
    assert 0.5 <= waits[0] <= 1 and 1 <= waits[1] <= 2
    assert answers[0].ok


def test_items_still_throttled_after_bound_are_returned_as_errors():
    server = BatchServer(lambda i, n: (429, {"Retry-After": "1"}) if i == "1" else (200, {}))
    client, answers, _waits = run(server, [get(0), get(1)], max_attempts=3)
    assert answers[0].ok
    assert answers[1].status == 429
    assert answers[1].attempts == 3
    err = answers[1].error(what="Reading the calendar of u1")
    assert isinstance(err, Throttled)
    assert err.retry_after == 1.0
    assert client.counters.snapshot().failed == 1


def test_permission_errors_are_not_retried_and_map_per_item():
    server = BatchServer(lambda i, n: (403, {}) if i == "1" else (200, {}))
    _, answers, waits = run(server, [get(0), get(1)])
    assert waits == []
    err = answers[1].error(permission="Calendars.ReadBasic.All")
    assert isinstance(err, PermissionMissing)
    assert "Calendars.ReadBasic.All" in str(err)


def test_unsafe_post_items_not_retried_on_5xx_but_on_429():
    def script(ident, attempt):
        return (500 if ident == "a" else 429, {}) if attempt == 1 else (200, {})

    server = BatchServer(script)
    reqs = [
        BatchRequest("a", "POST", "/me/events", body={}),
        BatchRequest("b", "POST", "/me/events", body={}),
    ]
    _, answers, _ = run(server, reqs)
    assert answers[0].status == 500
    assert answers[1].ok
    assert server.batches == [["a", "b"], ["b"]]


def test_failed_dependency_resent_with_its_dependency():
    def script(ident, attempt):
        if attempt == 1 and ident == "a":
            return 429, {}
        if attempt == 1 and ident == "b":
            return 424, {}
        return 200, {}

    server = BatchServer(script)
    reqs = [get("a"), BatchRequest("b", "GET", "/me", depends_on=("a",)), get("c")]
    _, answers, _ = run(server, reqs)
    assert all(a.ok for a in answers)
    assert server.batches == [["a", "b", "c"], ["a", "b"]]


def test_missing_responses_are_retried_then_fail_alone():
    calls = []

    def handler(call):
        calls.append([r["id"] for r in call.json["requests"]])
        return response(200, {"responses": [{"id": "0", "status": 200, "body": {}}]})

    policy, _ = quick_policy(max_attempts=3)
    client = GraphClient(FakeTokens(), BASE, session=FakeSession(handler), retry=policy)
    first, second = client.batch([get(0), get(1)])
    assert first.ok
    assert second.status == 502 and second.attempts == 3
    assert "no response for this request" in str(second.error())
    assert calls == [["0", "1"], ["1"], ["1"]]


def test_missing_response_of_a_post_is_not_resent():
    handler = FakeSession([response(200, {"responses": []})])
    policy, _ = quick_policy()
    client = GraphClient(FakeTokens(), BASE, session=handler, retry=policy)
    (answer,) = client.batch([BatchRequest("p", "POST", "/me/events", body={})])
    assert answer.status == 502 and len(handler.calls) == 1


def test_whole_batch_without_responses_list_is_bad_response():
    policy, _ = quick_policy()
    client = GraphClient(
        FakeTokens(), BASE, session=FakeSession([response(200, {"value": []})]), retry=policy
    )
    with pytest.raises(BadResponse, match="no 'responses' list"):
        client.batch([get(0)])


@pytest.mark.parametrize(
    "body",
    [
        {"responses": [{"id": "0", "status": "abc"}]},
        {"responses": [{"id": "0", "status": True}]},
        {"responses": [{"id": "0", "status": 99999}]},
        {"responses": [{"status": 200}]},
        {"responses": ["x"]},
        {"responses": [{"id": "0", "status": 200, "headers": ["no"]}, {"id": "0", "status": 500}]},
    ],
)
def test_malformed_sub_responses_stand_for_their_request_only(body):
    policy, _ = quick_policy(max_attempts=1)
    client = GraphClient(
        FakeTokens(), BASE, session=FakeSession([response(200, body)]), retry=policy
    )
    (answer,) = client.batch([get(0)])
    assert answer.status in (200, 502)
    if answer.status == 502:
        assert answer.error() is not None


def test_failed_dependency_after_a_refused_dependency_names_it():
    def script(ident, attempt):
        if ident == "a":
            return 403, {}
        if ident == "b":
            return 424, {}
        return 200, {}

    server = BatchServer(script)
    reqs = [get("a"), BatchRequest("b", "GET", "/me", depends_on=("a",)), get("c")]
    _, answers, _ = run(server, reqs)
    a, b, c = answers
    assert a.status == 403 and c.ok
    assert b.status == 424 and b.dependency == "a"
    assert "not run, because the request it depends on (request a) failed" in str(b.error())
    assert server.batches == [["a", "b", "c"]]


def test_failed_dependency_whose_dependency_succeeded_is_resent():
    def script(ident, attempt):
        if ident == "b" and attempt == 1:
            return 424, {}
        return 200, {}

    server = BatchServer(script)
    reqs = [get("a"), BatchRequest("b", "GET", "/me", depends_on=("a",))]
    _, answers, _ = run(server, reqs)
    assert all(x.ok for x in answers)
    assert server.batches == [["a", "b"], ["b"]]


def test_sub_requests_get_prefer_headers():
    server = BatchServer(lambda i, n: (200, {}))
    seen = []

    def handler(call):
        seen.extend(call.json["requests"])
        return server(call)

    policy, _ = quick_policy()
    client = GraphClient(FakeTokens(), BASE, session=FakeSession(handler), retry=policy)
    client.batch([get(0, headers={"Prefer": "odata.maxpagesize=5"})])
    assert seen[0]["headers"]["Prefer"] == (
        'IdType="ImmutableId", outlook.timezone="UTC", odata.maxpagesize=5'
    )
