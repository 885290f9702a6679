"""msal flows end to end against the sandbox identity platform, over HTTPS.

The autouse fixture points REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE at the system bundle,
which does not trust the sandbox: every passing test here proves the configured CA
bundle reaches msal's HTTP calls too.
"""

from __future__ import annotations

import json
import socket
from urllib.parse import parse_qs, urlsplit

import pytest

from m365_graph.core.config import TenantConfig
from m365_graph.core.errors import AuthError, ConsentRequired, ReconnectNeeded, Transient
from m365_graph.identity.auth import AppTokenProvider, DelegatedTokenProvider
from m365_graph.identity.authflow import finish_auth_code_flow, start_auth_code_flow
from m365_graph.identity.claims import granted_roles, granted_scopes
from m365_graph.identity.clients import GraphClient
from m365_graph.identity.connection import check_connection
from m365_graph.resources.users import get_me

from .conftest import REDIRECT_URI, browser_sign_in


def token_posts(sb):
    return [r for r in sb.log if r.path.endswith("/oauth2/v2.0/token")]


def test_client_credentials_token_cached_by_msal(sb, config):
    provider = AppTokenProvider(config)
    first = provider.get_token()
    assert provider.get_token() == first
    assert len(token_posts(sb)) == 1
    assert granted_roles(first) == {"User.Read.All", "Calendars.ReadWrite"}
    assert provider.get_token(force_refresh=True) != first
    assert len(token_posts(sb)) == 2


def test_without_ca_parameter_the_environment_bundle_fails_plainly(sb, config):
    from dataclasses import replace

    provider = AppTokenProvider(replace(config, ca_bundle=None))
    with pytest.raises(Transient) as info:
        provider.get_token()
    assert "certificate" in str(info.value)
    assert "CA bundle" in str(info.value)


def test_wrong_secret_in_plain_words(sb, config):
    from dataclasses import replace

    with pytest.raises(AuthError) as info:
        AppTokenProvider(replace(config, client_secret="not-the-secret")).get_token()
    assert info.value.aadsts == "AADSTS7000215"
    assert "client secret is wrong" in str(info.value)


def test_unknown_tenant_in_plain_words(sb, config):
    from dataclasses import replace

    with pytest.raises(AuthError) as info:
        AppTokenProvider(replace(config, tenant="nosuchtenant.onmicrosoft.com")).get_token()
    assert info.value.aadsts == "AADSTS90002"
    assert "'nosuchtenant.onmicrosoft.com' was not found" in str(info.value)


def test_unknown_app_in_plain_words(sb, config):
    from dataclasses import replace

    with pytest.raises(AuthError) as info:
        AppTokenProvider(
            replace(config, client_id="00000000-1111-2222-3333-444444444444")
        ).get_token()
    assert info.value.aadsts == "AADSTS700016"
    assert "00000000-1111-2222-3333-444444444444" in str(info.value)


def test_unreachable_host_names_host_and_timeout():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = TenantConfig(
        "t",
        "c",
        "s",
        f"https://127.0.0.1:{port}",
        f"https://127.0.0.1:{port}/v1.0",
        timeout=(2.0, 5.0),
    )
    with pytest.raises(Transient) as info:
        AppTokenProvider(config).get_token()
    assert f"127.0.0.1:{port}" in str(info.value)
    assert "2 s" in str(info.value)


def test_check_connection_report(sb):
    sb.state.set_app_roles(["Directory.Read.All", "Calendars.Read"])
    report = check_connection(
        sb.tenant_id,
        sb.client_id,
        sb.client_secret,
        sb.url,
        sb.graph_url,
        ca_bundle=sb.ca_path,
        features=["contacts", "busy_time", "activity_export", "rooms"],
        redirect_uri=REDIRECT_URI,
    )
    assert report.tenant_id == sb.tenant_id
    assert report.granted_roles == {"Directory.Read.All", "Calendars.Read"}
    assert report.graph_ok
    granted = {(r.feature, r.permission): r.granted for r in report.rows}
    assert granted == {
        ("contacts", "User.Read.All"): True,  # implied by Directory.Read.All
        ("busy_time", "Calendars.ReadBasic.All"): True,  # implied by Calendars.Read
        ("activity_export", "Calendars.ReadWrite"): False,
        ("rooms", "Place.Read.All"): False,
        ("rooms", "Calendars.ReadWrite"): False,
    }
    assert not report.ok
    assert "Calendars.ReadWrite" in report.summary()
    consent = urlsplit(report.consent_url)
    assert consent.path == f"/{sb.tenant_id}/adminconsent"
    assert parse_qs(consent.query)["client_id"] == [sb.client_id]


def test_check_connection_raises_taxonomy_errors(sb):
    with pytest.raises(AuthError, match="client secret is wrong"):
        check_connection(
            sb.tenant_id, sb.client_id, "wrong", sb.url, sb.graph_url, ca_bundle=sb.ca_path
        )


def test_check_connection_without_any_role(sb):
    sb.state.set_app_roles([])
    report = check_connection(
        sb.tenant_id, sb.client_id, sb.client_secret, sb.url, sb.graph_url, ca_bundle=sb.ca_path
    )
    assert report.granted_roles == frozenset()
    assert not report.graph_ok
    assert {r.permission for r in report.missing} >= {"User.Read.All", "Calendars.ReadWrite"}


def test_auth_code_flow_with_pkce(sb, config, connect_account):
    upn = sb.state.users[1]["userPrincipalName"]
    sb.state.signed_in_user = upn
    start = start_auth_code_flow(config, REDIRECT_URI)
    query = parse_qs(urlsplit(start.auth_url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["code_challenge"][0]
    assert query["state"] == [start.state]
    assert "code_verifier" in start.flow  # stays server-side, in the user's session

    params = browser_sign_in(sb, start.auth_url)
    result = finish_auth_code_flow(config, start.flow, params)
    assert result.username == upn
    assert result.claims["preferred_username"] == upn
    assert result.claims["tid"] == sb.tenant_id
    assert result.home_account_id == f"{result.claims['oid']}.{sb.tenant_id}"
    assert "Calendars.ReadWrite" in result.granted_scopes
    assert json.loads(result.cache_blob)["RefreshToken"]


def test_state_mismatch_is_refused(sb, config):
    start = start_auth_code_flow(config, REDIRECT_URI)
    params = browser_sign_in(sb, start.auth_url)
    params["state"] = "forged"
    with pytest.raises(AuthError, match="state mismatch"):
        finish_auth_code_flow(config, start.flow, params)


def test_user_declines_consent(sb, config):
    sb.state.consent = "deny"
    start = start_auth_code_flow(config, REDIRECT_URI)
    params = browser_sign_in(sb, start.auth_url)
    with pytest.raises(AuthError) as info:
        finish_auth_code_flow(config, start.flow, params)
    assert info.value.aadsts == "AADSTS65004"


def test_admin_consent_required(sb, config):
    sb.state.consent = "admin_required"
    start = start_auth_code_flow(config, REDIRECT_URI)
    params = browser_sign_in(sb, start.auth_url)
    with pytest.raises(ConsentRequired, match="admin consent"):
        finish_auth_code_flow(config, start.flow, params)


def test_refresh_rotation_persists_every_new_cache(sb, config, connect_account):
    result = connect_account()
    stored = {"blob": result.cache_blob}
    changes = []

    def persist(blob):
        changes.append(blob)
        stored["blob"] = blob

    def provider():
        return DelegatedTokenProvider(
            config, stored["blob"], home_account_id=result.home_account_id, on_cache_change=persist
        )

    # Cached access token: no refresh, no change to persist.
    token = provider().get_token()
    assert "Calendars.ReadWrite" in granted_scopes(token)
    assert changes == []

    for round_no in range(1, 4):
        before = stored["blob"]
        provider().get_token(force_refresh=True)
        assert len(changes) == round_no
        assert stored["blob"] != before

    # The first blob's refresh token was redeemed long ago: using it fails plainly.
    stale = DelegatedTokenProvider(
        config, result.cache_blob, home_account_id=result.home_account_id
    )
    with pytest.raises(ReconnectNeeded) as info:
        stale.get_token(force_refresh=True)
    assert info.value.aadsts == "AADSTS700082"

    # The persisted blob still works, through the Graph client.
    client = GraphClient.for_account(
        config, stored["blob"], home_account_id=result.home_account_id, on_cache_change=persist
    )
    assert get_me(client).user_principal_name == result.username


def test_revoked_grant_needs_reconnect(sb, config, connect_account):
    result = connect_account()
    sb.state.revoke_refresh_tokens()
    provider = DelegatedTokenProvider(
        config, result.cache_blob, home_account_id=result.home_account_id
    )
    with pytest.raises(ReconnectNeeded) as info:
        provider.get_token(force_refresh=True)
    assert info.value.aadsts == "AADSTS50173"
    assert "connect the account again" in str(info.value)


def test_empty_or_foreign_cache_needs_reconnect(sb, config, connect_account):
    with pytest.raises(ReconnectNeeded):
        DelegatedTokenProvider(config, None).get_token()
    result = connect_account()
    with pytest.raises(ReconnectNeeded):
        DelegatedTokenProvider(
            config, result.cache_blob, home_account_id="someone.else"
        ).get_token()
    with pytest.raises(ReconnectNeeded):
        DelegatedTokenProvider(config, "{not json")
