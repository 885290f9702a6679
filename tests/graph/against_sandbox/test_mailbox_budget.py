"""Busy time and an outbox batch on the same mailbox at the same time stay within
Outlook's 4 concurrent requests per app and mailbox (the sandbox answers a fifth
with 429 ApplicationThrottled, "MailboxConcurrency", and records the peak).

The budget (``m365_graph.core.mailbox``): busy time reads one request per mailbox
at a time, the one unit holding the mailbox (outbox batch, personal pull) at most
``UNIT_LANES`` = 3. The control case sends the outbox with 4 lanes, as before the
budget: together with busy time it goes over the limit.
"""

from __future__ import annotations

import functools
import threading
from datetime import datetime, timedelta, timezone

import pytest

from m365_graph.core.client import GraphClient
from m365_graph.core.http import PinnedSession
from m365_graph.core.mailbox import MAILBOX_CONCURRENCY, UNIT_LANES
from m365_graph.identity.auth import AppTokenProvider
from m365_graph.resources import outbox
from m365_graph.resources.busytime import read_busy_times
from m365_graph.resources.outbox import push_operations
from m365_graph.sync.outbox import PushOperation
from m365_graph.sync.push import Appointment, build_payload

ADELE = "adele.vance@contoso.onmicrosoft.com"
UTC = timezone.utc
BASE = (datetime.now(UTC) + timedelta(days=3)).replace(hour=8, minute=0, second=0, microsecond=0)


def creates(count, prefix):
    ops = []
    for i in range(count):
        start = BASE + timedelta(hours=i)
        payload = build_payload(
            Appointment(f"Event {i}", start, start + timedelta(minutes=30), time_zone="UTC")
        ).payload
        ops.append(PushOperation(str(i), "create", payload, transaction_id=f"{prefix}-{i}"))
    return ops


@pytest.fixture
def other_worker(config, policy):
    """A second client, as another Odoo worker has: its own per-process limiter."""
    session = PinnedSession(config.ca_bundle, config.timeout)
    client = GraphClient(
        AppTokenProvider(config, session=session),
        config.graph_url,
        session=session,
        timeout=config.timeout,
        retry=policy,
    )
    yield client
    client.close()


def run_together(sb, client, reader_client, rounds=4):
    """Busy time of Adele read over and over (one worker) while her outbox is pushed
    (another worker)."""
    sb.latency = 0.15
    stop = threading.Event()
    errors = []

    def busy():
        while not stop.is_set():
            results = read_busy_times(reader_client, [ADELE], BASE - timedelta(days=7), BASE)
            errors.extend(r.error for r in results.values() if not r.ok)

    reader = threading.Thread(target=busy)
    reader.start()
    try:
        pushed = []
        for index in range(rounds):
            pushed += push_operations(client, ADELE, creates(20, f"r{index}"))
    finally:
        stop.set()
        reader.join()
    return pushed, errors


def concurrency_429s(sb):
    return [r for r in sb.log if r.fault == "concurrency"]


def test_busy_time_and_an_outbox_batch_stay_within_four(sb, app_client, other_worker):
    assert UNIT_LANES + 1 == MAILBOX_CONCURRENCY
    pushed, errors = run_together(sb, app_client, other_worker)
    assert all(r.ok for r in pushed), [r.error for r in pushed if not r.ok]
    assert not errors
    assert not concurrency_429s(sb), "no request over the mailbox's limit"
    # Both really ran at the same time: 3 lanes of the batch + 1 busy-time read.
    assert max(sb.faults.peak.values()) == MAILBOX_CONCURRENCY


def test_four_outbox_lanes_next_to_busy_time_are_throttled(
    sb, app_client, other_worker, monkeypatch
):
    monkeypatch.setattr(outbox, "_lanes", functools.partial(outbox._lanes, lanes=4))
    run_together(sb, app_client, other_worker)
    assert concurrency_429s(sb), "4 lanes + 1 busy-time read: a fifth request"
