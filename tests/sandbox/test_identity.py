"""Identity platform endpoints over raw HTTP: discovery, authorize, token, admin consent."""

import base64
import hashlib
import json
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from .helpers import VerifiedSession

REDIRECT = "http://localhost:8069/m365/oauth/callback"


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


@pytest.fixture
def http(sandbox):
    return VerifiedSession(sandbox.ca_path)


def _token(http, sb, tenant=None, **data):
    data.setdefault("client_id", sb.client_id)
    data.setdefault("client_secret", sb.client_secret)
    return http.post(f"{sb.url}/{tenant or sb.tenant_id}/oauth2/v2.0/token", data=data)


def _authorize(http, sb, tenant=None, **params):
    params.setdefault("client_id", sb.client_id)
    params.setdefault("response_type", "code")
    params.setdefault("redirect_uri", REDIRECT)
    params.setdefault("scope", "openid profile offline_access User.Read Calendars.ReadWrite")
    params.setdefault("state", "st-123")
    response = http.get(
        f"{sb.url}/{tenant or sb.tenant_id}/oauth2/v2.0/authorize",
        params=params,
        allow_redirects=False,
    )
    return response


def _redirect_params(response) -> dict:
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def _pkce():
    verifier = base64.urlsafe_b64encode(b"v" * 40).decode().rstrip("=")
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    )
    return verifier, challenge


def _code(http, sb, **params):
    verifier, challenge = _pkce()
    params.setdefault("code_challenge", challenge)
    params.setdefault("code_challenge_method", "S256")
    got = _redirect_params(_authorize(http, sb, **params))
    return got["code"], verifier


def _assert_aad_error(response, status, error, code):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error
    assert body["error_description"].startswith(f"AADSTS{code}:")
    assert body["error_codes"] == [code]
    for key in ("timestamp", "trace_id", "correlation_id"):
        assert body[key]


# -- discovery -------------------------------------------------------------------------


@pytest.mark.parametrize("segment", ["tenant", "domain", "organizations", "common"])
def test_openid_configuration_for_each_tenant_form(sandbox, http, segment):
    value = {"tenant": sandbox.tenant_id, "domain": sandbox.tenant_domain}.get(segment, segment)
    response = http.get(f"{sandbox.url}/{value}/v2.0/.well-known/openid-configuration")
    assert response.status_code == 200
    config = response.json()
    assert config["token_endpoint"] == f"{sandbox.url}/{value}/oauth2/v2.0/token"
    assert config["authorization_endpoint"] == f"{sandbox.url}/{value}/oauth2/v2.0/authorize"
    if segment in ("tenant", "domain"):
        assert config["issuer"] == f"{sandbox.url}/{sandbox.tenant_id}/v2.0"
    else:
        assert config["issuer"] == f"{sandbox.url}/{{tenantid}}/v2.0"
    keys = http.get(config["jwks_uri"]).json()["keys"]
    assert keys[0]["kty"] == "RSA" and keys[0]["kid"]


def test_unknown_tenant_is_aadsts90002(sandbox, http):
    response = http.get(
        f"{sandbox.url}/11111111-2222-3333-4444-555555555555/v2.0/.well-known/openid-configuration"
    )
    _assert_aad_error(response, 400, "invalid_request", 90002)
    token = _token(
        http,
        sandbox,
        tenant="nowhere.example",
        grant_type="client_credentials",
        scope="https://graph.microsoft.com/.default",
    )
    _assert_aad_error(token, 400, "invalid_request", 90002)


# -- client credentials ----------------------------------------------------------------------


def test_client_credentials_token_carries_granted_roles(sandbox, http):
    response = _token(
        http, sandbox, grant_type="client_credentials", scope="https://graph.microsoft.com/.default"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    claims = _claims(body["access_token"])
    assert claims["roles"] == ["Calendars.ReadWrite", "User.Read.All"]
    assert claims["tid"] == sandbox.tenant_id and claims["appid"] == sandbox.client_id
    assert claims["idtyp"] == "app" and "scp" not in claims

    sandbox.state.set_app_roles(["Calendars.ReadBasic.All"])
    claims = _claims(
        _token(
            http,
            sandbox,
            grant_type="client_credentials",
            scope="https://graph.microsoft.com/.default",
        ).json()["access_token"]
    )
    assert claims["roles"] == ["Calendars.ReadBasic.All"]


def test_client_credentials_with_verified_domain_and_basic_auth(sandbox, http):
    basic = base64.b64encode(f"{sandbox.client_id}:{sandbox.client_secret}".encode()).decode()
    response = http.post(
        f"{sandbox.url}/{sandbox.tenant_domain}/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "scope": "https://graph.microsoft.com/.default"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200, response.text


def test_wrong_secret_is_401_aadsts7000215(sandbox, http):
    response = _token(
        http,
        sandbox,
        client_secret="nope",
        grant_type="client_credentials",
        scope="https://graph.microsoft.com/.default",
    )
    _assert_aad_error(response, 401, "invalid_client", 7000215)


def test_unknown_client_is_aadsts700016(sandbox, http):
    response = _token(
        http,
        sandbox,
        client_id="00000000-0000-0000-0000-00000000beef",
        grant_type="client_credentials",
        scope="https://graph.microsoft.com/.default",
    )
    _assert_aad_error(response, 400, "unauthorized_client", 700016)


def test_client_credentials_needs_dot_default_scope_and_a_tenant(sandbox, http):
    response = _token(http, sandbox, grant_type="client_credentials", scope="User.Read.All")
    _assert_aad_error(response, 400, "invalid_scope", 1002012)
    response = _token(
        http,
        sandbox,
        tenant="common",
        grant_type="client_credentials",
        scope="https://graph.microsoft.com/.default",
    )
    _assert_aad_error(response, 400, "invalid_request", 50059)


def test_unsupported_grant_type(sandbox, http):
    response = _token(http, sandbox, grant_type="password", username="x", password="y")
    _assert_aad_error(response, 400, "unsupported_grant_type", 70003)


# -- authorize --------------------------------------------------------------------------


def test_authorize_redirects_with_code_and_state(sandbox, http):
    params = _redirect_params(_authorize(http, sandbox, state="abc"))
    assert params["state"] == "abc" and params["code"]


@pytest.mark.parametrize("segment", ["organizations", "common"])
def test_authorize_and_token_through_multi_tenant_segments(sandbox, http, segment):
    verifier, challenge = _pkce()
    params = _redirect_params(
        _authorize(
            http, sandbox, tenant=segment, code_challenge=challenge, code_challenge_method="S256"
        )
    )
    response = _token(
        http,
        sandbox,
        tenant=segment,
        grant_type="authorization_code",
        code=params["code"],
        redirect_uri=REDIRECT,
        code_verifier=verifier,
        scope="User.Read offline_access openid",
    )
    assert response.status_code == 200, response.text
    assert _claims(response.json()["id_token"])["iss"] == f"{sandbox.url}/{sandbox.tenant_id}/v2.0"


def test_authorize_deny_redirects_access_denied(sandbox, http):
    sandbox.state.consent = "deny"
    params = _redirect_params(_authorize(http, sandbox, state="s1"))
    assert params["error"] == "access_denied" and params["state"] == "s1"
    assert params["error_description"].startswith("AADSTS65004")


def test_authorize_admin_required_redirects_consent_required(sandbox, http):
    sandbox.state.consent = "admin_required"
    params = _redirect_params(_authorize(http, sandbox))
    assert params["error"] == "consent_required"
    assert params["error_description"].startswith("AADSTS90094")


def test_user_consent_disabled_needs_admin_consent_first(sandbox, http):
    sandbox.state.user_consent_allowed = False
    assert _redirect_params(_authorize(http, sandbox))["error"] == "consent_required"
    response = http.get(
        f"{sandbox.url}/{sandbox.tenant_id}/adminconsent",
        params={"client_id": sandbox.client_id, "redirect_uri": REDIRECT, "state": "a"},
        allow_redirects=False,
    )
    assert response.status_code == 302
    assert "code" in _redirect_params(_authorize(http, sandbox))


def test_authorize_rejects_unregistered_redirect_uri_and_unknown_client(sandbox, http):
    response = _authorize(http, sandbox, redirect_uri="https://evil.example/cb")
    assert response.status_code == 400 and "AADSTS50011" in response.text
    response = _authorize(http, sandbox, client_id="00000000-0000-0000-0000-000000000001")
    assert response.status_code == 400 and "AADSTS700016" in response.text
    response = _authorize(http, sandbox, tenant="nowhere.example")
    assert response.status_code == 400 and "AADSTS90002" in response.text


def test_signed_in_user_is_configurable(sandbox, http):
    sandbox.state.signed_in_user = "megan.bowen@contoso.onmicrosoft.com"
    code, verifier = _code(http, sandbox)
    response = _token(
        http,
        sandbox,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        code_verifier=verifier,
        scope="User.Read openid",
    )
    claims = _claims(response.json()["id_token"])
    assert claims["preferred_username"] == "megan.bowen@contoso.onmicrosoft.com"


def test_interactive_consent_page_accept_and_cancel(sandbox, http):
    sandbox.authorize_interactive = True
    page = _authorize(http, sandbox)
    assert page.status_code == 200 and "Accept" in page.text and "Cancel" in page.text
    assert "megan.bowen@contoso.onmicrosoft.com" in page.text
    form = {
        "client_id": sandbox.client_id,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "scope": "openid User.Read",
        "state": "st",
    }
    url = f"{sandbox.url}/{sandbox.tenant_id}/oauth2/v2.0/authorize"
    accepted = http.post(
        url,
        data={
            **form,
            "sandbox_action": "accept",
            "sandbox_user": "alex.wilber@contoso.onmicrosoft.com",
        },
        allow_redirects=False,
    )
    assert "code" in _redirect_params(accepted)
    cancelled = http.post(url, data={**form, "sandbox_action": "cancel"}, allow_redirects=False)
    assert _redirect_params(cancelled)["error"] == "access_denied"


# -- authorization code errors ------------------------------------------------------------


def test_auth_code_tokens_and_id_token_claims(sandbox, http):
    code, verifier = _code(http, sandbox, nonce="n-0S6")
    response = _token(
        http,
        sandbox,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        code_verifier=verifier,
        scope="User.Read Calendars.ReadWrite offline_access openid profile",
        client_info="1",
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert {"access_token", "refresh_token", "id_token", "client_info"} <= set(body)
    id_claims = _claims(body["id_token"])
    assert id_claims["nonce"] == "n-0S6" and id_claims["aud"] == sandbox.client_id
    assert id_claims["iss"] == f"{sandbox.url}/{sandbox.tenant_id}/v2.0"
    assert id_claims["exp"] > id_claims["iat"]
    access = _claims(body["access_token"])
    assert set(access["scp"].split()) >= {"User.Read", "Calendars.ReadWrite"}
    info = json.loads(base64.urlsafe_b64decode(body["client_info"] + "=="))
    assert info == {"uid": id_claims["oid"], "utid": sandbox.tenant_id}


def test_bad_code_is_aadsts9002313(sandbox, http):
    response = _token(
        http, sandbox, grant_type="authorization_code", code="garbage", redirect_uri=REDIRECT
    )
    _assert_aad_error(response, 400, "invalid_grant", 9002313)


def test_used_code_is_aadsts54005(sandbox, http):
    code, verifier = _code(http, sandbox)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
        "scope": "User.Read",
    }
    assert _token(http, sandbox, **data).status_code == 200
    _assert_aad_error(_token(http, sandbox, **data), 400, "invalid_grant", 54005)


def test_expired_code_is_aadsts70008(sandbox, http):
    code, verifier = _code(http, sandbox)
    sandbox.state.advance_clock(601)
    response = _token(
        http,
        sandbox,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        code_verifier=verifier,
    )
    _assert_aad_error(response, 400, "invalid_grant", 70008)


def test_bad_or_missing_pkce_verifier_is_aadsts501481(sandbox, http):
    code, _verifier = _code(http, sandbox)
    response = _token(
        http,
        sandbox,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        code_verifier="wrong" * 10,
    )
    _assert_aad_error(response, 400, "invalid_grant", 501481)
    response = _token(
        http, sandbox, grant_type="authorization_code", code=code, redirect_uri=REDIRECT
    )
    _assert_aad_error(response, 400, "invalid_grant", 501481)


def test_consent_withdrawn_before_redemption_is_aadsts65001(sandbox, http):
    code, verifier = _code(http, sandbox)
    sandbox.state.user_consents.clear()
    response = _token(
        http,
        sandbox,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        code_verifier=verifier,
    )
    _assert_aad_error(response, 400, "invalid_grant", 65001)


# -- refresh tokens --------------------------------------------------------------------


def _refresh_token(http, sandbox):
    code, verifier = _code(http, sandbox)
    body = _token(
        http,
        sandbox,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        code_verifier=verifier,
        scope="User.Read Calendars.ReadWrite offline_access openid",
    ).json()
    return body["refresh_token"]


def test_refresh_rotates_and_old_token_stops_working(sandbox, http):
    first = _refresh_token(http, sandbox)
    response = _token(
        http,
        sandbox,
        grant_type="refresh_token",
        refresh_token=first,
        scope="User.Read offline_access",
    )
    assert response.status_code == 200, response.text
    second = response.json()["refresh_token"]
    assert second != first
    _assert_aad_error(
        _token(http, sandbox, grant_type="refresh_token", refresh_token=first),
        400,
        "invalid_grant",
        700082,
    )
    assert (
        _token(http, sandbox, grant_type="refresh_token", refresh_token=second).status_code == 200
    )


def test_revoked_refresh_token_is_aadsts50173(sandbox, http):
    token = _refresh_token(http, sandbox)
    assert sandbox.state.revoke_refresh_tokens("adele.vance@contoso.onmicrosoft.com") == 1
    _assert_aad_error(
        _token(http, sandbox, grant_type="refresh_token", refresh_token=token),
        400,
        "invalid_grant",
        50173,
    )


def test_refresh_asking_for_unconsented_scope_is_aadsts65001(sandbox, http):
    token = _refresh_token(http, sandbox)
    response = _token(
        http,
        sandbox,
        grant_type="refresh_token",
        refresh_token=token,
        scope="Mail.Send offline_access",
    )
    _assert_aad_error(response, 400, "invalid_grant", 65001)


def test_unknown_refresh_token(sandbox, http):
    _assert_aad_error(
        _token(http, sandbox, grant_type="refresh_token", refresh_token="1.AXoAnope"),
        400,
        "invalid_grant",
        9002313,
    )


# -- admin consent -----------------------------------------------------------------------------


def test_admin_consent_grants_requested_roles(sandbox, http):
    sandbox.state.set_app_roles([])
    response = http.get(
        f"{sandbox.url}/{sandbox.tenant_domain}/adminconsent",
        params={"client_id": sandbox.client_id, "redirect_uri": REDIRECT, "state": "xyz"},
        allow_redirects=False,
    )
    params = _redirect_params(response)
    assert params == {"admin_consent": "True", "tenant": sandbox.tenant_id, "state": "xyz"}
    assert sandbox.state.app.roles == {"User.Read.All", "Calendars.ReadWrite", "Place.Read.All"}


def test_admin_consent_without_a_registered_redirect_uri_is_aadsts50011(sandbox, http):
    """Microsoft's /adminconsent needs a registered redirect URI and redirects nowhere
    without one (learn.microsoft.com, "Admin consent on the Microsoft identity platform")."""
    sandbox.state.set_app_roles([])
    url = f"{sandbox.url}/{sandbox.tenant_id}/adminconsent"
    for extra in ({}, {"redirect_uri": "https://evil.example/cb"}):
        response = http.get(
            url, params={"client_id": sandbox.client_id, **extra}, allow_redirects=False
        )
        assert response.status_code == 400 and "AADSTS50011" in response.text
        assert "Location" not in response.headers
    assert sandbox.state.app.roles == set(), "nothing granted"


def test_admin_consent_denied(sandbox, http):
    sandbox.state.consent = "deny"
    response = http.get(
        f"{sandbox.url}/{sandbox.tenant_id}/adminconsent",
        params={"client_id": sandbox.client_id, "redirect_uri": REDIRECT, "state": "q"},
        allow_redirects=False,
    )
    params = _redirect_params(response)
    assert params["error"] == "access_denied" and params["state"] == "q"
    assert params["error_description"].startswith("AADSTS65004")


def test_interactive_admin_consent_page(sandbox, http):
    sandbox.authorize_interactive = True
    sandbox.state.set_app_roles([])
    params = {"client_id": sandbox.client_id, "redirect_uri": REDIRECT, "state": "z"}
    url = f"{sandbox.url}/{sandbox.tenant_id}/adminconsent"
    page = http.get(url, params=params)
    assert page.status_code == 200 and "Place.Read.All" in page.text
    response = http.post(url, data={**params, "sandbox_action": "accept"}, allow_redirects=False)
    assert _redirect_params(response)["admin_consent"] == "True"
    assert "Place.Read.All" in sandbox.state.app.roles


def test_user_ids_are_case_insensitive(sandbox):
    user = sandbox.state.get_user("adele.vance@contoso.onmicrosoft.com")
    assert sandbox.state.get_user(user["id"].upper())["id"] == user["id"]
