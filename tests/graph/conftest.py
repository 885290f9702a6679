"""Fixtures of every m365_graph test (``unit/`` and ``against_sandbox/``).

Why this file exists: every test runs with ``REQUESTS_CA_BUNDLE`` and
``CURL_CA_BUNDLE`` pointing at the *system* bundle (which does not trust the
sandbox's CA), so a passing sandbox test proves that the client's own CA parameter
wins. Retries never sleep: the policy's ``sleep`` only records waits. The sandbox
fixtures are in ``against_sandbox/conftest.py``.
"""

from __future__ import annotations

import os
import random

import pytest

from m365_graph.core.retry import RetryPolicy

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
