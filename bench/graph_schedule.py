"""Benchmark: colleagues' free/busy for 200 people over 5 days (getSchedule).

Why this file exists: the scheduling views ask Graph's ``calendar: getSchedule``
for the people chosen. Graph takes 20 schedules per call; this measures
``m365_graph.resources.schedule.get_schedules`` (chunks of 20, all chunks in one
``$batch``) against one plain call per chunk, and against reading every person's
calendarView one request each (what a client without getSchedule would do), on
the sandbox with simulated latency: round trips, wall time, people per second.
"""

from __future__ import annotations

import argparse
import time

from m365_graph import calendar_view
from m365_graph.resources.schedule import get_schedules, schedule_body

from .common import app_client, rate, sandbox, window


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.graph_schedule", description=__doc__)
    parser.add_argument("--people", type=int, default=200, help="people asked (200)")
    parser.add_argument("--days", type=int, default=5, help="window in days (5)")
    parser.add_argument("--events", type=int, default=20, help="events per person (20)")
    parser.add_argument("--latency", type=float, default=0.030, help="seconds per request (0.030)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, float]:
    args = parse_args(argv)
    print(
        f"getSchedule: {args.people} people x {args.events} events, {args.days}-day window, "
        f"sandbox latency {args.latency * 1000:.0f} ms"
    )
    with sandbox(
        args.people + 1, args.events, mailboxes=None, latency=args.latency, days=args.days
    ) as sb:
        users = sb.state.users
        asker = users[0]["userPrincipalName"]
        people = [u["mail"] or u["userPrincipalName"] for u in users[1 : args.people + 1]]
        start, end = window(args.days)
        client = app_client(sb)
        figures: dict[str, float] = {}

        before = client.counters.snapshot().requests
        began = time.perf_counter()
        answers = get_schedules(client, asker, people, start, end)
        seconds = time.perf_counter() - began
        trips = client.counters.snapshot().requests - before
        items = sum(len(a.items) for a in answers.values())
        ok = sum(1 for a in answers.values() if a.ok)
        print(
            f"  batched getSchedule: {trips} round trip(s), {seconds:.2f} s, "
            f"{rate(len(people), seconds)} people/s ({ok} answered, {items} items)"
        )
        figures.update(batched_trips=trips, batched_seconds=seconds)

        before = client.counters.snapshot().requests
        began = time.perf_counter()
        for first in range(0, len(people), 20):
            client.request(
                "POST",
                f"/users/{asker}/calendar/getSchedule",
                json=schedule_body(people[first : first + 20], start, end),
                retry_safe=True,
            )
        plain = time.perf_counter() - began
        plain_trips = client.counters.snapshot().requests - before
        print(f"  one call per 20 people: {plain_trips} round trips, {plain:.2f} s")
        figures.update(plain_trips=plain_trips, plain_seconds=plain)

        before = client.counters.snapshot().requests
        began = time.perf_counter()
        for person in people:
            calendar_view(client, person, start, end)
        naive = time.perf_counter() - began
        naive_trips = client.counters.snapshot().requests - before
        print(f"  calendarView per person: {naive_trips} round trips, {naive:.2f} s")
        figures.update(naive_trips=naive_trips, naive_seconds=naive)
        print(
            f"  ratio: {naive_trips / max(trips, 1):.0f}x fewer round trips and "
            f"{naive / seconds:.1f}x faster than calendarView per person; "
            f"{plain / seconds:.1f}x faster than one call per chunk"
        )
        client.close()
        return figures


if __name__ == "__main__":
    main()
