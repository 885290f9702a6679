"""The pinned CA bundle beats the environment; tokens' claims are readable."""

from __future__ import annotations

import jwt
import pytest

from m365_graph.core.config import TenantConfig
from m365_graph.core.errors import BadResponse
from m365_graph.core.http import PinnedSession
from m365_graph.identity.claims import decode_claims, granted_roles, granted_scopes


def test_environment_bundle_overrides_plain_session(monkeypatch):
    # The problem being solved: requests lets the environment win over Session.verify.
    import requests

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/env/bundle.pem")
    plain = requests.Session()
    plain.verify = "/my/bundle.pem"
    assert plain.merge_environment_settings("https://x", {}, None, None, None)["verify"] == (
        "/env/bundle.pem"
    )


def test_pinned_session_keeps_its_bundle(monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/env/bundle.pem")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/env/curl.pem")
    session = PinnedSession("/my/bundle.pem", (3, 9))
    settings = session.merge_environment_settings("https://x", {}, None, None, None)
    assert settings["verify"] == "/my/bundle.pem"
    assert session.default_timeout == (3.0, 9.0)


def test_pinned_session_without_bundle_behaves_like_requests(monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/env/bundle.pem")
    session = PinnedSession(None)
    assert session.merge_environment_settings("https://x", {}, None, None, None)["verify"] == (
        "/env/bundle.pem"
    )


def token(claims):
    return jwt.encode(claims, "secret-for-tests-only-0123456789abcdef", algorithm="HS256")


def test_roles_and_scopes():
    assert granted_roles(token({"roles": ["User.Read.All", "Calendars.Read"]})) == {
        "User.Read.All",
        "Calendars.Read",
    }
    assert granted_roles(token({"tid": "t"})) == frozenset()
    assert granted_scopes(token({"scp": "User.Read Calendars.ReadWrite"})) == {
        "User.Read",
        "Calendars.ReadWrite",
    }
    assert decode_claims(token({"tid": "t1"}))["tid"] == "t1"


@pytest.mark.parametrize("bad", ["", "abc", "a.b.c", None])
def test_not_a_jwt(bad):
    with pytest.raises(BadResponse):
        decode_claims(bad)


def test_config_resources_and_scopes():
    world = TenantConfig("t", "c", "s")
    assert world.authority == "https://login.microsoftonline.com/t"
    assert world.app_scopes == ["https://graph.microsoft.com/.default"]
    us = TenantConfig("t", "c", "s", "login.microsoftonline.us", "https://graph.microsoft.us/v1.0/")
    assert us.authority == "https://login.microsoftonline.us/t"
    assert us.graph_url == "https://graph.microsoft.us/v1.0"
    assert world.delegated_scopes(["User.Read"]) == ["User.Read"]
    assert us.delegated_scopes(["User.Read", "openid"]) == [
        "https://graph.microsoft.us/User.Read",
        "openid",
    ]
    sandbox = TenantConfig("t", "c", "s", "https://127.0.0.1:9", "https://127.0.0.1:9/v1.0")
    assert sandbox.graph_resource == "https://graph.microsoft.com"
    with pytest.raises(ValueError):
        TenantConfig("", "c")
