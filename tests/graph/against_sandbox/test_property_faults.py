"""Property: whatever faults Graph throws (within our retry budget), a full read returns
exactly the sandbox's items — none lost, none twice.

Each example installs a random schedule of faults — 429 with and without
``Retry-After``, 503, dropped connections before and after the work — on the
``$batch`` call, on batch items and on plain requests, then reads the busy time of
several mailboxes (paged calendarView through ``$batch``) and a full users delta.
The total number of fault firings stays below the retry budget, so every read must
complete; nothing sleeps.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from m365_graph.core.config import TenantConfig
from m365_graph.core.http import PinnedSession
from m365_graph.core.retry import Budget, RetryPolicy
from m365_graph.identity.auth import AppTokenProvider
from m365_graph.identity.clients import GraphClient
from m365_graph.resources.busytime import read_busy_times
from m365_graph.resources.users import users_delta

START = datetime(2026, 3, 2, tzinfo=timezone.utc)
END = START + timedelta(days=7)
MAX_ATTEMPTS = 12

TARGETS = {
    "batch": (r"/\$batch$", False),
    "item": (r"/calendarView$", True),
    "users": (r"/users/delta", False),
}

fault = st.fixed_dictionaries(
    {
        "target": st.sampled_from(sorted(TARGETS)),
        "kind": st.sampled_from(["429", "429-ra", "503", "drop", "drop_after"]),
        "times": st.integers(1, 2),
        "retry_after": st.sampled_from([0, 1, 30]),
    }
)


@pytest.fixture(scope="module")
def tenant():
    from m365_sandbox import Sandbox

    with Sandbox(rng_seed=3) as sb:
        rng = random.Random(11)
        boxes = []
        for n in range(7):
            user = sb.state.add_user(f"Box Owner {n}")
            boxes.append(user["userPrincipalName"])
            for k in range(rng.randrange(0, 13)):
                begin = START + timedelta(days=rng.randrange(7), hours=rng.randrange(8, 18))
                sb.state.add_event(user["id"], f"e{k}", begin, begin + timedelta(minutes=45))
            # one event outside the window, which must not come back
            sb.state.add_event(
                user["id"], "old", START - timedelta(days=9), START - timedelta(days=8)
            )
        expected = {
            box: sorted(e["id"] for e in sb.state.events(box) if e["subject"] != "old")
            for box in boxes
        }
        yield sb, boxes, expected


def client_for(sb):
    config = TenantConfig(
        sb.tenant_id, sb.client_id, sb.client_secret, sb.url, sb.graph_url, sb.ca_path
    )
    session = PinnedSession(config.ca_bundle, (5, 10))
    policy = RetryPolicy(
        max_attempts=MAX_ATTEMPTS, sleep=lambda s: None, rng=random.Random(0), max_retry_after=60
    )
    provider = AppTokenProvider(config, session=session)
    # No wait budget: the faults stay within the retries, every read must complete.
    budget = Budget(max_wait=None, max_failures=None)
    return GraphClient(provider, config.graph_url, session=session, retry=policy, budget=budget)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(faults=st.lists(fault, max_size=5), workers=st.integers(1, 3), batch_size=st.integers(2, 20))
def test_full_read_survives_any_fault_schedule(tenant, faults, workers, batch_size):
    sb, boxes, expected = tenant
    sb.faults.clear()
    total = 0
    for spec in faults:
        path, in_batch = TARGETS[spec["target"]]
        kind = spec["kind"]
        sb.faults.add(
            status=503 if kind == "503" else 429,
            kind=kind if kind.startswith("drop") else "status",
            path=path,
            in_batch=in_batch,
            times=spec["times"],
            retry_after=spec["retry_after"] if kind in {"429-ra", "503"} else None,
        )
        total += spec["times"]
    assert total < MAX_ATTEMPTS

    client = client_for(sb)
    try:
        results = read_busy_times(
            client, boxes, START, END, workers=workers, page_size=3, batch_size=batch_size
        )
        for box in boxes:
            result = results[box]
            assert result.ok, result.error
            ids = [s.event_id for s in result.slots]
            assert len(ids) == len(set(ids)), "an event came twice"
            assert sorted(ids) == expected[box]

        delta = users_delta(client, page_size=4)
        assert delta.complete
        ids = [u.id for u in delta.items]
        assert len(ids) == len(set(ids))
        assert sorted(ids) == sorted(u["id"] for u in sb.state.users)
    finally:
        sb.faults.clear()
        client.close()
