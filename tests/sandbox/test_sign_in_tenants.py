"""Who signs in: members, guests (B2B) and accounts of another tenant.

The identity platform says which tenant a sign-in is for (``tid`` of the id token)
and which tenant the account belongs to (``utid`` of ``client_info``, msal's home
account id ``<oid>.<utid>``). The sandbox reproduces both so that the engine's
sign-in rule (:func:`m365_graph.check_signed_in_identity`) is tested against
the shapes it will meet.
"""

from __future__ import annotations

import pytest

from m365_graph.core.config import TenantConfig
from m365_graph.core.errors import GraphError
from m365_graph.identity.authflow import finish_auth_code_flow, start_auth_code_flow
from m365_graph.sync.personal import WrongAccount, check_signed_in_identity

REDIRECT_URI = "http://localhost:8069/m365/oauth/callback"
FABRIKAM = "3c1d6f0e-7a2b-4c9d-8e5f-0a1b2c3d4e5f"


def _config(sandbox, tenant=None):
    return TenantConfig(
        tenant=tenant or sandbox.tenant_id,
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        authority_host=sandbox.url,
        graph_url=sandbox.graph_url,
        ca_bundle=sandbox.ca_path,
        timeout=(5.0, 10.0),
    )


def _sign_in(sandbox, upn, tenant=None):
    sandbox.state.signed_in_user = upn
    config = _config(sandbox, tenant)
    begun = start_auth_code_flow(config, REDIRECT_URI, scopes=["User.Read", "openid"])
    params = sandbox.browse_authorize(begun.auth_url)
    return params, config, begun


def test_a_member_signs_in_with_this_tenant(sandbox):
    member = sandbox.state.add_user("Nestor Wilke", upn="nestor@contoso.example")
    params, config, begun = _sign_in(sandbox, member["userPrincipalName"])
    result = finish_auth_code_flow(config, begun.flow, params)
    assert result.claims["tid"] == sandbox.tenant_id
    assert result.home_account_id == f"{member['id']}.{sandbox.tenant_id}"
    oid = check_signed_in_identity(
        result.claims, result.home_account_id, expected_tenant=sandbox.tenant_id
    )
    assert oid == member["id"]


def test_a_guest_signs_in_here_but_belongs_elsewhere(sandbox):
    guest = sandbox.state.add_user(
        "Pat Guest",
        upn="pat.guest_fabrikam.com#EXT#@contoso.onmicrosoft.com",
        mail="pat.guest@fabrikam.com",
        user_type="Guest",
    )
    assert guest["userType"] == "Guest"
    params, config, begun = _sign_in(sandbox, guest["userPrincipalName"])
    result = finish_auth_code_flow(config, begun.flow, params)
    assert result.claims["tid"] == sandbox.tenant_id, "tid: the tenant signed into"
    home_tid = result.home_account_id.partition(".")[2]
    assert home_tid and home_tid != sandbox.tenant_id, "utid: the guest's own tenant"
    with pytest.raises(WrongAccount, match="guest"):
        check_signed_in_identity(
            result.claims, result.home_account_id, expected_tenant=sandbox.tenant_id
        )


def test_an_account_of_another_tenant(sandbox):
    outsider = sandbox.state.add_foreign_user(
        "Kim Akers", "kim.akers@fabrikam.example", tenant_id=FABRIKAM
    )
    # Not in this directory.
    assert sandbox.state.user_record(outsider["id"]) is None
    # This tenant's own endpoint refuses it (AADSTS50020)...
    params, *_rest = _sign_in(sandbox, outsider["userPrincipalName"])
    assert params["error"] == "access_denied"
    assert "AADSTS50020" in params["error_description"]
    # ...the multi-tenant endpoint signs it in with its own tenant.
    params, config, begun = _sign_in(sandbox, outsider["userPrincipalName"], "organizations")
    result = finish_auth_code_flow(config, begun.flow, params)
    assert result.claims["tid"] == FABRIKAM
    assert result.home_account_id == f"{outsider['id']}.{FABRIKAM}"
    with pytest.raises(WrongAccount, match="another organisation"):
        check_signed_in_identity(
            result.claims, result.home_account_id, expected_tenant=sandbox.tenant_id
        )


def test_a_token_of_another_tenant_is_refused_by_graph(sandbox):
    outsider = sandbox.state.add_foreign_user("Kim Akers", "kim@fabrikam.example", FABRIKAM)
    params, config, begun = _sign_in(sandbox, outsider["userPrincipalName"], "organizations")
    result = finish_auth_code_flow(config, begun.flow, params)
    from m365_graph.identity.clients import GraphClient
    from m365_graph.sync.personal import refresh_scopes

    client = GraphClient.for_account(
        config,
        result.cache_blob,
        home_account_id=result.home_account_id,
        scopes=refresh_scopes(result.granted_scopes),
    )
    with pytest.raises(GraphError):
        client.get_json("/me", what="Reading the signed-in user")
