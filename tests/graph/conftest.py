"""Fixtures of the m365_graph tests.

Why this file exists: every integration test talks HTTPS to the sandbox with
``REQUESTS_CA_BUNDLE`` and ``CURL_CA_BUNDLE`` pointing at the *system* bundle (which
does not trust the sandbox's CA), so a passing test proves that the client's own CA
parameter wins. Retries never sleep: the policy's ``sleep`` only records waits.
"""

from __future__ import annotations

import os
import random

import pytest

from m365_graph.core.config import TenantConfig
from m365_graph.core.http import PinnedSession
from m365_graph.core.retry import RetryPolicy
from m365_graph.identity.auth import AppTokenProvider
from m365_graph.identity.clients import GraphClient

SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


@pytest.fixture(autouse=True)
def hostile_ca_environment(monkeypatch):
    """The environment's CA bundle would reject the sandbox: our parameter must win."""
    bundle = SYSTEM_BUNDLE if os.path.exists(SYSTEM_BUNDLE) else os.devnull
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", bundle)
    monkeypatch.setenv("CURL_CA_BUNDLE", bundle)


@pytest.fixture
def waits():
    """Seconds the client asked to sleep, in order (nothing actually sleeps)."""
    return []


@pytest.fixture
def policy(waits):
    return RetryPolicy(max_attempts=5, sleep=waits.append, rng=random.Random(1))


def _sandbox_class():
    try:
        from m365_sandbox import Sandbox
    except ImportError:
        return None
    return Sandbox


@pytest.fixture
def sb():
    """A fresh sandbox per test (a cheap object: one HTTPS server thread)."""
    sandbox_cls = _sandbox_class()
    if sandbox_cls is None:
        pytest.skip("m365_sandbox.Sandbox is not available yet")
    sandbox = sandbox_cls(seed=None, latency=0.0, port=0, rng_seed=0).start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


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
    from m365_graph.identity.authflow import finish_auth_code_flow, start_auth_code_flow

    def connect(**kwargs):
        start = start_auth_code_flow(config, REDIRECT_URI, **kwargs)
        params = browser_sign_in(sb, start.auth_url)
        return finish_auth_code_flow(config, start.flow, params)

    return connect
