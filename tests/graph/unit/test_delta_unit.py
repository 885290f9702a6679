"""Delta rounds against a scripted transport: merging, removals, expiry, interruption."""

from __future__ import annotations

import pytest
import requests

from m365_graph.core.client import GraphClient
from m365_graph.core.errors import PermissionMissing, SyncStateExpired, Transient
from m365_graph.core.types import USER_SELECT, GraphUser
from m365_graph.resources.users import users_delta

from ..fakes import FakeSession, FakeTokens, graph_error, quick_policy, response

BASE = "https://graph.test/v1.0"


def page(items, next_token=None, delta_token=None):
    body = {"value": items}
    if next_token:
        body["@odata.nextLink"] = f"{BASE}/users/delta?$skiptoken={next_token}"
    if delta_token:
        body["@odata.deltaLink"] = f"{BASE}/users/delta?$deltatoken={delta_token}"
    return response(200, body)


def client_for(script, max_attempts=3):
    policy, _ = quick_policy(max_attempts)
    session = FakeSession(script)
    return GraphClient(FakeTokens(), BASE, session=session, retry=policy), session


def test_round_merges_duplicates_and_collects_removals():
    client, session = client_for(
        [
            page(
                [{"id": "a", "displayName": "A"}, {"id": "b", "displayName": "B"}], next_token="1"
            ),
            page(
                [
                    {"id": "a", "jobTitle": "Boss"},
                    {"id": "c", "@removed": {"reason": "changed"}},
                    {"id": "b", "@removed": {"reason": "deleted"}},
                    {"displayName": "no id"},
                ],
                delta_token="D1",
            ),
        ]
    )
    result = users_delta(client)
    assert result.complete
    assert result.delta_link.endswith("$deltatoken=D1")
    assert result.pages == 2
    assert result.items == [
        GraphUser.from_graph({"id": "a", "displayName": "A", "jobTitle": "Boss"})
    ]
    assert {(r.id, r.reason) for r in result.removed} == {("c", "changed"), ("b", "deleted")}
    assert len(result.skipped) == 1
    assert session.calls[0].params == {"$select": ",".join(USER_SELECT)}
    assert session.calls[1].params is None


def test_malformed_item_is_skipped_and_named():
    client, _ = client_for([page([{"id": "a", "mail": 42}, {"id": "b"}], delta_token="D")])
    result = users_delta(client)
    assert [u.id for u in result.items] == ["b"]
    assert result.skipped[0].id == "a"
    assert "mail" in result.skipped[0].reason


def test_expired_delta_link_restarts_a_baseline():
    client, session = client_for(
        [graph_error(410, "syncStateNotFound"), page([{"id": "a"}], delta_token="NEW")]
    )
    result = users_delta(client, f"{BASE}/users/delta?$deltatoken=OLD")
    assert result.restarted
    assert result.delta_link.endswith("NEW")
    assert session.calls[0].url.endswith("OLD")
    assert session.calls[1].url == f"{BASE}/users/delta"


def test_expired_delta_link_raises_when_asked():
    client, _ = client_for([response(400, {"error": {"code": "fullSyncRequired", "message": "x"}})])
    with pytest.raises(SyncStateExpired):
        users_delta(client, f"{BASE}/users/delta?$deltatoken=OLD", restart_on_expired=False)


def test_interrupted_round_returns_resume_link():
    drop = requests.exceptions.ConnectionError("reset")
    client, _ = client_for([page([{"id": "a"}], next_token="P2")] + [drop] * 3, max_attempts=3)
    result = users_delta(client)
    assert not result.complete
    assert isinstance(result.error, Transient)
    assert result.delta_link is None
    assert result.next_link.endswith("$skiptoken=P2")
    assert [u.id for u in result.items] == ["a"]

    client, session = client_for([page([{"id": "b"}], delta_token="D2")])
    resumed = users_delta(client, resume_link=result.next_link)
    assert session.calls[0].url == result.next_link
    assert resumed.complete


def test_failure_on_first_page_raises():
    client, _ = client_for([graph_error(403, "Authorization_RequestDenied")])
    with pytest.raises(PermissionMissing) as info:
        users_delta(client)
    assert info.value.permission == "User.Read.All"


def test_page_without_any_link_is_bad_response():
    client, _ = client_for([page([{"id": "a"}])])
    from m365_graph.core.errors import BadResponse

    with pytest.raises(BadResponse, match="neither a next link nor a delta link"):
        users_delta(client)
