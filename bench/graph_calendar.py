"""Benchmark: busy time of many mailboxes — batched and concurrent vs. naive sequential.

Why this file exists: busy-time import reads ~1,000 mailboxes every 15 minutes. This
measures the reader the addon uses (``read_busy_times``: 20 calendarView requests per
``$batch``, further pages batched too, a small thread pool) against the obvious loop
(one calendarView call per mailbox, one after the other), in the same run, against
the sandbox with a simulated network latency. Prints round trips, wall time,
events/s for both and the ratios.
"""

from __future__ import annotations

import argparse
import time

from m365_graph import calendar_view, read_busy_times

from .common import app_client, rate, sandbox, window


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.graph_calendar", description=__doc__)
    parser.add_argument("--mailboxes", type=int, default=1000, help="mailboxes to read (1000)")
    parser.add_argument("--events", type=int, default=50, help="events per mailbox (50)")
    parser.add_argument("--latency", type=float, default=0.020, help="seconds per request (0.020)")
    parser.add_argument("--workers", type=int, default=4, help="batches in flight (4)")
    parser.add_argument("--page-size", type=int, default=100, help="odata.maxpagesize (100)")
    parser.add_argument("--days", type=int, default=28, help="window length in days (28)")
    parser.add_argument("--skip-naive", action="store_true", help="only run the batched reader")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, float]:
    args = parse_args(argv)
    start, end = window(args.days)
    print(
        f"busy time: {args.mailboxes} mailboxes x {args.events} events in a {args.days}-day "
        f"window, sandbox latency {args.latency * 1000:.0f} ms, page size {args.page_size}"
    )
    with sandbox(
        args.mailboxes, args.events, mailboxes=args.mailboxes, latency=args.latency, days=args.days
    ) as sb:
        mailboxes = [u["id"] for u in sb.state.users][: args.mailboxes]

        client = app_client(sb)
        began = time.perf_counter()
        results = read_busy_times(
            client, mailboxes, start, end, workers=args.workers, page_size=args.page_size
        )
        batched_time = time.perf_counter() - began
        batched_trips = client.counters.snapshot().requests
        batched_events = sum(len(r.slots) for r in results.values())
        failed = [m for m, r in results.items() if not r.ok]
        client.close()
        print(
            f"  batched ($batch of 20, {args.workers} threads): {batched_trips} round trips, "
            f"{batched_time:.2f} s, {rate(batched_events, batched_time)} events/s "
            f"({batched_events} events, {len(failed)} mailboxes failed)"
        )
        figures = {
            "batched_round_trips": batched_trips,
            "batched_seconds": batched_time,
            "batched_events": batched_events,
        }
        if args.skip_naive:
            return figures

        client = app_client(sb)
        began = time.perf_counter()
        naive_events = 0
        mismatched = 0
        for mailbox in mailboxes:
            slots = calendar_view(client, mailbox, start, end, page_size=args.page_size)
            naive_events += len(slots)
            if {s.event_id for s in slots} != {s.event_id for s in results[mailbox].slots}:
                mismatched += 1
        naive_time = time.perf_counter() - began
        naive_trips = client.counters.snapshot().requests
        client.close()
        print(
            f"  naive (one mailbox after the other):  {naive_trips} round trips, "
            f"{naive_time:.2f} s, {rate(naive_events, naive_time)} events/s "
            f"({naive_events} events)"
        )
        print(
            f"  ratio: batched is {naive_time / batched_time:.1f}x faster "
            f"with {naive_trips / max(1, batched_trips):.1f}x fewer round trips; "
            f"results identical: {'yes' if mismatched == 0 else f'NO ({mismatched} differ)'}"
        )
        figures.update(
            naive_round_trips=naive_trips, naive_seconds=naive_time, naive_events=naive_events
        )
        return figures


if __name__ == "__main__":
    main()
