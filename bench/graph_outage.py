"""How long a unit of work holds a worker when Graph goes away: the circuit breaker.

Why this file exists: without a wait budget, a busy-time cycle whose Graph answered
503 from part-way on ran 12.5 minutes and ended "done", and an outbox drain of 500
rows throttled with ``Retry-After: 10`` ran 8.4 minutes — far past Odoo's 120 s
cron limit. This benchmark replays both against the sandbox with real waits and
prints how long each unit now runs before it stops as "Graph unavailable", and
how many requests it sent. ``--no-budget`` runs the same without the breaker
(only the per-request retries bound it) for comparison.
"""

from __future__ import annotations

import argparse
import time

from m365_graph import read_busy_times
from m365_graph.core.errors import GraphError, GraphUnavailable
from m365_graph.core.retry import Budget, RetryPolicy
from m365_graph.resources.outbox import push_operations
from m365_graph.sync.outbox import PushOperation

from .common import app_client, sandbox, window

# The addon's settings (m365_sync/models/m365_busy_slot.py and m365_outbox.py).
BUSY_BUDGET = {"max_wait": 60.0, "max_failures": 8}
DRAIN_RETRY = {"max_attempts": 3, "max_retry_after": 30}
DRAIN_BUDGET = {"max_wait": 45.0, "max_failures": 6}
CHUNK = 100


def busy_outage(mailboxes: int, latency: float, after: int, budget: bool) -> None:
    with sandbox(mailboxes, 5, mailboxes=None, latency=latency, days=7) as sb:
        users = [u["userPrincipalName"] for u in sb.state.users][:mailboxes]
        client = app_client(sb, budget=Budget(**BUSY_BUDGET) if budget else Budget(None, None))
        sb.faults.add(status=503, path=r"/\$batch$", after=after, times=None)
        start, end = window(7)
        began = time.perf_counter()
        read = failed = 0
        outcome = "done"
        try:
            for n in range(0, len(users), CHUNK):
                results = read_busy_times(client, users[n : n + CHUNK], start, end)
                read += sum(1 for r in results.values() if r.ok)
                failed += sum(1 for r in results.values() if not r.ok)
        except GraphUnavailable as exc:
            outcome = (
                f"failed — Graph unavailable ({exc.failures} failures, {exc.waited:.0f} s waited)"
            )
        seconds = time.perf_counter() - began
        snap = client.counters.snapshot()
        print(
            f"  busy cycle, {mailboxes} mailboxes, 503 after {after} $batch calls: "
            f"{seconds:.1f} s, {snap.requests} requests, {read} read, {failed} failed — {outcome}"
        )


def drain_storm(rows: int, latency: float, retry_after: int, budget: bool) -> None:
    with sandbox(3, 0, mailboxes=None, latency=latency, days=7) as sb:
        upn = sb.state.users[0]["userPrincipalName"]
        client = app_client(
            sb,
            retry=RetryPolicy(**DRAIN_RETRY),
            budget=Budget(**DRAIN_BUDGET) if budget else Budget(None, None),
        )
        sb.faults.add(
            status=429, path=r"/events$", in_batch=True, times=None, retry_after=retry_after
        )
        start, _end = window(7)
        ops = [
            PushOperation(
                str(n),
                "create",
                {
                    "subject": f"Appointment {n}",
                    "start": {"dateTime": start.strftime("%Y-%m-%dT09:00:00"), "timeZone": "UTC"},
                    "end": {"dateTime": start.strftime("%Y-%m-%dT10:00:00"), "timeZone": "UTC"},
                },
                transaction_id=f"tx-{n}",
            )
            for n in range(rows)
        ]
        began = time.perf_counter()
        results = push_operations(client, upn, ops)
        seconds = time.perf_counter() - began
        waiting = sum(1 for r in results if isinstance(r.error, GraphUnavailable))
        other = sum(1 for r in results if isinstance(r.error, GraphError)) - waiting
        snap = client.counters.snapshot()
        print(
            f"  drain of {rows} rows, Retry-After: {retry_after}: {seconds:.1f} s, "
            f"{snap.requests} requests, {waiting} rows wait for Graph (no try spent), "
            f"{other} rows to retry"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.graph_outage", description=__doc__)
    parser.add_argument("--mailboxes", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.03)
    parser.add_argument("--no-budget", action="store_true")
    args = parser.parse_args(argv)
    print("outage: how long a unit holds its worker when Graph goes away")
    busy_outage(args.mailboxes, args.latency, after=3, budget=not args.no_budget)
    drain_storm(args.rows, args.latency, retry_after=10, budget=not args.no_budget)


if __name__ == "__main__":
    main()
