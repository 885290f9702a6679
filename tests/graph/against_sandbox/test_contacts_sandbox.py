"""The contact-sync read path against the sandbox: a baseline with the contact
properties, partial changes merged into the stored state, full reads of users
never stored (``get_users`` through ``$batch``)."""

from __future__ import annotations

from m365_graph.core.errors import NotFound, PermissionMissing
from m365_graph.resources.users import get_users, users_delta
from m365_graph.sync.contacts import (
    CONTACT_SELECT,
    graph_state,
    merge_state,
    needs_full_read,
    plan_user,
    user_from_state,
)


def test_baseline_then_partial_changes_merge_into_the_stored_state(sb, app_client):
    first = users_delta(app_client, select=CONTACT_SELECT, page_size=4)
    assert first.complete
    stored = {u.id: graph_state(u) for u in first.items}
    assert not any(needs_full_read(u, None) for u in first.items), "baseline items are full"
    plans = {plan_user(u).label.split(" <")[0]: plan_user(u) for u in first.items}
    assert plans["Adele Vance"].action == "upsert"
    assert plans["Pradeep Gupta"].action == "retire", "disabled account"
    assert plans["Jordan Miller (Fabrikam)"].action == "retire", "guest"
    assert plans["Conference Room Rainier"].action == "retire", "a room's account is disabled"

    adele = sb.state.get_user("Adele.Vance@contoso.onmicrosoft.com")
    sb.state.update_user(adele["id"], jobTitle="Store Director", mobilePhone=None)
    second = users_delta(app_client, first.delta_link, select=CONTACT_SELECT)
    (change,) = second.items
    assert change.present == {"id", "jobTitle", "mobilePhone"}
    assert needs_full_read(change, None) and not needs_full_read(change, stored[change.id])
    merged = user_from_state(merge_state(stored[change.id], change))
    plan = plan_user(merged)
    assert plan.owned["function"] == "Store Director"
    assert plan.owned["m365_mobile"] is None
    assert plan.owned["name"] == "Adele Vance", "unchanged properties come from the state"


def test_get_users_reads_in_batches_and_reports_missing_users(sb, app_client):
    ids = [u["id"] for u in sb.state.users]
    missing = "00000000-0000-0000-0000-000000000000"
    sb.log.clear()
    users, errors = get_users(app_client, [*ids, missing, ids[0]], select=CONTACT_SELECT)
    assert set(users) == set(ids)
    assert isinstance(errors[missing], NotFound)
    assert sb.log.count(r"/\$batch$", in_batch=False) == 1, "up to 20 users per round trip"
    assert all(set(CONTACT_SELECT) <= u.present for u in users.values())
    assert get_users(app_client, []) == ({}, {})


def test_get_users_without_permission_names_it(sb, app_client):
    sb.state.set_app_roles([])
    app_client.token_provider.get_token(force_refresh=True)
    _, errors = get_users(app_client, [sb.state.users[0]["id"]])
    (error,) = errors.values()
    assert isinstance(error, PermissionMissing) and error.permission == "User.Read.All"
