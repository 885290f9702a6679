"""Personal sync through Odoo: the first pull of a big mailbox, then a sync without change.

The sandbox answers ``calendarView/delta`` in Graph's real shape: series masters in
full, occurrences as stubs (id, series, type, start, end, etag), so the benchmark
also counts the appointments that came out as "(No title)" (must be 0) and how many
stubs the delta sent.

Why this file exists: the issue asks how long the first import of one account takes
and what a no-change sync costs (HTTP round trips and wall time), measured on the
whole path — Graph reads through the sandbox with simulated latency *and* the ORM
writes of ``calendar.event`` and ``m365.event.link`` — on a scratch database. The
account is connected with the real auth-code flow (PKCE) against the sandbox's
``/authorize``; jobs commit as in production.

Run: ``make bench-odoo`` (all Odoo benchmarks) or
``python -m bench.odoo_personal [--events 2000 --series 50 --latency 0.02]``.
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timedelta, timezone

from m365_graph.sync.pull import NO_TITLE
from m365_sandbox import Sandbox, bulk_seed, weekly_recurrence

from .common import rate
from .odoosupport import connect_account, odoo_env, point_tenant_at


def _seed(events: int, series: int, today: datetime):
    singles = max(0, events - series)
    # Single events spread from two weeks ago over four months: all inside the window.
    return bulk_seed(1, singles, today - timedelta(days=14), 120, seed=7), singles


def _add_series(sb: Sandbox, upn: str, series: int, occurrences: int, today: datetime) -> None:
    for index in range(series):
        first = today + timedelta(days=index % 14, hours=8 + index % 9)
        sb.state.add_event(
            upn,
            f"Series {index + 1}",
            first,
            first + timedelta(minutes=30),
            recurrence=weekly_recurrence(first, occurrences),
        )


def _connect(env, sb: Sandbox, upn: str):
    """A bench user whose Microsoft 365 account is connected (no browser needed)."""
    user = env["res.users"].create(
        {"name": "Bench User", "login": "bench_personal", "email": "bench@example.com"}
    )
    account = env["m365.account"].create({"user_id": user.id, "direction": "down"})
    return connect_account(env, sb, account, upn)


def _timed_sync(env, account, sb: Sandbox):
    """Run one sync; return the run, the time and the HTTP requests (Graph, identity)."""
    sb.log.clear()
    began = time.perf_counter()
    ok = account._m365_sync()
    env.cr.commit()
    took = time.perf_counter() - began
    run = env["m365.sync.run"].search(
        [("kind", "=", "personal"), ("user_id", "=", account.user_id.id)], order="id desc", limit=1
    )
    if not ok:
        raise SystemExit(f"sync failed: {account.last_error}")
    calls = [r for r in sb.log if r.batch_item_id is None]  # a $batch is one request
    graph = sum(1 for r in calls if r.path.startswith("/v1.0/"))
    return run, took, (graph, len(calls) - graph)


def _http(requests_seen) -> str:
    graph, identity = requests_seen
    return f"{graph + identity} HTTP request(s): {graph} Graph + {identity} identity platform"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.odoo_personal", description=__doc__)
    parser.add_argument("--events", type=int, default=2000, help="stored events (incl. series)")
    parser.add_argument("--series", type=int, default=50, help="recurring series among them")
    parser.add_argument("--occurrences", type=int, default=10, help="occurrences per series")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per request")
    parser.add_argument("--db", default="m365_bench_personal")
    args = parser.parse_args(argv)

    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    seed, singles = _seed(args.events, args.series, today)
    print(
        f"personal sync: 1 account, {singles} single events + {args.series} weekly series "
        f"x {args.occurrences} occurrences, latency {args.latency * 1000:.0f} ms"
    )
    with Sandbox(seed=seed, latency=0.0) as sb:
        upn = sb.state.users[0]["userPrincipalName"]
        _add_series(sb, upn, args.series, args.occurrences, today)
        with odoo_env(args.db) as env:
            point_tenant_at(env, sb, personal_sync=True)
            account = _connect(env, sb, upn)
            sb.latency = args.latency

            run, took, requests_seen = _timed_sync(env, account, sb)
            appointments = env["calendar.event"].search_count(
                [("m365_link_ids.account_id", "=", account.id)]
            )
            untitled = env["calendar.event"].search_count(
                [("m365_link_ids.account_id", "=", account.id), ("name", "=", NO_TITLE)]
            )
            print(
                f"  initial pull:   {run.created} appointments created ({appointments} in Odoo) "
                f"in {took:.1f} s = {rate(run.created, took)} appointments/s; "
                f"{run.http_requests} Graph round trips ({_http(requests_seen)}), "
                f'{run.skipped} skipped, {untitled} "{NO_TITLE}"'
            )
            if untitled:
                raise SystemExit(f"{untitled} appointments came out as {NO_TITLE!r}")
            run, took, requests_seen = _timed_sync(env, account, sb)
            print(
                f"  no-change sync: {run.created + run.updated + run.deleted} writes, "
                f"{run.http_requests} Graph round trip(s), {_http(requests_seen)}, "
                f"{took * 1000:.0f} ms"
            )
            # Ten events changed in Outlook: what an ordinary 30-minute run looks like.
            singles_now = [e for e in sb.state.events(upn) if e["type"] == "singleInstance"]
            for event in singles_now[:10]:
                sb.state.update_event(upn, event["id"], subject=event["subject"] + " (moved)")
            run, took, requests_seen = _timed_sync(env, account, sb)
            print(
                f"  10 changed:     {run.updated} updated, {run.http_requests} Graph round "
                f"trip(s), {took * 1000:.0f} ms"
            )
            # A series renamed and one occurrence of another cancelled in Outlook: the
            # masters come back in the delta, their instances are read again.
            masters = [e for e in sb.state.events(upn) if e["type"] == "seriesMaster"]
            if len(masters) >= 2:
                sb.state.update_event(upn, masters[0]["id"], subject="Series renamed")
                link = env["m365.event.link"].search(
                    [("series_master_id", "=", masters[1]["id"])], order="original_start", limit=1
                )
                sb.state.delete_event(upn, link.graph_event_id)
                run, took, requests_seen = _timed_sync(env, account, sb)
                print(
                    f"  series changed: {run.updated} updated, {run.deleted} deleted "
                    f"(1 renamed series, 1 cancelled occurrence), {run.http_requests} Graph "
                    f"round trip(s), {took * 1000:.0f} ms"
                )


if __name__ == "__main__":
    main()
