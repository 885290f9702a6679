"""Activity export: 1,000 activities scheduled across 50 users in one transaction.

Why this file exists: it shows what it costs to put many project activities
into their assignees' Outlook calendars at once — a project manager launching a
plan, an import — measured on the whole path on a scratch database: the ORM
create (which decides the writer and queues the outbox rows in the same
transaction), the drain job (Graph writes through the sandbox with latency, links
and bookkeeping written by the ORM), a drain with nothing to send, then a
new planned duration for every activity (updates), compared with sending one
request per activity through the same client and latency. The assignees have no
account of their own, so the tenant's application permission writes (one drain
unit per mailbox, creations 20 per ``$batch``).

Run: ``make bench-odoo`` (all Odoo benchmarks) or
``python -m bench.odoo_activities [--activities 1000 --users 50 --latency 0.02]``.
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import date, datetime, timedelta, timezone

from m365_graph import ActivityEvent, activity_payload, create_event
from m365_sandbox import Sandbox, bulk_seed

from .common import app_client, rate
from .odoosupport import odoo_env, point_tenant_at


def _graph_calls(sb: Sandbox) -> int:
    """HTTP round trips to Graph (a ``$batch`` counts once; sign-in endpoints do not)."""
    return sum(1 for r in sb.log if not r.in_batch and r.path.startswith("/v1.0/"))


def _sign_ins(sb: Sandbox) -> int:
    return sum(1 for r in sb.log if "/oauth2/" in r.path and r.method == "POST")


def _drain(env, sb: Sandbox):
    sb.log.clear()
    last = env["m365.sync.run"].search([], order="id desc", limit=1).id or 0
    began = time.perf_counter()
    env["m365.job.outbox"]._m365_cron()
    env.cr.commit()
    took = time.perf_counter() - began
    runs = env["m365.sync.run"].search([("kind", "=", "outbox"), ("id", ">", last)])
    return runs, took, _graph_calls(sb)


def _next_monday() -> date:
    today = datetime.now(timezone.utc).date()
    return today + timedelta(days=7 - today.weekday())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.odoo_activities", description=__doc__)
    parser.add_argument("--activities", type=int, default=1000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per request")
    parser.add_argument("--db", default="m365_bench_activities")
    args = parser.parse_args(argv)

    print(
        f"activities: {args.activities} activities across {args.users} users scheduled in one "
        f"transaction, latency {args.latency * 1000:.0f} ms"
    )
    monday = _next_monday()
    with Sandbox(seed=bulk_seed(args.users, 0, monday), latency=0.0) as sb:
        upns = [u["userPrincipalName"] for u in sb.state.users[: args.users]]
        with odoo_env(args.db) as env:
            point_tenant_at(env, sb, project_export=True)
            users = env["res.users"].create(
                [
                    {
                        "name": f"Assignee {i + 1}",
                        "login": f"bench_assignee_{i + 1}",
                        "email": upn,
                        "tz": "Europe/Brussels",
                    }
                    for i, upn in enumerate(upns)
                ]
            )
            project = env["project.project"].create({"name": "Bench", "m365_export": True})
            tasks = env["project.task"].create(
                [{"name": f"Task {i + 1}", "project_id": project.id} for i in range(100)]
            )
            env.cr.commit()
            sb.latency = args.latency
            model_id = env["ir.model"]._get_id("project.task")
            todo = env.ref("mail.mail_activity_data_todo").id
            values = []
            for i in range(args.activities):
                user = users[i % len(users)]
                nth = i // len(users)
                start = datetime.combine(monday + timedelta(days=nth % 5), datetime.min.time())
                values.append(
                    {
                        "res_model_id": model_id,
                        "res_id": tasks[i % len(tasks)].id,
                        "activity_type_id": todo,
                        "summary": f"Activity {i + 1}",
                        "note": f"<p>Planned in Odoo, activity {i + 1}.</p>",
                        "user_id": user.id,
                        "date_deadline": start.date(),
                        "m365_planned_start": start + timedelta(hours=7 + nth % 8),
                        "m365_planned_duration": 0.5 + (i % 4) * 0.25,
                    }
                )
            sb.log.clear()
            began = time.perf_counter()
            activities = (
                env["mail.activity"]
                .with_context(mail_activity_quick_update=True, mail_notrack=True)
                .create(values)
            )
            env.cr.commit()
            took = time.perf_counter() - began
            queued = env["m365.outbox"].search_count([("res_model", "=", "mail.activity")])
            print(
                f"  schedule in Odoo: {len(activities)} activities, {queued} outbox rows in the "
                f"same transaction, {took:.1f} s, {_graph_calls(sb)} Graph calls"
            )

            runs, took, calls = _drain(env, sb)
            created = sum(runs.mapped("created"))
            remote = sum(len(sb.state.events(upn)) for upn in upns)
            sign_ins = _sign_ins(sb)
            print(
                f"  outbox drain:     {created} events created ({remote} in Outlook) in "
                f"{took:.1f} s = {rate(created, took)} events/s; {calls} Graph round trips "
                f"({len(runs)} units, one per mailbox), {sign_ins} token request(s), "
                f"{sum(runs.mapped('throttled'))} throttled"
            )
            drain_took, drain_calls = took, calls

            runs, took, calls = _drain(env, sb)
            print(f"  nothing queued:   {calls} Graph round trip(s), {took * 1000:.0f} ms")

            began = time.perf_counter()
            activities.write({"m365_planned_duration": 1.0})
            env.cr.commit()
            write_took = time.perf_counter() - began
            runs, took, calls = _drain(env, sb)
            print(
                f"  all re-planned:   queued in {write_took:.1f} s; {sum(runs.mapped('updated'))} "
                f"events updated in {took:.1f} s = {rate(sum(runs.mapped('updated')), took)} "
                f"events/s; {calls} Graph round trips"
            )

            # One POST per activity: the same bodies, client code and latency.
            client = app_client(sb)
            began = time.perf_counter()
            with client:
                for i, activity in enumerate(activities[: args.activities]):
                    built = activity_payload(
                        ActivityEvent(
                            activity.summary,
                            "To-Do",
                            activity.note,
                            activity.res_name,
                            None,
                            activity.m365_planned_start,
                            activity.m365_planned_start + timedelta(hours=1),
                            "Europe/Brussels",
                        )
                    )
                    create_event(
                        client, upns[i % len(upns)], built.payload, transaction_id=str(uuid.uuid4())
                    )
                single_took = time.perf_counter() - began
                single_calls = client.counters.snapshot().requests
            print(
                f"  one request per activity: {single_calls} round trips, {single_took:.1f} s = "
                f"{rate(args.activities, single_took)} events/s"
            )
            print(
                f"  batched drain vs one request per activity: "
                f"{single_calls / max(drain_calls, 1):.1f}x fewer round trips, "
                f"{single_took / drain_took:.1f}x faster"
            )


if __name__ == "__main__":
    main()
