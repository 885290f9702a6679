"""Outbox decisions: coalescing, retry schedule, error classes, the 412 conflict rule."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from m365_graph.core.errors import (
    BadResponse,
    ConsentRequired,
    GraphError,
    NotFound,
    PermissionMissing,
    PreconditionFailed,
    ReconnectNeeded,
    Throttled,
    Transient,
)
from m365_graph.sync.outbox import (
    FAIL,
    RETRY,
    WAIT_ACCOUNT,
    PushOperation,
    RetrySchedule,
    classify,
    clock_offset,
    coalesce,
    plan_batches,
    resolve_conflict,
)

UTC = timezone.utc
T0 = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("pending", "new", "sent", "result"),
    [
        ("create", "update", False, "create"),
        ("create", "create", False, "create"),
        ("create", "delete", False, None),
        ("create", "delete", True, "delete"),
        ("update", "update", False, "update"),
        ("update", "delete", False, "delete"),
        ("delete", "create", False, "update"),
        ("delete", "update", False, "update"),
        ("delete", "delete", False, "delete"),
    ],
)
def test_coalesce_table(pending, new, sent, result):
    assert coalesce(pending, new, sent=sent) == result


def test_coalesce_refuses_unknown_operations():
    with pytest.raises(ValueError):
        coalesce("create", "upsert")


# What a remote calendar looks like after a list of operations, applied one by one
# (the truth) or after coalescing them into one (what the outbox sends).
def _apply(exists, op):
    # An update of a missing event re-creates it (the drain's rule); delete removes it.
    return op in ("create", "update")


@given(st.booleans(), st.lists(st.sampled_from(["update", "delete", "create"]), max_size=8))
def test_coalescing_ends_in_the_same_calendar(exists_before, ops):
    """Any run of changes, folded into one operation, leaves the calendar the same."""
    first = "update" if exists_before else "create"
    sequence = [first, *ops]
    truth = exists_before
    for op in sequence:
        truth = _apply(truth, op)
    folded = sequence[0]
    for op in sequence[1:]:
        folded = coalesce(folded, op, sent=exists_before) if folded else op
    outcome = exists_before if folded is None else _apply(exists_before, folded)
    assert outcome == truth


def test_retry_schedule_doubles_up_to_the_cap_and_honours_retry_after():
    schedule = RetrySchedule()
    assert schedule.delay(1) == timedelta(minutes=1)
    assert schedule.delay(2) == timedelta(minutes=2)
    assert schedule.delay(5) == timedelta(minutes=16)
    assert schedule.delay(30) == timedelta(hours=6)
    assert schedule.delay(1, retry_after=600) == timedelta(minutes=10)
    assert schedule.delay(8, retry_after=5) == timedelta(minutes=128)
    assert not schedule.exhausted(13)
    assert schedule.exhausted(14)
    # "Graph down for hours" loses nothing: the budget spans more than a day.
    assert schedule.total() > timedelta(hours=24)


@given(st.integers(1, 100), st.integers(1, 100))
def test_retry_delays_never_shrink(a, b):
    schedule = RetrySchedule()
    low, high = sorted((a, b))
    assert schedule.delay(low) <= schedule.delay(high) <= schedule.longest


def test_classify():
    assert classify(ReconnectNeeded("expired")) == WAIT_ACCOUNT
    assert classify(ConsentRequired("consent")) == WAIT_ACCOUNT
    assert classify(PermissionMissing("no", permission="Calendars.ReadWrite", status=403)) == FAIL
    assert classify(Throttled("slow", status=429)) == RETRY
    assert classify(Transient("down", status=503)) == RETRY
    assert classify(Transient("dropped")) == RETRY
    assert classify(BadResponse("garbage")) == RETRY
    assert classify(PreconditionFailed("changed", status=412)) == RETRY
    assert classify(GraphError("bad request", status=400)) == FAIL
    assert classify(GraphError("dependency failed", status=424)) == RETRY
    assert classify(NotFound("gone", status=404)) == FAIL


def test_conflict_only_odoo_changed():
    decision = resolve_conflict(
        odoo_changed=True,
        remote_fingerprint="same",
        synced_fingerprint="same",
        remote_modified=T0 + timedelta(hours=1),
        odoo_changed_at=T0,
    )
    assert decision.winner == "odoo"


def test_conflict_only_outlook_changed():
    decision = resolve_conflict(
        odoo_changed=False,
        remote_fingerprint="new",
        synced_fingerprint="old",
        remote_modified=T0 - timedelta(hours=1),
        odoo_changed_at=T0,
    )
    assert decision.winner == "remote"


def test_conflict_both_changed_latest_wins():
    common = {"odoo_changed": True, "remote_fingerprint": "new", "synced_fingerprint": "old"}
    later = resolve_conflict(
        remote_modified=T0 + timedelta(seconds=5), odoo_changed_at=T0, **common
    )
    close = resolve_conflict(
        remote_modified=T0 + timedelta(seconds=1), odoo_changed_at=T0, **common
    )
    assert close.winner == "odoo", "within the clocks' precision: a tie, Odoo wins"
    earlier = resolve_conflict(
        remote_modified=T0 - timedelta(seconds=5), odoo_changed_at=T0, **common
    )
    tie = resolve_conflict(remote_modified=T0, odoo_changed_at=T0, **common)
    unknown = resolve_conflict(remote_modified=None, odoo_changed_at=T0, **common)
    assert (later.winner, earlier.winner, tie.winner, unknown.winner) == (
        "remote",
        "odoo",
        "odoo",
        "odoo",
    )


def test_conflict_corrects_graphs_clock_before_comparing():
    # Graph's clock runs 10 minutes ahead: its stamp of 12:05 means 11:55 for Odoo,
    # before the user's save at 12:00 — Odoo wins although 12:05 > 12:00.
    offset = clock_offset(T0 + timedelta(minutes=10), T0)
    assert offset == timedelta(minutes=10)
    decision = resolve_conflict(
        odoo_changed=True,
        remote_fingerprint="new",
        synced_fingerprint="old",
        remote_modified=T0 + timedelta(minutes=5),
        odoo_changed_at=T0,
        offset=offset,
    )
    assert decision.winner == "odoo"
    assert clock_offset(None, T0) is None


def test_conflict_without_a_synced_fingerprint_counts_outlook_as_changed():
    decision = resolve_conflict(
        odoo_changed=True,
        remote_fingerprint="x",
        synced_fingerprint=None,
        remote_modified=T0 + timedelta(minutes=1),
        odoo_changed_at=T0,
    )
    assert decision.winner == "remote"


def test_push_operation_validates():
    with pytest.raises(ValueError):
        PushOperation("1", "create", {"subject": "x"})
    with pytest.raises(ValueError):
        PushOperation("1", "update", {"subject": "x"})
    with pytest.raises(ValueError):
        PushOperation("1", "merge", {}, event_id="x")


def test_batches_respect_count_and_size():
    small = [PushOperation(str(i), "delete", event_id=f"e{i}") for i in range(45)]
    assert [len(c) for c in plan_batches(small)] == [20, 20, 5]
    big = [
        PushOperation(str(i), "create", {"body": "x" * 1_000_000}, transaction_id=f"t{i}")
        for i in range(5)
    ]
    chunks = plan_batches(big)
    assert [len(c) for c in chunks] == [2, 2, 1]
    assert [op.key for chunk in chunks for op in chunk] == [str(i) for i in range(5)]
    huge = [PushOperation("0", "create", {"body": "x" * 5_000_000}, transaction_id="t")]
    assert [len(c) for c in plan_batches(huge)] == [1], "an oversized body still goes alone"
