"""GraphClient features against the sandbox over HTTPS (env CA bundle hostile)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from m365_graph.core.errors import (
    BadResponse,
    NotFound,
    PermissionMissing,
    PreconditionFailed,
    SyncStateExpired,
    Throttled,
)
from m365_graph.identity.clients import GraphClient
from m365_graph.resources.busytime import read_busy_times
from m365_graph.resources.calendar import calendar_view, calendar_view_delta
from m365_graph.resources.events import (
    create_event,
    delete_event,
    get_event,
    update_event,
)
from m365_graph.resources.users import users_delta
from m365_graph.sync.push import event_payload

UTC = timezone.utc
MONDAY = datetime(2026, 3, 2, tzinfo=UTC)
WINDOW = (MONDAY, MONDAY + timedelta(days=7))


def upn(sb, index):
    return sb.state.users[index]["userPrincipalName"]


def members_with_mailbox(sb):
    return [
        u["userPrincipalName"]
        for u in sb.state.users
        if u.get("userType") == "Member" and u["displayName"] not in {"Isaiah Langer"}
    ]


def add_events(sb, user, count, day=0):
    ids = []
    for n in range(count):
        start = MONDAY + timedelta(days=day + n % 5, hours=8 + n % 8, minutes=(n // 40) * 5)
        ids.append(
            sb.state.add_event(user, f"Meeting {n}", start, start + timedelta(minutes=30))["id"]
        )
    return ids


# --------------------------------------------------------------------------- paging


def test_paging_users_over_many_pages_with_prefer_headers(sb, app_client):
    users = list(app_client.iter_items("/users", params={"$select": "id"}, page_size=2))
    assert sorted(u["id"] for u in users) == sorted(u["id"] for u in sb.state.users)
    requests = sb.log.filter(r"^/v1\.0/users$")
    assert len(requests) >= 3
    for record in requests:
        prefer = record.headers.get("Prefer")
        assert 'IdType="ImmutableId"' in prefer
        assert 'outlook.timezone="UTC"' in prefer
        assert "odata.maxpagesize=2" in prefer


def test_calendar_view_three_pages_utc_slots(sb, app_client):
    user = upn(sb, 0)
    ids = add_events(sb, user, 25)
    sb.state.add_event(user, "Outside", MONDAY - timedelta(days=3), MONDAY - timedelta(days=2))
    slots = calendar_view(app_client, user, *WINDOW, page_size=10)
    assert sorted(s.event_id for s in slots) == sorted(ids)
    assert all(s.start.tzinfo is not None and s.start.utcoffset() == timedelta(0) for s in slots)
    assert sb.log.count(r"/calendarView$", in_batch=False) == 3
    query = sb.log.filter(r"/calendarView$")[0].query
    assert (
        query["$select"] == "start,end,showAs,categories,isAllDay,sensitivity,type,responseStatus"
    )


def test_immutable_ids_requested_on_writes(sb, app_client):
    user = upn(sb, 0)
    create_event(
        app_client,
        user,
        event_payload("x", MONDAY, MONDAY + timedelta(hours=1)),
        transaction_id="t-1",
    )
    record = sb.log.filter(r"/events$", method="POST")[0]
    assert record.headers.get("Prefer") == 'IdType="ImmutableId"'


# --------------------------------------------------------------------------- delta


def test_users_delta_rounds_with_changes_and_removals(sb, app_client):
    first = users_delta(app_client, page_size=3)
    assert first.complete and first.pages >= 3
    assert {u.id for u in first.items} == {u["id"] for u in sb.state.users}
    assert first.removed == []

    new = sb.state.add_user("Nina Neu", job_title="Intern")
    sb.state.update_user(upn(sb, 1), jobTitle="Chief Marketing Officer")
    gone = sb.state.users[2]
    sb.state.remove_user(gone["id"])
    soft = sb.state.users[3]
    sb.state.remove_user(soft["id"], reason="changed")

    second = users_delta(app_client, first.delta_link)
    changed = {u.id: u for u in second.items}
    assert set(changed) == {new["id"], sb.state.get_user(upn(sb, 1))["id"]}
    assert changed[new["id"]].job_title == "Intern"
    assert "jobTitle" in changed[sb.state.get_user(upn(sb, 1))["id"]].present
    assert {(r.id, r.reason) for r in second.removed} == {
        (gone["id"], "deleted"),
        (soft["id"], "changed"),
    }

    third = users_delta(app_client, second.delta_link)
    assert third.items == [] and third.removed == []


def test_users_delta_410_recovery_replays_a_baseline(sb, app_client):
    first = users_delta(app_client)
    sb.state.expire_delta_tokens()
    with pytest.raises(SyncStateExpired):
        users_delta(app_client, first.delta_link, restart_on_expired=False)
    again = users_delta(app_client, first.delta_link)
    assert again.restarted and again.complete
    # Replays: every user comes again.
    assert {u.id for u in again.items} == {u.id for u in first.items}


def test_calendar_view_delta_changes_removals_and_expiry(sb, app_client):
    user = upn(sb, 0)
    ids = add_events(sb, user, 12)
    first = calendar_view_delta(app_client, user, *WINDOW, page_size=5)
    assert first.complete and first.pages == 3
    assert sorted(e.id for e in first.items) == sorted(ids)

    sb.state.update_event(user, ids[0], subject="Renamed")
    sb.state.delete_event(user, ids[1])
    sb.state.update_event(
        user, ids[2], start=MONDAY + timedelta(days=30), end=MONDAY + timedelta(days=30, hours=1)
    )
    second = calendar_view_delta(app_client, user, delta_link=first.delta_link)
    assert [(e.id, e.subject) for e in second.items] == [(ids[0], "Renamed")]
    assert {r.id for r in second.removed} == {ids[1], ids[2]}

    sb.state.expire_delta_tokens()
    third = calendar_view_delta(app_client, user, *WINDOW, delta_link=second.delta_link)
    assert third.restarted
    assert {e.id for e in third.items} == set(ids) - {ids[1], ids[2]}
    with pytest.raises(SyncStateExpired):
        calendar_view_delta(app_client, user, delta_link=second.delta_link)


# --------------------------------------------------------------------------- throttling


def test_429_with_retry_after_outside_batch(sb, app_client, waits):
    sb.faults.add(status=429, path=r"^/v1\.0/users$", times=2, retry_after=3)
    assert len(list(app_client.iter_items("/users"))) == len(sb.state.users)
    assert waits == [3.0, 3.0]
    assert sb.log.count(r"^/v1\.0/users$") == 3
    snap = app_client.counters.snapshot()
    assert (snap.throttled, snap.retried) == (2, 2)


def test_429_without_retry_after_and_503_back_off(sb, app_client, waits):
    sb.faults.add(status=429, path=r"^/v1\.0/users/delta", times=1)
    sb.faults.add(status=503, path=r"^/v1\.0/users/delta", times=1)
    assert users_delta(app_client).complete
    assert len(waits) == 2
    assert 0.5 <= waits[0] <= 1.0 and 1.0 <= waits[1] <= 2.0


def test_bounded_retries_then_clear_error(sb, app_client, waits):
    sb.faults.add(status=429, path=r"^/v1\.0/users/delta", times=None, retry_after=1)
    with pytest.raises(Throttled) as info:
        users_delta(app_client)
    assert info.value.attempts == 5
    assert len(waits) == 4
    assert "Reading directory users" in str(info.value)
    assert "after 5 attempts" in str(info.value)


def test_429_inside_batch_retries_only_those_items(sb, app_client, waits):
    boxes = members_with_mailbox(sb)[:4]
    for box in boxes:
        add_events(sb, box, 3)
    target = sb.state.get_user(boxes[1])["id"]
    sb.faults.add(
        status=429, path=rf"/users/{boxes[1]}/calendarView", in_batch=True, times=2, retry_after=4
    )
    results = read_busy_times(app_client, boxes, *WINDOW)
    assert all(r.ok for r in results.values())
    assert all(len(r.slots) == 3 for r in results.values())
    assert waits == [4.0, 4.0]
    items = sb.log.filter(r"/calendarView$", in_batch=True)
    per_mailbox = {m: sum(1 for r in items if r.mailbox == m) for m in {r.mailbox for r in items}}
    assert per_mailbox[target] == 3
    assert sorted(per_mailbox.values()) == [1, 1, 1, 3]
    assert app_client.counters.snapshot().batch_items == 6


def test_drop_of_whole_batch_is_retried(sb, app_client, waits):
    boxes = members_with_mailbox(sb)[:3]
    for box in boxes:
        add_events(sb, box, 2)
    sb.faults.add(kind="drop", status=0, path=r"/calendarView", in_batch=True, times=1)
    results = read_busy_times(app_client, boxes, *WINDOW)
    assert all(r.ok and len(r.slots) == 2 for r in results.values())
    assert len(waits) == 1


# --------------------------------------------------------------------------- permissions


def test_users_delta_without_permission_names_it(sb, app_client):
    sb.state.set_app_roles(["Calendars.ReadWrite"])
    with pytest.raises(PermissionMissing) as info:
        users_delta(app_client)
    assert info.value.permission == "User.Read.All"
    assert "User.Read.All" in str(info.value)
    assert info.value.status == 403


def test_busy_time_without_calendar_permission_per_mailbox(sb, app_client):
    sb.state.set_app_roles(["User.Read.All"])
    results = read_busy_times(app_client, members_with_mailbox(sb)[:3], *WINDOW)
    for result in results.values():
        assert isinstance(result.error, PermissionMissing)
        assert "Calendars.ReadBasic.All" in str(result.error)


def test_busy_time_errors_are_per_mailbox(sb, app_client):
    good = members_with_mailbox(sb)[:2]
    for box in good:
        add_events(sb, box, 4)
    no_mailbox = next(
        u["userPrincipalName"] for u in sb.state.users if u["displayName"] == "Isaiah Langer"
    )
    unknown = "nobody@contoso.onmicrosoft.com"
    results = read_busy_times(app_client, [good[0], no_mailbox, unknown, good[1]], *WINDOW)
    assert [r.mailbox for r in results.values()] == [good[0], no_mailbox, unknown, good[1]]
    assert isinstance(results[no_mailbox].error, NotFound)
    assert isinstance(results[unknown].error, NotFound)
    assert len(results[good[0]].slots) == 4 and results[good[1]].ok


# --------------------------------------------------------------------------- events


def test_retried_post_never_creates_a_second_event(sb, app_client, waits):
    user = upn(sb, 0)
    sb.faults.add(kind="drop_after", status=0, path=r"/events$", method="POST", times=1)
    payload = event_payload("Task: review", MONDAY, MONDAY + timedelta(hours=1))
    event = create_event(app_client, user, payload, transaction_id="odoo-mail.activity-42")
    assert len(waits) == 1  # the drop was retried
    assert sb.log.count(r"/events$", method="POST") == 2
    stored = sb.state.events(user)
    assert [e["id"] for e in stored] == [event.id]
    # Same transaction again (e.g. the job re-ran): still one event.
    again = create_event(app_client, user, payload, transaction_id="odoo-mail.activity-42")
    assert again.id == event.id
    assert len(sb.state.events(user)) == 1


def test_update_with_if_match_and_conflict(sb, app_client):
    user = upn(sb, 0)
    event = create_event(
        app_client,
        user,
        event_payload("v1", MONDAY, MONDAY + timedelta(hours=1)),
        transaction_id="t-2",
    )
    updated = update_event(
        app_client, user, event.id, {"subject": "v2"}, change_key=event.change_key
    )
    assert updated.subject == "v2" and updated.change_key != event.change_key
    assert (
        sb.log.filter(r"/events/", method="PATCH")[0].headers.get("If-Match")
        == f'W/"{event.change_key}"'
    )
    with pytest.raises(PreconditionFailed):
        update_event(app_client, user, event.id, {"subject": "v3"}, change_key=event.change_key)
    assert get_event(app_client, user, event.id).subject == "v2"
    assert delete_event(app_client, user, event.id, change_key=updated.change_key) is True
    assert delete_event(app_client, user, event.id) is False


def test_per_mailbox_cap_from_a_thread_pool(sb, app_client):
    user = upn(sb, 0)
    sb.faults.mailbox_concurrency = 4
    sb.latency = 0.01

    def create(n):
        payload = event_payload(f"e{n}", MONDAY, MONDAY + timedelta(hours=1))
        return create_event(app_client, user, payload, transaction_id=f"t-{n}").id

    with ThreadPoolExecutor(12) as pool:
        ids = list(pool.map(create, range(24)))
    assert len(set(ids)) == 24
    assert sb.log.count(r"/events$", status=429) == 0
    assert app_client.limiter.peak <= 4


def test_counters_are_consistent_across_threads(sb, app_client):
    boxes = members_with_mailbox(sb)
    for box in boxes:
        add_events(sb, box, 7)
    results = read_busy_times(app_client, boxes * 1, *WINDOW, workers=4, page_size=2, batch_size=3)
    assert all(len(r.slots) == 7 for r in results.values())
    snap = app_client.counters.snapshot()
    graph_posts = sb.log.count(r"^/v1\.0/\$batch$", in_batch=False)
    assert snap.requests == graph_posts
    assert snap.batch_items == sb.log.count(r"/calendarView$", in_batch=True)


# --------------------------------------------------------------------------- bad responses


def test_bad_response_on_a_body_without_value(sb, app_client):
    url = f"{sb.url}/{sb.tenant_id}/v2.0/.well-known/openid-configuration"
    with pytest.raises(BadResponse) as info:
        list(app_client.iter_pages(url))
    assert info.value.field == "value"


def test_bad_response_on_a_non_json_body(sb, app_client):
    url = f"{sb.url}/{sb.tenant_id}/oauth2/v2.0/logout"
    with pytest.raises(BadResponse, match="not valid JSON"):
        app_client.get_json(url)


# --------------------------------------------------------------------------- delegated


def test_delegated_client_reads_and_writes_own_calendar(sb, config, connect_account, policy):
    me = upn(sb, 0)
    sb.state.signed_in_user = me
    result = connect_account()
    blobs = []
    client = GraphClient.for_account(
        config,
        result.cache_blob,
        home_account_id=result.home_account_id,
        on_cache_change=blobs.append,
        retry=policy,
    )
    created = create_event(
        client,
        "me",
        event_payload("Mine", MONDAY, MONDAY + timedelta(hours=2)),
        transaction_id="me-1",
    )
    delta = calendar_view_delta(client, "me", *WINDOW)
    assert [e.id for e in delta.items] == [created.id]
    assert sb.state.events(me)[0]["id"] == created.id
    other = upn(sb, 1)
    with pytest.raises(PermissionMissing) as info:
        calendar_view(client, other, *WINDOW)
    assert info.value.permission == "Calendars.ReadWrite.Shared"
    # The access token was still valid: nothing to persist.
    assert blobs == []


def test_post_timing_out_after_accept_is_not_doubled(sb, config, policy):
    """Read time-out: Graph got the POST and creates the event later; the retry must
    not create a second one."""
    import time

    from m365_graph.core.http import PinnedSession
    from m365_graph.identity.auth import AppTokenProvider

    session = PinnedSession(config.ca_bundle)
    client = GraphClient(
        AppTokenProvider(config, session=session),
        config.graph_url,
        session=session,
        timeout=(5.0, 0.3),
        retry=policy,
    )
    user = upn(sb, 0)
    sb.faults.add(kind="latency", delay=1.0, path=r"/events$", method="POST", times=1)
    payload = event_payload("Slow", MONDAY, MONDAY + timedelta(hours=1))
    event = create_event(client, user, payload, transaction_id="odoo-slow-1")
    deadline = time.monotonic() + 10
    while sb.log.count(r"/events$", method="POST") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sb.log.count(r"/events$", method="POST") == 2
    assert [e["id"] for e in sb.state.events(user)] == [event.id]
