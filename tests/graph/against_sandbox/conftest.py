"""Fixtures of the tests against the sandbox: the tenant, its settings, clients, sign-in.

Why this file exists: every test here talks HTTPS to an ``m365_sandbox`` tenant.
There is one sandbox fixture, ``sandbox`` of ``tests/conftest.py`` (a fresh default
tenant per test); ``sb`` is its short name here, and the other fixtures build on it.
"""

from __future__ import annotations

import pytest

from m365_graph.core.client import GraphClient
from m365_graph.core.config import TenantConfig
from m365_graph.core.http import PinnedSession
from m365_graph.identity.auth import AppTokenProvider
from m365_graph.identity.authflow import finish_auth_code_flow, start_auth_code_flow


@pytest.fixture
def sb(sandbox):
    """The sandbox of the test: ``tests/conftest.py``'s one ``sandbox`` fixture.

    A fresh default tenant per test (one HTTPS server thread), stopped after it.
    """
    return sandbox


@pytest.fixture
def config(sb):
    return TenantConfig(
        tenant=sb.tenant_id,
        client_id=sb.client_id,
        client_secret=sb.client_secret,
        authority_host=sb.url,
        graph_url=sb.graph_url,
        ca_bundle=sb.ca_path,
        timeout=(5.0, 10.0),
    )


@pytest.fixture
def app_client(config, policy):
    session = PinnedSession(config.ca_bundle, config.timeout)
    provider = AppTokenProvider(config, session=session)
    client = GraphClient(
        provider, config.graph_url, session=session, timeout=config.timeout, retry=policy
    )
    yield client
    client.close()


REDIRECT_URI = "http://localhost:8069/m365/oauth/callback"


def browser_sign_in(sb, auth_url):
    """What the user's browser does: follow the authorize URL, return the callback params."""
    return sb.browse_authorize(auth_url)


@pytest.fixture
def connect_account(sb, config):
    """Run the auth-code + PKCE flow for ``sb.state.signed_in_user``; return the result."""

    def connect(**kwargs):
        start = start_auth_code_flow(config, REDIRECT_URI, **kwargs)
        params = browser_sign_in(sb, start.auth_url)
        return finish_auth_code_flow(config, start.flow, params)

    return connect
