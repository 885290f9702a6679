"""m365_graph.sync.notifications: parsing, clientState checks, renewal spreading."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from m365_graph.sync.notifications import (
    MAX_BODY_BYTES,
    SAFE_EVENT_MINUTES,
    MalformedNotification,
    client_state_digest,
    client_state_matches,
    events_resource,
    lifecycle_action,
    mailbox_of_resource,
    new_client_state,
    parse_notifications,
    parse_subscription,
    pick_renewals,
    renewal_time,
    subscription_expiry,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)

# Microsoft's documented example (change-notifications-delivery-webhooks).
DOCUMENTED = {
    "value": [
        {
            "id": "lsgTZMr9KwAAA",
            "subscriptionId": "{subscription_guid}",
            "subscriptionExpirationDateTime": "2016-03-19T22:11:09.952Z",
            "clientState": "secretClientValue",
            "changeType": "created",
            "resource": "users/{user_guid}@{tenant_guid}/messages/{long_id_string}",
            "tenantId": "84bd8158-6d4d-4958-8b9f-9d6445542f95",
            "resourceData": {
                "@odata.type": "#Microsoft.Graph.Message",
                "@odata.id": "Users/{user_guid}@{tenant_guid}/Messages/{long_id_string}",
                "@odata.etag": 'W/"CQAAABYAAADkrWGo7bouTKlsgTZMr9KwAAAUWRHf"',
                "id": "{long_id_string}",
            },
        }
    ]
}


def test_documented_example_parses():
    (item,) = parse_notifications(json.dumps(DOCUMENTED).encode())
    assert item.subscription_id == "{subscription_guid}"
    assert item.client_state == "secretClientValue"
    assert item.change_type == "created"
    assert item.resource_id == "{long_id_string}"
    assert item.expires == datetime(2016, 3, 19, 22, 11, 9, 952000, tzinfo=timezone.utc)
    assert item.lifecycle_event is None


def test_lifecycle_example_parses():
    body = {
        "value": [
            {
                "lifecycleEvent": "reauthorizationRequired",
                "subscriptionId": "7a1a0f7b-2d2d-4a55-9f1c-2d4c5a7d8e9f",
                "subscriptionExpirationDateTime": "2026-03-03T10:00:00.0000000Z",
                "tenantId": "t",
                "clientState": "x",
            }
        ]
    }
    (item,) = parse_notifications(json.dumps(body))
    assert item.lifecycle_event == "reauthorizationRequired"
    assert lifecycle_action(item.lifecycle_event) == "reauthorize"
    assert lifecycle_action("subscriptionRemoved") == "recreate"
    assert lifecycle_action("missed") == "resync"
    assert lifecycle_action("<script>") is None


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[]", b'{"value": 3}', b'{"val": []}', b"\xff\xfe", b"[" * 100_000],
)
def test_malformed_bodies_are_refused(body):
    with pytest.raises(MalformedNotification):
        parse_notifications(body)


def test_huge_body_is_refused_before_parsing():
    with pytest.raises(MalformedNotification, match="larger"):
        parse_notifications(b" " * (MAX_BODY_BYTES + 1))


def test_bad_items_are_left_out_good_ones_kept():
    good = DOCUMENTED["value"][0]
    body = {"value": [1, None, {"subscriptionId": 5}, {"clientState": "x"}, good]}
    items = parse_notifications(json.dumps(body))
    assert [i.subscription_id for i in items] == ["{subscription_guid}"]


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=20,
    )
)
def test_any_json_value_either_parses_or_is_malformed(value):
    for candidate in (value, {"value": value}, {"value": [value]}):
        try:
            items = parse_notifications(json.dumps(candidate).encode())
        except MalformedNotification:
            continue
        assert all(isinstance(i.subscription_id, str) and i.subscription_id for i in items)


def test_client_state_check():
    secret = new_client_state()
    assert len(secret) >= 40 and secret != new_client_state()
    digest = client_state_digest(secret)
    assert secret not in digest
    assert client_state_matches(secret, digest)
    assert not client_state_matches(secret + "x", digest)
    assert not client_state_matches(None, digest)
    assert not client_state_matches("", digest)
    assert not client_state_matches(secret, None)


def test_resources():
    assert events_resource(None) == "me/events"
    assert events_resource("me") == "me/events"
    assert events_resource("abc") == "users/abc/events"
    assert mailbox_of_resource("Users/abc/Events/AAMk=") == "abc"
    assert mailbox_of_resource("users/abc/events/AAMk=") == "abc"
    assert mailbox_of_resource("/me/events") == "me"
    assert mailbox_of_resource("Users/abc/Messages/1") is None
    assert mailbox_of_resource(None) is None


def test_expiry_is_capped_at_what_graph_accepts():
    assert subscription_expiry(NOW) == NOW + timedelta(minutes=SAFE_EVENT_MINUTES)
    assert subscription_expiry(NOW, 99_999) == NOW + timedelta(minutes=SAFE_EVENT_MINUTES)
    assert subscription_expiry(NOW, 60) == NOW + timedelta(minutes=60)


def test_renewals_of_a_burst_are_spread():
    """10,000 subscriptions created in the same minute renew spread over ~42 hours."""
    lifetime = timedelta(minutes=SAFE_EVENT_MINUTES)
    expires = NOW + lifetime
    times = [renewal_time(f"sub-{n}", expires, lifetime) for n in range(10_000)]
    assert min(times) >= expires - lifetime / 2
    assert max(times) <= expires - lifetime / 4
    per_hour = Counter(t.replace(minute=0, second=0, microsecond=0) for t in times)
    assert len(per_hour) >= 40
    assert max(per_hour.values()) < 10_000 / 30
    # Stable: the same id renews at the same moment on every server.
    assert renewal_time("sub-1", expires, lifetime) == times[1]


def test_pick_renewals_caps_but_never_lets_one_lapse():
    soon = [(f"u{n}", NOW - timedelta(minutes=1), NOW + timedelta(hours=1)) for n in range(5)]
    later = [(f"l{n}", NOW - timedelta(minutes=1), NOW + timedelta(days=2)) for n in range(5)]
    not_due = [("x", NOW + timedelta(hours=1), NOW + timedelta(days=3))]
    picked = pick_renewals(later + soon + not_due, NOW, limit=2)
    assert picked == [f"u{n}" for n in range(5)]
    assert pick_renewals(later, NOW, limit=2) == ["l0", "l1"]


def test_subscription_parsing():
    sub = parse_subscription(
        {
            "id": "s1",
            "resource": "users/a/events",
            "changeType": "created,updated,deleted",
            "expirationDateTime": "2026-03-09T08:50:00.1234567Z",
        }
    )
    assert sub.expires == datetime(2026, 3, 9, 8, 50, 0, 123456, tzinfo=timezone.utc)
    with pytest.raises(ValueError):
        parse_subscription({"resource": "x"})
