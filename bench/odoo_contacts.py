"""Benchmark: organisation-wide contact sync through Odoo (``make bench-odoo``).

Why this file exists: contact sync has two targets on this machine —
the initial import of 10,000 directory users under 60 s and an incremental run with
25 changes under 3 s, with Graph 20 ms away. This measures the whole path: the
users-delta round through the sandbox *and* the ORM writes of ``m365.job.contacts``
on a scratch database (m365_sync installed, jobs committing per batch as in
production). It prints the import rate (users/s), wall times and HTTP round trips,
then a run without change and a new baseline after an expired delta token (which
must match all 10,000 contacts again and write none).
"""

from __future__ import annotations

import argparse
import time

from m365_sandbox import Sandbox, bulk_seed

from .odoosupport import odoo_env, point_tenant_at

TARGET_INITIAL_S = 60.0
TARGET_INCREMENTAL_S = 3.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.odoo_contacts", description=__doc__)
    parser.add_argument("--users", type=int, default=10000, help="directory users (10000)")
    parser.add_argument("--changes", type=int, default=25, help="changes before run 2 (25)")
    parser.add_argument("--latency", type=float, default=0.020, help="seconds per request (0.020)")
    parser.add_argument("--db", default="m365_bench_contacts", help="scratch database name")
    return parser.parse_args(argv)


def make_changes(state, count: int) -> dict[str, int]:
    """``count`` directory changes of the kinds a day brings: renames, new phones and
    titles, a few leavers (disabled or deleted) and newcomers."""
    records = [r for r in state.user_records() if r.room is None][1:]  # keep the first
    kinds = {"renamed": 0, "phone": 0, "title": 0, "disabled": 0, "deleted": 0, "new": 0}
    plan = ["renamed", "phone", "title", "renamed", "disabled", "new", "deleted", "phone"]
    for index in range(count):
        kind = plan[index % len(plan)]
        record = records[index * 37 % len(records)]
        user_id = record.props["id"]
        if kind == "renamed":
            state.update_user(user_id, displayName=record.props["displayName"] + " (renamed)")
        elif kind == "phone":
            state.update_user(user_id, businessPhones=[f"+49 40 {2000000 + index}"])
        elif kind == "title":
            state.update_user(user_id, jobTitle="Senior Consultant")
        elif kind == "disabled":
            state.update_user(user_id, accountEnabled=False)
        elif kind == "deleted":
            state.remove_user(user_id)
        else:
            state.add_user(f"New Colleague {index:03d}", job_title="Trainee")
        kinds[kind] += 1
    return kinds


def main(argv: list[str] | None = None) -> dict[str, float]:
    args = parse_args(argv)
    print(
        f"contact sync through Odoo: {args.users} users, sandbox latency "
        f"{args.latency * 1000:.0f} ms, then {args.changes} changes"
    )
    seed = bulk_seed(args.users, 0, mailboxes=1)
    with Sandbox(seed=seed, latency=0.0) as sb, odoo_env(args.db) as env:
        tenant = point_tenant_at(env, sb, contact_sync=True)
        sync = env["m365.job.contacts"]
        sb.latency = args.latency

        began = time.perf_counter()
        first = sync._m365_sync(tenant)
        initial = time.perf_counter() - began
        rate = args.users / initial if initial else float("inf")
        print(
            f"  initial import: {first.created} contacts from {args.users} users in "
            f"{initial:.1f} s = {rate:,.0f} users/s, {first.http_requests} HTTP round trips "
            f"(run {first.state}; target < {TARGET_INITIAL_S:.0f} s: "
            f"{'met' if initial < TARGET_INITIAL_S else 'MISSED'})"
        )

        kinds = make_changes(sb.state, args.changes)
        began = time.perf_counter()
        second = sync._m365_sync(tenant)
        incremental = time.perf_counter() - began
        print(
            f"  incremental, {args.changes} changes "
            f"({', '.join(f'{n} {k}' for k, n in kinds.items() if n)}): {incremental:.2f} s, "
            f"{second.http_requests} HTTP round trip(s); {second.created} created, "
            f"{second.updated} updated, {second.deleted} archived "
            f"(run {second.state}; target < {TARGET_INCREMENTAL_S:.0f} s: "
            f"{'met' if incremental < TARGET_INCREMENTAL_S else 'MISSED'})"
        )

        began = time.perf_counter()
        third = sync._m365_sync(tenant)
        idle = time.perf_counter() - began
        print(
            f"  run without change: {idle:.2f} s, {third.http_requests} HTTP round trip(s), "
            f"{third.created + third.updated + third.deleted} contacts written"
        )
        sb.state.expire_delta_tokens()
        began = time.perf_counter()
        fourth = sync._m365_sync(tenant)
        rebuild = time.perf_counter() - began
        print(
            f"  new baseline after an expired token: {rebuild:.1f} s, "
            f"{fourth.http_requests} HTTP round trips, "
            f"{fourth.created + fourth.updated + fourth.deleted} contacts written "
            f"(run {fourth.state})"
        )
        env.cr.commit()
        return {
            "initial_s": initial,
            "users_per_s": rate,
            "initial_round_trips": first.http_requests,
            "incremental_s": incremental,
            "incremental_round_trips": second.http_requests,
        }


if __name__ == "__main__":
    main()
