"""Properties of the workload math, for any appointments, calendars, leaves and zones.

* clipping never exceeds capacity: in exact mode a day is never busier than its
  working time (time off deducted);
* the union never exceeds the sum of the appointments' lengths, and never falls
  below the longest one;
* results do not depend on the order of the input;
* daily mode counts at least what exact mode counts;
* reconciling the stored state with what was fetched, then applying the plan,
  yields exactly what was fetched — and a second reconcile plans nothing.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from m365_graph.sync.workload import (
    HOUR_DECIMALS,
    BusyInterval,
    SlotRecord,
    hours,
    intersect,
    reconcile,
    subtract,
    union,
    workload_days,
)

UTC = timezone.utc
BASE = datetime(2026, 3, 23, tzinfo=UTC)  # a week with the European DST change
DAYS = [BASE.date() + timedelta(days=n) for n in range(10)]
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Auckland"]

minute = st.integers(min_value=0, max_value=12 * 24 * 60)
interval = st.tuples(minute, st.integers(min_value=1, max_value=20 * 60)).map(
    lambda t: (BASE + timedelta(minutes=t[0]), BASE + timedelta(minutes=t[0] + t[1]))
)
intervals = st.lists(interval, max_size=25)
busy_item = st.one_of(
    interval.map(lambda iv: BusyInterval(*iv)),
    st.tuples(st.integers(0, 11), st.integers(1, 3)).map(
        lambda t: BusyInterval(
            BASE + timedelta(days=t[0]), BASE + timedelta(days=t[0] + t[1]), all_day=True
        )
    ),
)
busy_items = st.lists(busy_item, max_size=25)
spans = st.lists(
    st.tuples(st.integers(0, 22), st.integers(1, 8)).map(lambda t: (t[0], min(24, t[0] + t[1]))),
    min_size=0,
    max_size=3,
)


def attendance_for(zone: str, day_spans) -> list:
    tz = ZoneInfo(zone)
    out = []
    for day in [DAYS[0] - timedelta(days=1), *DAYS, DAYS[-1] + timedelta(days=1)]:
        for start, end in day_spans:
            low = datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(hours=start)
            high = datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(hours=end)
            out.append((low, high))
    return out


def total(items) -> float:
    return sum((e - s).total_seconds() for s, e in items) / 3600


@given(intervals)
def test_union_never_exceeds_the_sum_and_covers_the_longest(items):
    merged = union(items)
    assert hours(merged) <= total(items) + 1e-9
    if items:
        assert hours(merged) >= max((e - s).total_seconds() for s, e in items) / 3600 - 1e-9
    # disjoint and sorted
    for (s1, e1), (s2, e2) in pairwise(merged):
        assert e1 < s2
        assert s1 < e1 and s2 < e2


@given(intervals, st.randoms(use_true_random=False))
def test_union_is_order_independent(items, rnd):
    shuffled = list(items)
    rnd.shuffle(shuffled)
    assert union(shuffled) == union(items)


@given(intervals, intervals)
def test_intersect_and_subtract_partition_the_first_set(a, b):
    both, only_a = intersect(a, b), subtract(a, b)
    assert abs(hours(both) + hours(only_a) - hours(union(a))) < 1e-9
    assert intersect(both, only_a) == []
    assert hours(both) <= min(hours(union(a)), hours(union(b))) + 1e-9


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(ZONES), spans, intervals, busy_items, st.sampled_from(["exact", "daily"]))
def test_clipping_never_exceeds_capacity(zone, day_spans, leaves, busy, mode):
    att = attendance_for(zone, day_spans)
    result = workload_days(DAYS, zone, att, leaves, busy, mode=mode)
    for day in DAYS:
        load = result[day]
        assert load.capacity_hours >= 0
        assert load.busy_hours >= 0
        if mode == "exact":
            assert load.busy_hours <= load.capacity_hours + 1e-9
        # No day holds more than its own length (23-25 h on DST days).
        assert load.busy_hours <= 25.0
        assert load.capacity_hours <= 25.0


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(ZONES), spans, intervals, busy_items)
def test_daily_mode_counts_at_least_exact_mode(zone, day_spans, leaves, busy):
    att = attendance_for(zone, day_spans)
    exact = workload_days(DAYS, zone, att, leaves, busy, mode="exact")
    daily = workload_days(DAYS, zone, att, leaves, busy, mode="daily")
    for day in DAYS:
        assert daily[day].busy_hours >= exact[day].busy_hours - 1e-9


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(ZONES), spans, intervals, busy_items, st.randoms(use_true_random=False))
def test_results_do_not_depend_on_input_order(zone, day_spans, leaves, busy, rnd):
    att = attendance_for(zone, day_spans)
    for mode in ("exact", "daily"):
        first = workload_days(DAYS, zone, att, leaves, busy, mode=mode)
        att2, leaves2, busy2, days2 = list(att), list(leaves), list(busy), list(DAYS)
        for items in (att2, leaves2, busy2, days2):
            rnd.shuffle(items)
        second = workload_days(days2, zone, att2, leaves2, busy2, mode=mode)
        assert first == second


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(ZONES), spans, intervals, st.sampled_from(["exact", "daily"]))
def test_daily_busy_never_exceeds_the_sum_of_appointments(zone, day_spans, items, mode):
    att = attendance_for(zone, day_spans)
    busy = [BusyInterval(s, e) for s, e in items]
    result = workload_days(DAYS, zone, att, [], busy, mode=mode)
    # Each day is rounded to HOUR_DECIMALS: at most half a unit of the last place each.
    rounding = len(DAYS) * 0.5 * 10**-HOUR_DECIMALS
    assert sum(r.busy_hours for r in result.values()) <= total(items) + rounding + 1e-9


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(ZONES), intervals)
def test_leaves_only_reduce_capacity(zone, leaves):
    att = attendance_for(zone, [(9, 17)])
    without = workload_days(DAYS, zone, att, [], [], mode="exact")
    with_leaves = workload_days(DAYS, zone, att, leaves, [], mode="exact")
    for day in DAYS:
        assert with_leaves[day].capacity_hours <= without[day].capacity_hours + 1e-9


event_id = st.sampled_from([f"e{n}" for n in range(8)])
record = st.builds(
    lambda ident, hour, length, cat: SlotRecord(
        ident,
        datetime(2026, 3, 2, hour),
        datetime(2026, 3, 2, hour) + timedelta(minutes=length),
        categories=cat,
    ),
    event_id,
    st.integers(0, 20),
    st.integers(1, 180),
    st.sampled_from(["", "A", "A, B"]),
)


@given(st.lists(record, max_size=10), st.lists(record, max_size=10))
def test_reconcile_then_apply_yields_the_fetched_state(stored_list, fetched):
    stored = dict(enumerate(stored_list))
    plan = reconcile(stored.items(), fetched)
    for ref, _old in plan.delete:
        del stored[ref]
    for ref, _old, new in plan.update:
        stored[ref] = new
    next_ref = len(stored_list)
    for new in plan.create:
        stored[next_ref] = new
        next_ref += 1
    expected = {r.event_id: r for r in fetched}
    assert sorted(stored.values(), key=lambda r: r.event_id) == sorted(
        expected.values(), key=lambda r: r.event_id
    )
    again = reconcile(stored.items(), fetched)
    assert not again.changed
    assert again.unchanged == len(expected)


@given(st.lists(record, max_size=10))
def test_planned_writes_touch_only_changed_rows(fetched):
    expected = {r.event_id: r for r in fetched}
    plan = reconcile(list(enumerate(expected.values())), fetched)
    assert (plan.create, plan.update, plan.delete) == ([], [], [])


def test_days_constant_is_what_the_properties_assume():
    assert DAYS[0] == date(2026, 3, 23)
    assert date(2026, 3, 29) in DAYS  # the DST change is inside the tested days
