"""Directions, scopes, incremental consent, the pull window and the signed-in identity."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from m365_graph.sync.personal import (
    DIRECTIONS,
    WrongAccount,
    check_signed_in_identity,
    consent_direction,
    missing_scopes,
    needs_consent,
    pull_window,
    refresh_scopes,
    scopes_for_direction,
    window_is_stale,
)

TENANT = "8d3f2c1a-6b4e-4f7a-9c2d-1e5a7b9c0d3e"
OTHER = "11111111-2222-4333-8444-555555555555"
OID = "0c1e8f7a-1111-4222-8333-944455556666"


def test_down_asks_only_to_read_the_calendar():
    scopes = scopes_for_direction("down")
    assert "Calendars.Read" in scopes
    assert "Calendars.ReadWrite" not in scopes
    assert {"User.Read", "offline_access", "openid", "profile", "email"} <= set(scopes)


@pytest.mark.parametrize("direction", ["up", "both"])
def test_up_and_both_ask_to_write(direction):
    scopes = scopes_for_direction(direction)
    assert "Calendars.ReadWrite" in scopes
    assert "Calendars.Read" not in scopes


def test_paused_account_reconnects_with_what_it_had():
    assert consent_direction("none", "both") == "both"
    assert consent_direction("none", None) == "down"
    assert scopes_for_direction("none") == scopes_for_direction("down")
    with pytest.raises(ValueError):
        consent_direction("sideways")


def test_broader_direction_needs_consent_narrower_never():
    read = {"User.Read", "Calendars.Read", "openid", "profile", "email", "offline_access"}
    write = {"User.Read", "Calendars.ReadWrite"}
    assert not needs_consent("down", read)
    assert needs_consent("both", read)
    assert needs_consent("up", read)
    assert missing_scopes("both", read) == {"Calendars.ReadWrite"}
    # ReadWrite includes Read: going back to Down asks nothing.
    assert not needs_consent("down", write)
    assert not needs_consent("both", write)
    assert not needs_consent("none", set())
    # Scopes qualified with the Graph resource count as the short names.
    assert not needs_consent("down", {"https://graph.microsoft.com/Calendars.Read", "User.Read"})


RANK = {"down": 0, "up": 1, "both": 1}


@given(st.sampled_from(DIRECTIONS), st.sampled_from(DIRECTIONS))
def test_consent_only_for_a_broader_direction(granted_for, wanted):
    """Property: a sign-in for one direction covers every direction as narrow as it."""
    granted = set(scopes_for_direction(granted_for))
    had = RANK[consent_direction(granted_for)]
    if wanted == "none" or RANK[wanted] <= had:
        assert not needs_consent(wanted, granted)
    else:
        assert needs_consent(wanted, granted)


def test_refresh_asks_exactly_the_granted_resource_scopes():
    granted = {"openid", "profile", "email", "offline_access", "User.Read", "Calendars.Read"}
    assert refresh_scopes(granted) == ["Calendars.Read", "User.Read"]
    assert refresh_scopes(set()) == ["User.Read"]
    assert refresh_scopes({"https://graph.microsoft.com/User.Read"}) == ["User.Read"]


def test_window_is_whole_days():
    now = datetime(2026, 3, 10, 15, 42, tzinfo=timezone.utc)
    start, end = pull_window(now, 30, 365)
    assert start == datetime(2026, 2, 8, tzinfo=timezone.utc)
    assert end == datetime(2027, 3, 11, tzinfo=timezone.utc)
    assert pull_window(now.replace(hour=1), 30, 365) == (start, end)
    # Naive datetimes are UTC (Odoo's convention).
    assert pull_window(now.replace(tzinfo=None), 30, 365) == (start, end)
    with pytest.raises(ValueError):
        pull_window(now, -1, 365)


def test_window_goes_stale_after_a_week():
    now = datetime(2026, 3, 10, 12, tzinfo=timezone.utc)
    start, _ = pull_window(now, 30, 365)
    assert not window_is_stale(start, now, 30)
    assert not window_is_stale(start, now + timedelta(days=7), 30)
    assert window_is_stale(start, now + timedelta(days=8), 30)
    assert window_is_stale(None, now, 30)


def test_identity_of_the_configured_tenant():
    claims = {"oid": OID, "tid": TENANT}
    assert check_signed_in_identity(claims, f"{OID}.{TENANT}", expected_tenant=TENANT) == OID
    # A domain cannot be compared with the tid: only the guest check applies.
    assert check_signed_in_identity(claims, None, expected_tenant="contoso.com") == OID


def test_identity_of_another_tenant_is_refused():
    with pytest.raises(WrongAccount, match="another organisation"):
        check_signed_in_identity(
            {"oid": OID, "tid": OTHER}, f"{OID}.{OTHER}", expected_tenant=TENANT
        )


def test_guest_identity_is_refused():
    with pytest.raises(WrongAccount, match="guest"):
        check_signed_in_identity(
            {"oid": OID, "tid": TENANT}, f"{OID}.{OTHER}", expected_tenant=TENANT
        )


def test_identity_without_ids_is_refused():
    with pytest.raises(WrongAccount):
        check_signed_in_identity({"tid": TENANT}, None, expected_tenant=TENANT)
