"""The real msal library against the sandbox, end to end.

Options msal needs for a non-Microsoft host: ``authority=f"{sb.url}/{tenant}"``
and ``instance_discovery=False`` (otherwise msal asks login.microsoftonline.com
whether the host is a known instance); ``validate_authority`` can stay at its
default. ``http_client`` must verify TLS with ``sb.ca_path``.
"""

from urllib.parse import parse_qs, urlsplit

import msal
import pytest

from .helpers import VerifiedSession

REDIRECT = "http://localhost:8069/m365/oauth/callback"
SCOPES = ["User.Read", "Calendars.ReadWrite"]

# msal recommends form_post for browser apps; these tests read the redirect's query.
pytestmark = pytest.mark.filterwarnings("ignore:response_mode:UserWarning")


def _app(sb, **kwargs):
    return msal.ConfidentialClientApplication(
        sb.client_id,
        client_credential=sb.client_secret,
        authority=kwargs.pop("authority", sb.authority),
        instance_discovery=False,
        http_client=VerifiedSession(sb.ca_path),
        **kwargs,
    )


def _sign_in(sb, app, scopes=SCOPES):
    flow = app.initiate_auth_code_flow(scopes, redirect_uri=REDIRECT, response_mode="query")
    assert "code_challenge" in flow["auth_uri"] and "nonce" in flow["auth_uri"]
    response = VerifiedSession(sb.ca_path).get(flow["auth_uri"], allow_redirects=False)
    assert response.status_code == 302, response.text
    auth_response = {
        k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()
    }
    return flow, auth_response


def test_acquire_token_for_client(sandbox):
    result = _app(sandbox).acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])
    assert "access_token" in result, result
    assert result["token_type"] == "Bearer"
    response = VerifiedSession(sandbox.ca_path).get(
        f"{sandbox.graph_url}/users", headers={"Authorization": f"Bearer {result['access_token']}"}
    )
    assert response.status_code == 200


def test_acquire_token_for_client_with_domain_authority_and_validate_authority_off(sandbox):
    app = _app(
        sandbox, authority=f"{sandbox.url}/{sandbox.tenant_domain}", validate_authority=False
    )
    result = app.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])
    assert "access_token" in result, result


def test_wrong_secret_through_msal(sandbox):
    app = msal.ConfidentialClientApplication(
        sandbox.client_id,
        client_credential="wrong",
        authority=sandbox.authority,
        instance_discovery=False,
        http_client=VerifiedSession(sandbox.ca_path),
    )
    result = app.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])
    assert result["error"] == "invalid_client" and 7000215 in result["error_codes"]


def test_unknown_tenant_fails_discovery(sandbox):
    with pytest.raises(ValueError, match="tenant"):
        _app(sandbox, authority=f"{sandbox.url}/nowhere.example").acquire_token_for_client(
            scopes=["https://graph.microsoft.com/.default"]
        )


def test_auth_code_flow_with_pkce_nonce_and_state(sandbox):
    app = _app(sandbox)
    flow, auth_response = _sign_in(sandbox, app)
    assert auth_response["state"] == flow["state"]
    result = app.acquire_token_by_auth_code_flow(flow, auth_response)
    assert "access_token" in result, result
    claims = result["id_token_claims"]
    assert claims["preferred_username"] == "adele.vance@contoso.onmicrosoft.com"
    assert claims["aud"] == sandbox.client_id
    assert "refresh_token" in result
    me = VerifiedSession(sandbox.ca_path).get(
        f"{sandbox.graph_url}/me", headers={"Authorization": f"Bearer {result['access_token']}"}
    )
    assert (
        me.status_code == 200
        and me.json()["userPrincipalName"] == "adele.vance@contoso.onmicrosoft.com"
    )
    accounts = app.get_accounts()
    assert len(accounts) == 1 and accounts[0]["username"] == "adele.vance@contoso.onmicrosoft.com"


def test_auth_code_flow_through_organizations_authority(sandbox):
    app = _app(sandbox, authority=f"{sandbox.url}/organizations")
    flow, auth_response = _sign_in(sandbox, app)
    result = app.acquire_token_by_auth_code_flow(flow, auth_response)
    assert "access_token" in result, result


def test_auth_code_flow_pkce_failure(sandbox):
    app = _app(sandbox)
    flow, auth_response = _sign_in(sandbox, app)
    flow["code_verifier"] = "x" * 43
    result = app.acquire_token_by_auth_code_flow(flow, auth_response)
    assert result["error"] == "invalid_grant" and 501481 in result["error_codes"]


def test_auth_code_flow_state_mismatch_is_caught_by_msal(sandbox):
    app = _app(sandbox)
    flow, auth_response = _sign_in(sandbox, app)
    auth_response["state"] = "forged"
    with pytest.raises(ValueError, match="state mismatch"):
        app.acquire_token_by_auth_code_flow(flow, auth_response)


def test_auth_code_flow_denied(sandbox):
    sandbox.state.consent = "deny"
    app = _app(sandbox)
    flow, auth_response = _sign_in(sandbox, app)
    result = app.acquire_token_by_auth_code_flow(flow, auth_response)
    assert result["error"] == "access_denied"


def test_acquire_token_silent_refreshes_with_rotation(sandbox):
    app = _app(sandbox)
    flow, auth_response = _sign_in(sandbox, app)
    first = app.acquire_token_by_auth_code_flow(flow, auth_response)
    old_refresh = first["refresh_token"]
    account = app.get_accounts()[0]

    cached = app.acquire_token_silent(SCOPES, account=account)
    assert cached["access_token"] == first["access_token"]  # served from the cache

    refreshed = app.acquire_token_silent(SCOPES, account=account, force_refresh=True)
    assert refreshed and "access_token" in refreshed, refreshed
    assert refreshed["access_token"] != first["access_token"]
    cache_rts = [
        rt["secret"] for rt in app.token_cache.search(msal.TokenCache.CredentialType.REFRESH_TOKEN)
    ]
    assert cache_rts and old_refresh not in cache_rts  # msal stored the rotated token

    # The old refresh token stops working.
    response = VerifiedSession(sandbox.ca_path).post(
        f"{sandbox.authority}/oauth2/v2.0/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": old_refresh,
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
        },
    )
    assert response.status_code == 400 and response.json()["error_codes"] == [700082]

    # And the rotated one keeps working.
    again = app.acquire_token_silent(SCOPES, account=account, force_refresh=True)
    assert again and "access_token" in again, again


def test_acquire_token_silent_after_revocation_fails(sandbox):
    app = _app(sandbox)
    flow, auth_response = _sign_in(sandbox, app)
    app.acquire_token_by_auth_code_flow(flow, auth_response)
    sandbox.state.revoke_refresh_tokens()
    result = app.acquire_token_silent_with_error(
        SCOPES, account=app.get_accounts()[0], force_refresh=True
    )
    assert result["error"] == "invalid_grant" and 50173 in result["error_codes"]
