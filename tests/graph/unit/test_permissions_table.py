"""Feature → permission table, implications, consent URL."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from m365_graph.identity.permissions import (
    FEATURES,
    admin_consent_url,
    check_permissions,
    effective_permissions,
)


def rows_by_perm(rows):
    return {(r.feature, r.permission): r for r in rows}


def test_table_matches_design():
    rows = check_permissions(FEATURES, [])
    table = {(r.feature, r.permission, r.type, r.admin_consent) for r in rows}
    assert table == {
        ("contacts", "User.Read.All", "application", True),
        ("busy_time", "Calendars.ReadBasic.All", "application", True),
        ("activity_export", "Calendars.ReadWrite", "application", True),
        ("personal_sync", "User.Read", "delegated", False),
        ("personal_sync", "Calendars.ReadWrite", "delegated", False),
        ("personal_sync", "offline_access", "delegated", False),
        ("personal_sync", "openid", "delegated", False),
        ("personal_sync", "profile", "delegated", False),
        ("personal_sync", "email", "delegated", False),
        ("shared_calendars", "Calendars.ReadWrite.Shared", "delegated", False),
        ("rooms", "Place.Read.All", "application", True),
        ("rooms", "Calendars.ReadWrite", "application", True),
        ("change_notifications", "Calendars.Read", "application", True),
        ("hr_absences", "Calendars.ReadWrite", "application", True),
        ("hr_absences_down", "Calendars.ReadBasic.All", "application", True),
        ("hr_absences_down", "MailboxSettings.Read", "application", True),
        ("hr_auto_replies", "MailboxSettings.ReadWrite", "application", True),
    }


def test_only_enabled_features_and_granted_flags():
    rows = check_permissions(["contacts", "busy_time", "personal_sync"], ["User.Read.All"])
    by = rows_by_perm(rows)
    assert by["contacts", "User.Read.All"].granted is True
    assert by["busy_time", "Calendars.ReadBasic.All"].granted is False
    assert by["personal_sync", "User.Read"].granted is None
    assert {r.feature for r in rows} == {"contacts", "busy_time", "personal_sync"}
    assert by["contacts", "User.Read.All"].feature_label == "Contact sync"


@pytest.mark.parametrize(
    ("granted", "needed"),
    [
        ("Calendars.ReadWrite", "Calendars.ReadBasic.All"),
        ("Calendars.Read", "Calendars.ReadBasic.All"),
        ("Directory.Read.All", "User.Read.All"),
        ("Directory.ReadWrite.All", "User.Read.All"),
    ],
)
def test_stronger_permissions_imply_weaker(granted, needed):
    assert needed in effective_permissions([granted])


def test_weaker_does_not_imply_stronger():
    by = rows_by_perm(check_permissions(["activity_export"], ["Calendars.Read"]))
    assert by["activity_export", "Calendars.ReadWrite"].granted is False


def test_delegated_rows_with_user_scopes():
    rows = check_permissions(
        ["personal_sync", "shared_calendars"], [], ["User.Read", "Calendars.ReadWrite"]
    )
    by = rows_by_perm(rows)
    assert by["personal_sync", "Calendars.ReadWrite"].granted is True
    assert by["personal_sync", "openid"].granted is True
    assert by["shared_calendars", "Calendars.ReadWrite.Shared"].granted is False


def test_unknown_feature():
    with pytest.raises(ValueError, match="unknown features"):
        check_permissions(["teleport"], [])


def test_admin_consent_url():
    url = admin_consent_url(None, "contoso.onmicrosoft.com", "cid", "https://odoo.test/cb")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == "https://login.microsoftonline.com"
    assert parts.path == "/contoso.onmicrosoft.com/adminconsent"
    assert parse_qs(parts.query) == {"client_id": ["cid"], "redirect_uri": ["https://odoo.test/cb"]}
    assert admin_consent_url("login.microsoftonline.us", "t", "c").startswith(
        "https://login.microsoftonline.us/t/adminconsent?client_id=c"
    )
