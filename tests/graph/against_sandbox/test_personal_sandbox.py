"""Personal sync end to end against the sandbox: least-privilege sign-in, delta pull of a
calendar with series, all-day and private events, removals checked before deleting,
and refresh-token rotation."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from m365_graph.core.errors import PermissionMissing, ReconnectNeeded
from m365_graph.identity.clients import GraphClient
from m365_graph.resources.calendar import calendar_view_delta
from m365_graph.resources.events import create_event, read_events
from m365_graph.resources.series import complete_series
from m365_graph.resources.users import get_me
from m365_graph.sync.personal import pull_window, refresh_scopes, scopes_for_direction
from m365_graph.sync.pull import NO_TITLE, LinkState, decide_removals, map_event, plan_pull
from m365_graph.sync.push import event_payload

ADELE = "adele.vance@contoso.onmicrosoft.com"
NOW = datetime.now(timezone.utc)
MONDAY = (NOW + timedelta(days=7 - NOW.weekday())).replace(
    hour=9, minute=0, second=0, microsecond=0
)


def delegated_client(config, result, policy, changes=None):
    return GraphClient.for_account(
        config,
        result.cache_blob,
        home_account_id=result.home_account_id,
        scopes=refresh_scopes(result.granted_scopes),
        on_cache_change=(changes.append if changes is not None else None),
        retry=policy,
    )


@pytest.fixture
def down_account(sb, connect_account):
    sb.state.signed_in_user = ADELE
    return connect_account(scopes=scopes_for_direction("down"))


def test_down_sign_in_is_read_only(sb, config, policy, down_account):
    assert "Calendars.Read" in down_account.granted_scopes
    assert "Calendars.ReadWrite" not in down_account.granted_scopes
    client = delegated_client(config, down_account, policy)
    assert get_me(client).user_principal_name == ADELE
    with pytest.raises(PermissionMissing):
        create_event(
            client,
            "me",
            event_payload("x", MONDAY, MONDAY + timedelta(hours=1)),
            transaction_id="t-1",
        )


def test_broader_direction_asks_consent_again(sb, connect_account, down_account):
    both = connect_account(scopes=scopes_for_direction("both"))
    assert "Calendars.ReadWrite" in both.granted_scopes


def test_pull_round_with_series_all_day_and_private(sb, config, policy, down_account):
    state = sb.state
    state.add_event(ADELE, "Standalone", MONDAY, MONDAY + timedelta(hours=1), sensitivity="private")
    state.add_event(
        ADELE,
        "Holiday",
        MONDAY.date() + timedelta(days=1),
        MONDAY.date() + timedelta(days=2),
        isAllDay=True,
        showAs="oof",
    )
    series = state.add_event(
        ADELE,
        "Weekly",
        MONDAY + timedelta(hours=5),
        MONDAY + timedelta(hours=6),
        categories=["Team"],
        recurrence={
            "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
            "range": {
                "type": "numbered",
                "startDate": MONDAY.date().isoformat(),
                "numberOfOccurrences": 4,
            },
        },
    )
    client = delegated_client(config, down_account, policy)
    start, end = pull_window(NOW, 30, 365)
    first = calendar_view_delta(client, "me", start, end)
    assert first.complete
    # Real delta shape: the master in full, the occurrences as stubs.
    stubs = [e for e in first.items if e.series_master_id == series["id"]]
    assert [e.subject for e in stubs] == [None] * 4
    assert any(e.id == series["id"] and e.event_type == "seriesMaster" for e in first.items)
    before = len(sb.log)
    completed = complete_series(client, "me", first.items, start, end, reread=False)
    assert len(sb.log) == before  # the master was in the round: no extra request
    plan = plan_pull(completed.items, first.removed, {})
    assert NO_TITLE not in {p.values["name"] for p in plan.create}
    by_name = {}
    for pulled in plan.create:
        by_name.setdefault(pulled.values["name"], []).append(pulled)
    assert len(by_name["Weekly"]) == 4
    occurrence = by_name["Weekly"][0]
    assert occurrence.series_master_id == series["id"]
    assert occurrence.event_type == "occurrence"
    assert occurrence.categories == ("Team",)
    holiday = by_name["Holiday"][0]
    assert holiday.values["allday"] is True
    assert holiday.values["start"].date() == holiday.values["stop"].date()
    assert holiday.values["start"].date() == MONDAY.date() + timedelta(days=1)
    assert by_name["Standalone"][0].values["privacy"] == "private"

    # Cancel one occurrence and move the standalone event out of the window.
    cancelled = by_name["Weekly"][1].graph_id
    state.delete_event(ADELE, cancelled)
    standalone = by_name["Standalone"][0].graph_id
    far = datetime.combine(end.date() + timedelta(days=30), datetime.min.time(), timezone.utc)
    state.update_event(ADELE, standalone, start=far, end=far + timedelta(hours=1))
    known = {p.graph_id: LinkState(p.graph_id, p.change_key, p.fingerprint) for p in plan.create}
    second = calendar_view_delta(client, "me", delta_link=first.delta_link)
    # The cancellation is not reported: only the master comes again, and its
    # instances, read again, no longer list the cancelled occurrence.
    assert cancelled not in {r.id for r in second.removed}
    assert series["id"] in {e.id for e in second.items}
    completed2 = complete_series(client, "me", second.items, start, end, reread=True)
    instances = completed2.instances[series["id"]]
    assert cancelled not in instances and len(instances) == 3
    plan2 = plan_pull(completed2.items, second.removed, known)
    assert plan2.verify == [standalone]
    candidates = [p.graph_id for p in by_name["Weekly"] if p.graph_id not in instances]
    assert candidates == [cancelled]
    decision = decide_removals(read_events(client, "me", plan2.verify + candidates))
    assert decision.delete == [cancelled]
    assert plan2.writes == 0  # the other occurrences are unchanged
    assert [e.id for e in decision.moved] == [standalone]
    assert map_event(decision.moved[0]).values["start"] == far.replace(tzinfo=None)

    # Deleting the series removes every remaining occurrence, and the master is gone.
    state.delete_event(ADELE, series["id"])
    third = calendar_view_delta(client, "me", delta_link=second.delta_link)
    gone = {r.id for r in third.removed}
    assert {p.graph_id for p in by_name["Weekly"]} - {cancelled} <= gone
    assert read_events(client, "me", [series["id"]]) == {series["id"]: None}


def test_expired_delta_link_restarts_the_round(sb, config, policy, down_account):
    sb.state.add_event(ADELE, "One", MONDAY, MONDAY + timedelta(hours=1))
    client = delegated_client(config, down_account, policy)
    start, end = pull_window(NOW, 30, 365)
    first = calendar_view_delta(client, "me", start, end)
    sb.state.expire_delta_tokens()
    again = calendar_view_delta(client, "me", start, end, delta_link=first.delta_link)
    assert again.restarted and again.complete
    assert [e.id for e in again.items] == [e.id for e in first.items]
    assert not again.removed


def test_refresh_tokens_rotate_and_the_new_cache_is_handed_back(sb, config, policy, down_account):
    changes: list[str] = []
    client = delegated_client(config, down_account, policy, changes)
    get_me(client)
    assert changes == [], "the access token of the sign-in is still valid"
    sb.state.advance_clock(3700)
    get_me(client)
    assert len(changes) == 1 and changes[0] != down_account.cache_blob
    # The old cache holds the redeemed refresh token: it no longer works.
    stale = delegated_client(config, down_account, policy)
    with pytest.raises(ReconnectNeeded):
        get_me(stale)
    # The rotated one does.
    fresh = GraphClient.for_account(
        config,
        changes[-1],
        home_account_id=down_account.home_account_id,
        scopes=refresh_scopes(down_account.granted_scopes),
        retry=policy,
    )
    assert get_me(fresh).user_principal_name == ADELE


def test_all_day_dates_survive_the_utc_preference(sb, config, policy, down_account):
    day = date.today() + timedelta(days=3)
    sb.state.add_event(
        ADELE,
        "Offsite",
        {"dateTime": f"{day.isoformat()}T00:00:00", "timeZone": "Tokyo Standard Time"},
        {
            "dateTime": f"{(day + timedelta(days=2)).isoformat()}T00:00:00",
            "timeZone": "Tokyo Standard Time",
        },
        isAllDay=True,
    )
    client = delegated_client(config, down_account, policy)
    start, end = pull_window(NOW, 30, 365)
    result = calendar_view_delta(client, "me", start, end)
    pulled = map_event(result.items[0])
    assert pulled.values["start"].date() == day
    assert pulled.values["stop"].date() == day + timedelta(days=1)
