"""Benchmark: a full users-delta baseline of a large directory (contact sync).

Why this file exists: contact sync starts with a baseline read of every user through
``/users/delta?$select=…`` and stores the delta link. This measures round trips,
wall time and users/s for 10,000 users against the sandbox with simulated latency,
then a second (empty) round from the stored link.
"""

from __future__ import annotations

import argparse
import time

from m365_graph import users_delta

from .common import app_client, rate, sandbox


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.graph_users", description=__doc__)
    parser.add_argument("--users", type=int, default=10000, help="directory users (10000)")
    parser.add_argument("--latency", type=float, default=0.020, help="seconds per request (0.020)")
    parser.add_argument("--page-size", type=int, default=500, help="odata.maxpagesize (500)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, float]:
    args = parse_args(argv)
    print(
        f"users delta: {args.users} users, sandbox latency {args.latency * 1000:.0f} ms, "
        f"page size {args.page_size}"
    )
    with sandbox(args.users, 0, mailboxes=1, latency=args.latency) as sb:
        client = app_client(sb)
        began = time.perf_counter()
        result = users_delta(client, page_size=args.page_size)
        seconds = time.perf_counter() - began
        trips = client.counters.snapshot().requests
        print(
            f"  baseline: {trips} round trips, {seconds:.2f} s, "
            f"{rate(len(result.items), seconds)} users/s ({len(result.items)} users, "
            f"complete: {'yes' if result.complete else 'no'})"
        )
        began = time.perf_counter()
        again = users_delta(client, result.delta_link, page_size=args.page_size)
        second = time.perf_counter() - began
        print(
            f"  next round from the delta link: {client.counters.snapshot().requests - trips} "
            f"round trip(s), {second:.2f} s, {len(again.items)} changes"
        )
        client.close()
        return {"round_trips": trips, "seconds": seconds, "users": len(result.items)}


if __name__ == "__main__":
    main()
