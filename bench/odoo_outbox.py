"""Upload through the outbox: 500 appointments created in Odoo in one transaction.

Why this file exists: the issue asks what draining the outbox costs once a user
(or an import) creates many appointments at once — HTTP round trips (creations go
20 per ``$batch``) and wall time — compared, in the same run and against the same
sandbox latency, with sending one request per appointment. Measured on the whole
path on a scratch database: the ORM create (which queues the outbox rows in the
same transaction), the drain job (Graph writes through the sandbox, links and
bookkeeping written by the ORM), then a drain with nothing to send, and a pull
right after the push (echo check: nothing may change).

Run: ``make bench-odoo`` (all Odoo benchmarks) or
``python -m bench.odoo_outbox [--events 500 --latency 0.02]``.
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import datetime, timedelta, timezone

from m365_graph import (
    Appointment,
    build_payload,
    create_event,
)
from m365_graph.core.counters import Counters
from m365_sandbox import Sandbox

from .common import rate
from .odoosupport import connect_account, odoo_env, point_tenant_at


def _connect(env, sb: Sandbox, upn: str, login: str):
    """A bench user whose Microsoft 365 account is connected (no browser needed)."""
    user = env["res.users"].create(
        {"name": f"Bench {login}", "login": login, "email": f"{login}@example.com"}
    )
    user.tz = "Europe/Brussels"
    account = env["m365.account"].create({"user_id": user.id, "direction": "both"})
    return connect_account(env, sb, account, upn)


def _graph_calls(sb: Sandbox) -> int:
    """HTTP round trips to Graph (a ``$batch`` counts once; sign-in endpoints do not)."""
    return sum(1 for r in sb.log if not r.in_batch and r.path.startswith("/v1.0/"))


def _drain(env, sb: Sandbox):
    sb.log.clear()
    began = time.perf_counter()
    env["m365.job.outbox"]._m365_cron()
    env.cr.commit()
    took = time.perf_counter() - began
    run = env["m365.sync.run"].search([("kind", "=", "outbox")], order="id desc", limit=1)
    return run, took, _graph_calls(sb)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.odoo_outbox", description=__doc__)
    parser.add_argument("--events", type=int, default=500, help="appointments created")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per request")
    parser.add_argument("--db", default="m365_bench_outbox")
    args = parser.parse_args(argv)

    print(
        f"outbox: {args.events} appointments created in Odoo in one transaction, "
        f"latency {args.latency * 1000:.0f} ms"
    )
    start = datetime.now(timezone.utc).replace(tzinfo=None, minute=0, second=0, microsecond=0)
    with Sandbox(latency=0.0) as sb:
        upn, other = (u["userPrincipalName"] for u in sb.state.users[:2])
        with odoo_env(args.db) as env:
            point_tenant_at(env, sb, personal_sync=True)
            account = _connect(env, sb, upn, "bench_outbox")
            baseline_account = _connect(env, sb, other, "bench_baseline")
            sb.latency = args.latency
            user = account.user_id

            values = [
                {
                    "name": f"Appointment {i + 1}",
                    "start": start + timedelta(days=1 + i // 8, hours=i % 8),
                    "stop": start + timedelta(days=1 + i // 8, hours=i % 8, minutes=45),
                    "location": f"Room {i % 12 + 1}",
                    "description": f"<p>Prepared in Odoo, appointment {i + 1}.</p>",
                    "user_id": user.id,
                    "partner_ids": [(6, 0, user.partner_id.ids)],
                }
                for i in range(args.events)
            ]
            began = time.perf_counter()
            events = env["calendar.event"].with_user(user).create(values)
            env.cr.commit()
            queued = env["m365.outbox"].search_count([("account_id", "=", account.id)])
            took = time.perf_counter() - began
            print(
                f"  create in Odoo: {len(events)} appointments, {queued} outbox rows written in "
                f"the same transaction, {took:.1f} s (no Graph call)"
            )

            run, took, calls = _drain(env, sb)
            remote = len(sb.state.events(upn))
            print(
                f"  outbox drain:   {run.created} created in Outlook ({remote} events there) "
                f"in {took:.1f} s = {rate(run.created, took)} events/s; {run.http_requests} "
                f"Graph round trips ({calls} seen by the sandbox), {run.throttled} throttled"
            )
            batched_took, batched_calls = took, run.http_requests

            run, took, calls = _drain(env, sb)
            print(
                f"  nothing queued: {calls} Graph round trip(s), {took * 1000:.0f} ms "
                f"({env['m365.outbox'].search_count([])} rows left)"
            )

            sb.log.clear()
            began = time.perf_counter()
            ok = account._m365_sync()
            env.cr.commit()
            took = time.perf_counter() - began
            pull = env["m365.sync.run"].search(
                [("kind", "=", "personal"), ("user_id", "=", user.id)], order="id desc", limit=1
            )
            print(
                f"  pull right after the push: ok={ok}, {pull.created} created, {pull.updated} "
                f"updated, {pull.deleted} deleted (echo-free), {took:.1f} s"
            )

            # Same appointments, one POST each, through the same client code and latency.
            counters = Counters()
            with baseline_account._m365_client(counters) as client:
                began = time.perf_counter()
                for event in events:
                    payload = build_payload(
                        Appointment(
                            event.name,
                            event.start,
                            event.stop,
                            time_zone="Europe/Brussels",
                            description=event.description,
                            location=event.location,
                        )
                    ).payload
                    create_event(client, "me", payload, transaction_id=str(uuid.uuid4()))
                single_took = time.perf_counter() - began
            env.cr.commit()
            single_calls = counters.snapshot().requests
            print(
                f"  one request per event: {single_calls} round trips, {single_took:.1f} s = "
                f"{rate(len(events), single_took)} events/s"
            )
            print(
                f"  batched drain vs one request per event: {single_calls / batched_calls:.1f}x "
                f"fewer round trips, {single_took / batched_took:.1f}x faster"
            )


if __name__ == "__main__":
    main()
