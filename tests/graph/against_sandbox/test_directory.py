"""Matching Odoo users to mailboxes through the directory (against the sandbox)."""

from __future__ import annotations

import pytest

from m365_graph.core.config import TenantConfig
from m365_graph.core.errors import PermissionMissing
from m365_graph.identity.clients import GraphClient
from m365_graph.resources.directory import read_directory


def client_for(sb, policy):
    config = TenantConfig(
        sb.tenant_id,
        sb.client_id,
        sb.client_secret,
        authority_host=sb.url,
        graph_url=sb.graph_url,
        ca_bundle=sb.ca_path,
    )
    return GraphClient.for_app(config, retry=policy)


def test_read_directory_maps_mail_and_upn_to_the_user_id(sb, policy):
    before = len(sb.state.users)
    ada = sb.state.add_user(
        "Ada Lovelace", upn="ada.lovelace@contoso.onmicrosoft.com", mail="A.Lovelace@Contoso.com"
    )
    bulk = [sb.state.add_user(f"User {n}") for n in range(5)]
    sb.state.set_app_roles(["User.ReadBasic.All", "Calendars.ReadBasic.All"])
    client = client_for(sb, policy)
    directory = read_directory(client, page_size=2)
    assert directory.users == before + 6
    assert directory.lookup("a.lovelace@contoso.com") == ada["id"]
    assert directory.lookup(" ADA.LOVELACE@contoso.onmicrosoft.com ") == ada["id"]
    assert directory.lookup(bulk[3]["userPrincipalName"]) == bulk[3]["id"]
    assert directory.lookup("nobody@contoso.com") is None
    pages = sb.log.filter(r"/users$")
    assert len(pages) == -(-directory.users // 2), "every page of 2 was read"
    assert pages[0].query == {"$select": "id,mail,userPrincipalName", "$top": "2"}


def test_read_directory_needs_a_directory_permission(sb, policy):
    sb.state.set_app_roles(["Calendars.ReadBasic.All"])
    with pytest.raises(PermissionMissing) as caught:
        read_directory(client_for(sb, policy))
    assert caught.value.permission == "User.ReadBasic.All"
