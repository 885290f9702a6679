"""Rooms and time off through Odoo: 100 rooms x 200 bookings imported, 1,000 validated
leaves exported in one transaction.

Why this file exists: the issue asks what the two bulk paths cost against Graph —
HTTP round trips and wall time — on the whole path on scratch databases, with the
sandbox's simulated latency:

1. **Room import**: the rooms job's tenant unit on a tenant of 100 rooms with 200
   bookings each in the window: the room list (``/places``, pages of 100), every
   room calendar (calendarView in ``$batch``, 20 rooms per round trip, next pages
   batched too) and the ORM writes of 20,000 blocks; then a cycle with no change
   in Outlook (nothing may be written).
2. **Time off export** (``m365_sync_hr``): 1,000 leaves of 50 employees without a
   connected account approved in one transaction (the outbox rows are written in
   it), then the outbox drain with the application permission (``$batch``, one
   mailbox per unit), then a drain with nothing to send.

Run: ``make bench-odoo`` or ``python -m bench.odoo_rooms [--rooms 100 --bookings
200 --leaves 1000 --employees 50 --latency 0.02]``.
"""

from __future__ import annotations

import argparse
import time
from datetime import date, datetime, timedelta, timezone

from m365_sandbox import Sandbox

from .common import rate
from .odoosupport import odoo_env, point_tenant_at

ROLES = ["User.Read.All", "Calendars.ReadWrite", "Place.Read.All"]


def _graph_calls(sb: Sandbox) -> int:
    """HTTP round trips to Graph (a ``$batch`` counts once; sign-in endpoints do not)."""
    return sum(1 for r in sb.log if not r.in_batch and r.path.startswith("/v1.0/"))


def _rooms(args) -> None:
    print(
        f"rooms: {args.rooms} rooms x {args.bookings} bookings, latency "
        f"{args.latency * 1000:.0f} ms"
    )
    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    with Sandbox(latency=0.0) as sb:
        sb.state.set_app_roles(ROLES)
        per_day = 4
        for r in range(args.rooms):
            email = f"room{r:03}@contoso.onmicrosoft.com"
            sb.state.add_room(f"Room {r:03}", email, capacity=4 + r % 12, building=f"B{r % 5}")
            for b in range(args.bookings):
                start = today + timedelta(days=1 + b // per_day, hours=8 + 2 * (b % per_day))
                sb.state.add_event(
                    email,
                    f"Meeting {b}",
                    start,
                    start + timedelta(hours=1, minutes=30),
                    organizer={
                        "emailAddress": {
                            "name": f"Organiser {b % 40}",
                            "address": f"o{b % 40}@x.example",
                        }
                    },
                )
        with odoo_env(args.db) as env:
            tenant = point_tenant_at(
                env, sb, room_sync=True, room_days_ahead=1 + args.bookings // per_day + 1
            )
            sb.latency = args.latency
            job = env["m365.job.rooms"]
            sb.log.clear()
            began = time.perf_counter()
            run = job._m365_run_unit({"tenant": tenant.id}, due_only=False)
            env.cr.commit()
            took = time.perf_counter() - began
            rooms = env["m365.room"].search_count([])
            blocks = env["m365.room.booking"].search_count([])
            print(
                f"  initial import: {rooms} rooms, {blocks} bookings in {took:.1f} s = "
                f"{rate(blocks, took)} bookings/s; {run.http_requests} Graph round trips "
                f"({_graph_calls(sb)} seen by the sandbox), {run.throttled} throttled; "
                f"run: {run.message}"
            )
            sb.log.clear()
            began = time.perf_counter()
            run = job._m365_run_unit({"tenant": tenant.id}, due_only=False)
            env.cr.commit()
            took = time.perf_counter() - began
            print(
                f"  no change in Outlook: {run.created} created, {run.updated} updated, "
                f"{run.deleted} deleted in {took:.1f} s, {run.http_requests} round trips "
                "(room list not read again within 6 hours)"
            )


def _leaves(args) -> None:
    print(
        f"time off: {args.leaves} validated leaves of {args.employees} employees exported "
        f"in one transaction, latency {args.latency * 1000:.0f} ms"
    )
    with Sandbox(latency=0.0) as sb:
        sb.state.set_app_roles(ROLES)
        upns = []
        for e in range(args.employees):
            upn = f"employee{e:03}@contoso.onmicrosoft.com"
            sb.state.add_user(f"Employee {e:03}", upn=upn)
            upns.append(upn)
        with odoo_env(args.db + "_hr", modules=("m365_sync_hr",)) as env:
            point_tenant_at(env, sb, hr_absence_export=True)
            leave_type = env["hr.leave.type"].create(
                {"name": "Bench time off", "requires_allocation": False}
            )
            employees = env["hr.employee"].create(
                [
                    {"name": f"Employee {i:03}", "work_email": upn, "tz": "Europe/Brussels"}
                    for i, upn in enumerate(upns)
                ]
            )
            per = max(1, args.leaves // len(employees))
            # Working days only (Odoo refuses time off on days nobody works).
            days, day = [], date.today() + timedelta(days=7)
            while len(days) < per:
                if day.weekday() < 5:
                    days.append(day)
                day += timedelta(days=1)
            values = [
                {
                    "employee_id": employee.id,
                    "holiday_status_id": leave_type.id,
                    "request_date_from": day,
                    "request_date_to": day,
                }
                for employee in employees
                for day in days
            ]
            Leave = env["hr.leave"].with_context(mail_notrack=True, tracking_disable=True)
            leaves = Leave.create(values)
            env.cr.commit()
            sb.latency = args.latency
            began = time.perf_counter()
            leaves.action_approve()
            env.cr.commit()
            took = time.perf_counter() - began
            queued = env["m365.outbox"].search_count([("res_model", "=", "hr.leave")])
            print(
                f"  approve in Odoo: {len(leaves)} leaves validated, {queued} outbox rows in the "
                f"same transaction, {took:.1f} s (no Graph call)"
            )
            sb.log.clear()
            began = time.perf_counter()
            env["m365.job.outbox"]._m365_cron()
            env.cr.commit()
            took = time.perf_counter() - began
            runs = env["m365.sync.run"].search([("kind", "=", "outbox")])
            created = sum(runs.mapped("created"))
            remote = sum(len(sb.state.events(upn)) for upn in upns)
            calls = _graph_calls(sb)
            print(
                f"  outbox drain: {created} Outlook events ({remote} there) in {took:.1f} s = "
                f"{rate(created, took)} events/s; {calls} Graph round trips, "
                f"{sum(runs.mapped('throttled'))} throttled, {len(runs)} units"
            )
            sb.log.clear()
            began = time.perf_counter()
            env["m365.job.outbox"]._m365_cron()
            env.cr.commit()
            print(
                f"  nothing queued: {_graph_calls(sb)} round trips, "
                f"{(time.perf_counter() - began) * 1000:.0f} ms"
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.odoo_rooms", description=__doc__)
    parser.add_argument("--rooms", type=int, default=100)
    parser.add_argument("--bookings", type=int, default=200, help="bookings per room")
    parser.add_argument("--leaves", type=int, default=1000)
    parser.add_argument("--employees", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per request")
    parser.add_argument("--db", default="m365_bench_rooms")
    parser.add_argument("--only", choices=("rooms", "leaves"), default=None)
    args = parser.parse_args(argv)
    if args.only in (None, "rooms"):
        _rooms(args)
    if args.only in (None, "leaves"):
        _leaves(args)


if __name__ == "__main__":
    main()
