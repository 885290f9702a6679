"""Shared pytest fixtures."""

import pytest

from m365_sandbox import Sandbox


@pytest.fixture
def sandbox():
    """A fresh Microsoft 365 sandbox (default small tenant), started for one test.

    Function-scoped: every test gets its own tenant state, request log and
    faults, on its own port; starting one takes a few milliseconds once the
    process-wide CA and signing key exist. Stopped after the test.
    """
    with Sandbox() as sb:
        yield sb
