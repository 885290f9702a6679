"""GraphClient against a scripted transport: headers, retries, bounds, error mapping."""

from __future__ import annotations

import pytest
import requests

from m365_graph.core.client import GraphClient
from m365_graph.core.errors import BadResponse, NotFound, PermissionMissing, Throttled, Transient

from ..fakes import FakeSession, FakeTokens, graph_error, quick_policy, response

BASE = "https://graph.test/v1.0"


def make_client(handler, max_attempts=4, kind="application"):
    policy, waits = quick_policy(max_attempts)
    session = FakeSession(handler)
    client = GraphClient(FakeTokens(kind), BASE, session=session, retry=policy)
    return client, session, waits


def test_prefer_headers_on_reads_and_writes():
    client, session, _ = make_client([response(200, {"id": "x"}), response(201, {"id": "y"})])
    client.request("GET", "/me", page_size=25)
    client.request("POST", "/me/events", json={"a": 1}, retry_safe=True)
    get, post = session.calls
    assert get.headers["Prefer"] == (
        'IdType="ImmutableId", outlook.timezone="UTC", odata.maxpagesize=25'
    )
    assert post.headers["Prefer"] == 'IdType="ImmutableId"'
    assert get.headers["Authorization"] == "Bearer token-1"
    assert get.headers["client-request-id"]
    assert get.url == f"{BASE}/me"
    assert get.timeout == client.timeout


def test_429_honours_retry_after_then_succeeds():
    client, _session, waits = make_client(
        [
            graph_error(429, "TooManyRequests", **{"Retry-After": "7"}),
            graph_error(503, "serviceNotAvailable", **{"Retry-After": "2"}),
            response(200, {"ok": True}),
        ]
    )
    assert client.get_json("/users") == {"ok": True}
    assert waits == [7.0, 2.0]
    snap = client.counters.snapshot()
    assert (snap.requests, snap.throttled, snap.retried, snap.failed) == (3, 2, 2, 0)


def test_429_without_retry_after_backs_off_exponentially():
    client, _, waits = make_client(
        [graph_error(429, "TooManyRequests")] * 3 + [response(200, {})], max_attempts=5
    )
    client.get_json("/users")
    assert len(waits) == 3
    for number, wait in enumerate(waits, start=1):
        step = 2 ** (number - 1)
        assert step / 2 <= wait <= step


def test_bounded_attempts_then_clear_throttled_error():
    client, session, waits = make_client(
        lambda call: graph_error(429, "TooManyRequests", **{"Retry-After": "1"}), max_attempts=3
    )
    with pytest.raises(Throttled) as info:
        client.get_json("/users/delta", what="Reading directory users")
    assert len(session.calls) == 3
    assert waits == [1.0, 1.0]
    assert info.value.attempts == 3
    assert info.value.retry_after == 1.0
    assert "Reading directory users" in str(info.value)
    assert "after 3 attempts" in str(info.value)
    assert client.counters.snapshot().failed == 1


def test_long_retry_after_is_not_waited_out():
    client, _session, waits = make_client(
        [graph_error(429, "TooManyRequests", **{"Retry-After": "3600"})]
    )
    with pytest.raises(Throttled) as info:
        client.get_json("/users")
    assert waits == []
    assert info.value.retry_after == 3600


def test_5xx_retried_for_get_but_not_for_unsafe_post():
    client, session, _ = make_client([graph_error(502, "badGateway"), response(200, {})])
    client.get_json("/users")
    assert len(session.calls) == 2

    client, session, _ = make_client([graph_error(502, "badGateway"), response(201, {})])
    with pytest.raises(Transient):
        client.request("POST", "/users/a/events", json={})
    assert len(session.calls) == 1


def test_429_retried_even_for_unsafe_post():
    client, session, _ = make_client([graph_error(429, "TooManyRequests"), response(201, {})])
    client.request("POST", "/users/a/sendMail", json={})
    assert len(session.calls) == 2


def test_dropped_connection_retried_only_when_safe():
    drop = requests.exceptions.ConnectionError("Connection aborted. RemoteDisconnected")
    client, session, _ = make_client([drop, response(201, {"id": "e"})])
    assert client.request("POST", "/me/events", json={}, retry_safe=True).body == {"id": "e"}
    assert len(session.calls) == 2

    client, session, _ = make_client([drop, response(201, {"id": "e"})])
    with pytest.raises(Transient, match="may have been applied"):
        client.request("POST", "/me/events", json={})
    assert len(session.calls) == 1


def test_connection_never_opened_is_retried_even_for_post():
    refused = requests.exceptions.ConnectionError("NewConnectionError: Failed to establish")
    client, session, _ = make_client([refused, response(201, {})])
    client.request("POST", "/me/events", json={})
    assert len(session.calls) == 2


def test_timeouts_exhausted_name_host_and_timeout():
    client, session, _waits = make_client(
        lambda call: requests.exceptions.ConnectTimeout("timed out"), max_attempts=2
    )
    with pytest.raises(Transient) as info:
        client.get_json("/users")
    assert "graph.test" in str(info.value)
    assert f"{client.timeout[0]:g} s" in str(info.value)
    assert len(session.calls) == 2


def test_401_refreshes_token_once():
    tokens_seen = []

    def handler(call):
        tokens_seen.append(call.headers["Authorization"])
        if len(tokens_seen) == 1:
            return graph_error(401, "InvalidAuthenticationToken")
        return response(200, {"v": 1})

    client, _, _ = make_client(handler)
    assert client.get_json("/me") == {"v": 1}
    assert client.token_provider.calls == [False, True]
    assert tokens_seen == ["Bearer token-1", "Bearer token-2"]


def test_persistent_401_is_permission_error():
    client, session, _ = make_client(lambda c: graph_error(401, "InvalidAuthenticationToken"))
    with pytest.raises(PermissionMissing):
        client.get_json("/me")
    assert len(session.calls) == 2


def test_403_names_permission():
    client, _, _ = make_client([graph_error(403, "ErrorAccessDenied")])
    with pytest.raises(PermissionMissing) as info:
        client.get_json("/users/x/calendarView", permission="Calendars.ReadBasic.All")
    assert info.value.permission == "Calendars.ReadBasic.All"


def test_404_not_found():
    client, _, _ = make_client([graph_error(404, "ErrorItemNotFound")])
    with pytest.raises(NotFound):
        client.get_json("/users/x/events/1")


@pytest.mark.parametrize(
    "resp",
    [
        response(200, raw=b"{not json"),
        response(200, raw=b"<html>proxy login</html>"),
        response(200, ["a", "list"]),
    ],
)
def test_malformed_bodies_are_bad_response(resp):
    client, _, _ = make_client([resp])
    with pytest.raises(BadResponse):
        client.get_json("/users")


def test_paging_follows_next_links_and_checks_shape():
    pages = [
        response(200, {"value": [1, 2], "@odata.nextLink": f"{BASE}/users?$skiptoken=a"}),
        response(200, {"value": [3], "@odata.nextLink": f"{BASE}/users?$skiptoken=b"}),
        response(200, {"value": [4]}),
    ]
    client, session, _ = make_client(pages)
    assert list(client.iter_items("/users", params={"$top": 2}, page_size=2)) == [1, 2, 3, 4]
    assert session.calls[0].params == {"$top": 2}
    assert session.calls[1].params is None
    assert session.calls[1].url == f"{BASE}/users?$skiptoken=a"
    assert all("odata.maxpagesize=2" in c.headers["Prefer"] for c in session.calls)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"values": []}, "value"),
        ({"value": {}}, "value"),
        ({"value": [], "@odata.nextLink": 5}, "@odata.nextLink"),
    ],
)
def test_page_shape_errors(body, field):
    client, _, _ = make_client([response(200, body)])
    with pytest.raises(BadResponse) as info:
        list(client.iter_pages("/users"))
    assert info.value.field == field


def test_next_link_to_another_host_is_refused():
    client, session, _ = make_client(
        [response(200, {"value": [], "@odata.nextLink": "https://evil.test/v1.0/users?x=1"})]
    )
    with pytest.raises(BadResponse, match="another host"):
        list(client.iter_pages("/users"))
    assert len(session.calls) == 1


def test_relative_links_for_batch():
    client, _, _ = make_client([])
    assert (
        client.relative(f"{BASE}/users/a/calendarView?$skip=10") == "/users/a/calendarView?$skip=10"
    )
    assert client.relative("/users") == "/users"
