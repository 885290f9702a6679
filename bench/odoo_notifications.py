"""Benchmark: change notifications through Odoo — what a quiet hour costs, how fast a
change arrives, and a burst of notifications.

Why this file exists: webhooks are meant to make a quiet tenant cost nothing and a
change in Outlook reach Odoo in under a minute. This measures it end to end on a
scratch database with 1,000 Odoo users matching 1,000 sandbox mailboxes (busy time,
application permission): Odoo's WSGI application is served over real HTTP in a
thread (the webhook), the sandbox subscribes it (validation handshake), sends real
notification POSTs from its delivery thread, and a cron thread runs Odoo's own
``ir.cron._process_jobs`` every second (Odoo's cron worker wakes on the webhook's
``_trigger``; polling each second stands for that wake-up). Figures:

1. creating the 1,000 subscriptions (Graph requests, time);
2. a no-change hour with notifications active: every cron run as an hour would
   (notification cron each minute, busy-time cron every 5, subscription cron every
   15, on a clock moved forward), Graph requests spent — target 0 besides renewals —
   next to the same hour polling without notifications;
3. latency from a change in the sandbox to the busy slot in Odoo, p50/p95/max, with
   the default settings — target p95 < 60 s;
4. 1,000 changes in 10 s (one per mailbox; the sandbox repeats updates as real
   tenants do, so more notifications than changes), with a flood of forged POSTs at
   the same time: the slowest answer to a genuine POST (target < 3 s) and the
   changes applied (target all).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from unittest.mock import patch

import requests

from m365_sandbox import Sandbox, bulk_seed

from .odoo_busy import _make_users
from .odoosupport import odoo_env, point_tenant_at


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.odoo_notifications", description=__doc__)
    parser.add_argument("--mailboxes", type=int, default=1000, help="users with mailboxes (1000)")
    parser.add_argument("--events", type=int, default=5, help="appointments per mailbox (5)")
    parser.add_argument("--latency", type=float, default=0.030, help="seconds per request (0.030)")
    parser.add_argument("--changes", type=int, default=40, help="changes timed one by one (40)")
    parser.add_argument("--burst", type=int, default=1000, help="changes of the burst (1000)")
    parser.add_argument("--port", type=int, default=18250, help="Odoo's HTTP port (18250)")
    parser.add_argument(
        "--db", default="m365_bench_notifications", help="scratch database (dropped first)"
    )
    return parser.parse_args(argv)


def _serve_odoo(port: int):
    """Odoo's WSGI application on http://127.0.0.1:port, in a thread."""
    from werkzeug.serving import make_server

    import odoo.http

    server = make_server("127.0.0.1", port, odoo.http.root, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="odoo-http")
    thread.start()
    return server


class CronThread:
    """Odoo's cron worker: ``ir.cron._process_jobs`` every ``every`` seconds."""

    def __init__(self, dbname: str, every: float = 1.0):
        self.dbname, self.every = dbname, every
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name="odoo-cron")

    def _run(self):
        from odoo.addons.base.models.ir_cron import IrCron

        while not self.stop.is_set():
            IrCron._process_jobs(self.dbname)
            self.stop.wait(self.every)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=120)


def _graph_requests(sb) -> int:
    """Graph round trips (a ``$batch`` counts once; its items are not requests)."""
    return sum(1 for r in sb.log.records() if r.path.startswith("/v1.0") and not r.in_batch)


def _subscribe(env, sb) -> dict:
    sb.log.clear()
    began = time.perf_counter()
    env["m365.job.subscription"]._m365_cron()
    env.cr.commit()
    took = time.perf_counter() - began
    Sub = env["m365.subscription"]
    active = Sub.search_count([("state", "=", "active")])
    posts = sum(1 for r in sb.log.records() if r.method == "POST" and "subscriptions" in r.path)
    print(
        f"  subscribe: {active} subscriptions active in {took:.0f} s, {_graph_requests(sb)} "
        f"Graph requests ({posts} POST /subscriptions, each validated by the webhook)"
    )
    return {"subscribe_seconds": took, "subscriptions": active}


@contextmanager
def _clock(minutes: float):
    """Odoo's clock moved ``minutes`` forward (the sandbox's needs no move: no token
    or subscription expires within the hour)."""
    from odoo import fields

    real_now = fields.Datetime.now
    shift = timedelta(minutes=minutes)
    with patch.object(fields.Datetime, "now", staticmethod(lambda: real_now() + shift)):
        yield


def _quiet_hour(env, sb, label: str) -> int:
    """Every cron of an hour, on a clock moved a minute at a time: Graph requests."""
    Busy = env["m365.job.busy"]
    Subs = env["m365.job.subscription"]
    sb.log.clear()
    for minute in range(60):
        with _clock(minute):
            Subs._m365_dispatch_notifications()
            if minute % 5 == 0:
                Busy._m365_cron()
            if minute % 15 == 0:
                Subs._m365_cron()
        env.cr.commit()
    spent = _graph_requests(sb)
    print(f"  no-change hour, {label}: {spent} Graph requests")
    return spent


def _slot_of(env, event_id: str) -> bool:
    env.cr.rollback()
    env.cr.execute("SELECT 1 FROM m365_busy_slot WHERE event_id = %s", (event_id,))
    return bool(env.cr.fetchone())


def _latency(env, sb, upns, count: int, day) -> dict:
    """Changes one at a time: seconds until each one's slot is in Odoo."""
    rng = random.Random(7)
    times = []
    for n in range(count):
        upn = rng.choice(upns)
        start = datetime.combine(day, datetime.min.time(), timezone.utc) + timedelta(hours=9)
        began = time.perf_counter()
        event = sb.state.add_event(upn, f"Latency {n}", start, start + timedelta(hours=1))
        while not _slot_of(env, event["id"]):
            if time.perf_counter() - began > 180:
                break
            time.sleep(0.05)
        times.append(time.perf_counter() - began)
        time.sleep(0.2)
    times.sort()
    p50 = statistics.median(times)
    p95 = times[max(0, round(0.95 * len(times)) - 1)]
    print(
        f"  change → Odoo slot ({count} changes): p50 {p50:.1f} s, p95 {p95:.1f} s, "
        f"max {times[-1]:.1f} s (target p95 < 60 s: {'met' if p95 < 60 else 'MISSED'})"
    )
    return {"latency_p50": p50, "latency_p95": p95, "latency_max": times[-1]}


def _flood(url: str, stop: threading.Event, sent: list):
    session = requests.Session()
    body = json.dumps(
        {"value": [{"subscriptionId": "forged", "clientState": "guess", "changeType": "updated"}]}
    )
    while not stop.is_set():
        try:
            session.post(url, data=body, timeout=10)
            sent[0] += 1
        except requests.RequestException:
            pass


def _burst(env, sb, upns, count: int, day, *, hook: str) -> dict:
    hub = sb.notifications
    hub.log.clear()
    ids = []
    stop = threading.Event()
    sent = [0]
    flooders = [threading.Thread(target=_flood, args=(hook, stop, sent)) for _ in range(2)]
    for thread in flooders:
        thread.start()
    began = time.perf_counter()
    start = datetime.combine(day, datetime.min.time(), timezone.utc) + timedelta(hours=14)
    for n in range(count):
        upn = upns[n % len(upns)]
        event = sb.state.add_event(upn, f"Burst {n}", start, start + timedelta(hours=1))
        sb.state.update_event(upn, event["id"], subject=f"Burst {n}!")
        ids.append(event["id"])
        pause = began + 10.0 * (n + 1) / count - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
    made = time.perf_counter() - began
    hub.flush(120)
    stop.set()
    for thread in flooders:
        thread.join()
    delivered = time.perf_counter() - began
    deadline = time.perf_counter() + 300
    applied = 0
    while time.perf_counter() < deadline:
        env.cr.rollback()
        env.cr.execute("SELECT count(*) FROM m365_busy_slot WHERE event_id = ANY(%s)", (ids,))
        applied = env.cr.fetchone()[0]
        if applied >= len(ids):
            break
        time.sleep(0.5)
    done = time.perf_counter() - began
    genuine = [d for d in hub.log if not d.lifecycle]
    slowest = max((d.duration for d in genuine), default=0.0)
    items = sum(d.items for d in genuine)
    failed = sum(1 for d in genuine if not 200 <= d.status < 300)
    print(
        f"  burst: {count} changes in {made:.1f} s → {items} notifications in {len(genuine)} "
        f"POSTs ({failed} not answered 2xx), slowest answer {slowest * 1000:.0f} ms "
        f"(target < 3 s: {'met' if slowest < 3 else 'MISSED'}); meanwhile {sent[0]} forged "
        f"POSTs ({sent[0] / max(delivered, 0.001):.0f}/s) dropped; {applied}/{count} changes "
        f"in Odoo after {done:.0f} s ({'all' if applied >= count else 'NOT ALL'})"
    )
    return {
        "burst_slowest_answer": slowest,
        "burst_applied": applied,
        "burst_seconds_to_all": done,
        "burst_forged": sent[0],
    }


def main(argv: list[str] | None = None) -> dict[str, float]:
    args = parse_args(argv)
    print(
        f"change notifications through Odoo: {args.mailboxes} mailboxes (busy time), sandbox "
        f"latency {args.latency * 1000:.0f} ms, Odoo's webhook on 127.0.0.1:{args.port}"
    )
    today = datetime.now(timezone.utc).date()
    first = datetime.combine(today - timedelta(days=7), datetime.min.time(), timezone.utc)
    seed = bulk_seed(args.mailboxes, args.events, first, 98, mailboxes=args.mailboxes)
    figures: dict[str, float] = {}
    with Sandbox(seed=seed, latency=0.0) as sb, odoo_env(args.db) as env:
        hub = sb.notifications
        base = f"http://127.0.0.1:{args.port}"
        server = _serve_odoo(args.port)
        try:
            tenant = point_tenant_at(env, sb, busy_sync=True)
            _make_users(env, sb, args.mailboxes)
            sb.latency = args.latency
            began = time.perf_counter()
            env["m365.job.busy"]._m365_import_busy(tenant)
            env.cr.commit()
            print(f"  initial busy-time import: {time.perf_counter() - began:.0f} s")
            # Notifications off: the same quiet hour polls.
            tenant.write({"notifications_enabled": False})
            env.cr.commit()
            polled = _quiet_hour(env, sb, "polling only (notifications off)")
            tenant.write({"notifications_enabled": True, "notification_base_url": base})
            env.cr.commit()
            figures.update(_subscribe(env, sb))
            print(f"  Settings: {tenant.notifications_status}")
            quiet = _quiet_hour(env, sb, "notifications active")
            figures.update({"quiet_hour_polling": polled, "quiet_hour_notified": quiet})
            upns = [u["userPrincipalName"] for u in sb.state.users][: args.mailboxes]
            upns = [u for u in upns if u.split("@")[0][-5:].isdigit()]
            day = today + timedelta(days=3)
            with CronThread(env.cr.dbname):
                figures.update(_latency(env, sb, upns, args.changes, day))
                figures.update(
                    _burst(env, sb, upns, args.burst, day, hook=f"{base}/m365_sync/webhook")
                )
            print(
                f"  delivery log: {len(hub.log)} POSTs, {len(hub.dropped)} dropped after "
                "the retry window"
            )
        finally:
            server.shutdown()
    return figures


if __name__ == "__main__":
    main()
