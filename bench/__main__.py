"""``make bench``: run every benchmark with its default sizes, one after the other.

Why this file exists: one command gives all figures. ``--quick`` shrinks the sizes
for a smoke run; ``--only calendar|users|schedule`` runs one benchmark.
"""

from __future__ import annotations

import argparse
import time

from . import graph_calendar, graph_schedule, graph_users

BENCHMARKS = {
    "calendar": (graph_calendar.main, ["--mailboxes", "100", "--events", "20"]),
    "users": (graph_users.main, ["--users", "1000"]),
    "schedule": (graph_schedule.main, ["--people", "50", "--days", "1"]),
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append")
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    for name in args.only or list(BENCHMARKS):
        run, quick_args = BENCHMARKS[name]
        run(quick_args if args.quick else [])
        print()
    print(f"all benchmarks done in {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
