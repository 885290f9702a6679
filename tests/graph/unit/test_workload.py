"""Workload math, case by case, with expected hours computed by hand.

Working calendars are built the way Odoo's resource module returns them: local
wall-clock attendances, one or two per working day, localised in the user's zone.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from m365_graph.core.types import BusySlot
from m365_graph.sync.workload import (
    BusyInterval,
    SlotRecord,
    busy_window,
    categories_need_cleaning,
    category_key,
    check_slot,
    clean_categories,
    counts_as_busy,
    day_bounds,
    day_figures,
    hours,
    intersect,
    is_ignored,
    join_categories,
    prepare_slots,
    reconcile,
    show_as_key,
    slot_days,
    slot_record,
    split_categories,
    subtract,
    union,
    workload_days,
)

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def local(day: date, hour: float, tz=BERLIN) -> datetime:
    whole = int(hour)
    return datetime(day.year, day.month, day.day, whole, round((hour - whole) * 60), tzinfo=tz)


def calendar(days, spans=((9, 17),), tz=BERLIN, weekdays=range(5)):
    """Attendance intervals like resource.calendar gives: per working day, local spans."""
    out = []
    for day in days:
        if day.weekday() in weekdays:
            out.extend((local(day, a, tz), local(day, b, tz)) for a, b in spans)
    return out


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


MONDAY = date(2026, 3, 2)  # CET (UTC+1)
WEEK = [MONDAY + timedelta(days=n) for n in range(7)]


# --------------------------------------------------------------------------- InLoox


def test_inloox_example_exact_mode_counts_one_hour():
    # Working time 09:00-17:00, appointment 16:00-18:00 -> 1 hour.
    day = MONDAY
    result = workload_days(
        [day],
        "Europe/Berlin",
        calendar([day]),
        [],
        [BusyInterval(local(day, 16), local(day, 18))],
        mode="exact",
    )
    assert result[day].capacity_hours == 8.0
    assert result[day].busy_hours == 1.0


def test_inloox_example_daily_mode_counts_in_full():
    day = MONDAY
    result = workload_days(
        [day],
        "Europe/Berlin",
        calendar([day]),
        [],
        [BusyInterval(local(day, 16), local(day, 18))],
        mode="daily",
    )
    assert result[day].busy_hours == 2.0


def test_appointment_outside_working_time_is_zero_in_exact_mode_and_full_in_daily():
    day = MONDAY
    evening = [BusyInterval(local(day, 19), local(day, 21, tz=BERLIN))]
    exact = workload_days([day], BERLIN, calendar([day]), [], evening, mode="exact")
    daily = workload_days([day], BERLIN, calendar([day]), [], evening, mode="daily")
    assert exact[day].busy_hours == 0.0
    assert daily[day].busy_hours == 2.0


def test_weekend_appointment_has_no_capacity():
    saturday = MONDAY + timedelta(days=5)
    busy = [BusyInterval(local(saturday, 10), local(saturday, 12))]
    exact = workload_days([saturday], BERLIN, calendar(WEEK), [], busy, mode="exact")
    daily = workload_days([saturday], BERLIN, calendar(WEEK), [], busy, mode="daily")
    assert exact[saturday].capacity_hours == 0.0
    assert exact[saturday].busy_hours == 0.0
    assert daily[saturday].busy_hours == 2.0


# --------------------------------------------------------------------------- overlaps


def test_overlapping_appointments_count_once():
    # 10:00-12:00 and 11:00-13:00 and 11:30-11:45 -> 10:00-13:00 = 3 h, not 5.25 h.
    day = MONDAY
    busy = [
        BusyInterval(local(day, 10), local(day, 12)),
        BusyInterval(local(day, 11), local(day, 13)),
        BusyInterval(local(day, 11.5), local(day, 11.75)),
    ]
    result = workload_days([day], BERLIN, calendar([day]), [], busy, mode="exact")
    assert result[day].busy_hours == 3.0


def test_lunch_break_is_not_working_time():
    # Odoo's standard calendar: 08:00-12:00 and 13:00-17:00. Meeting 11:00-14:00 -> 2 h.
    day = MONDAY
    att = calendar([day], spans=((8, 12), (13, 17)))
    busy = [BusyInterval(local(day, 11), local(day, 14))]
    exact = workload_days([day], BERLIN, att, [], busy, mode="exact")
    daily = workload_days([day], BERLIN, att, [], busy, mode="daily")
    assert exact[day].capacity_hours == 8.0
    assert exact[day].busy_hours == 2.0
    assert daily[day].busy_hours == 3.0


def test_appointment_over_midnight_is_split_between_days_in_daily_mode():
    # 22:00 Monday to 02:00 Tuesday (Berlin): 2 h on each day.
    monday, tuesday = MONDAY, MONDAY + timedelta(days=1)
    busy = [BusyInterval(local(monday, 22), local(tuesday, 2))]
    result = workload_days([monday, tuesday], BERLIN, calendar(WEEK), [], busy, mode="daily")
    assert result[monday].busy_hours == 2.0
    assert result[tuesday].busy_hours == 2.0


def test_local_days_follow_the_users_zone_not_utc():
    # 23:30-00:30 UTC on Monday = 18:30-19:30 in New York: all on Monday (local).
    busy = [BusyInterval(utc(2026, 3, 2, 23, 30), utc(2026, 3, 3, 0, 30))]
    days = [MONDAY, MONDAY + timedelta(days=1)]
    result = workload_days(days, NEW_YORK, calendar(days, tz=NEW_YORK), [], busy, mode="daily")
    assert result[MONDAY].busy_hours == 1.0
    assert result[MONDAY + timedelta(days=1)].busy_hours == 0.0


# --------------------------------------------------------------------------- all-day


def test_all_day_counts_as_that_days_working_hours():
    day = MONDAY
    att = calendar([day], spans=((8, 12), (13, 17)))
    busy = [BusyInterval(utc(2026, 3, 2), utc(2026, 3, 3), all_day=True)]
    for mode in ("exact", "daily"):
        result = workload_days([day], BERLIN, att, [], busy, mode=mode)
        assert result[day].busy_hours == 8.0, mode


def test_multi_day_all_day_covers_each_working_day_and_not_the_weekend():
    # Thursday to Monday (end exclusive Tuesday): Thu 8 + Fri 8 + Sat 0 + Sun 0 + Mon 8.
    thursday = MONDAY + timedelta(days=3)
    days = [thursday + timedelta(days=n) for n in range(5)]
    busy = [BusyInterval(utc(2026, 3, 5), utc(2026, 3, 10), all_day=True)]
    result = workload_days(days, BERLIN, calendar(days), [], busy, mode="exact")
    assert [result[d].busy_hours for d in days] == [8.0, 8.0, 0.0, 0.0, 8.0]


def test_all_day_plus_evening_meeting_in_daily_mode():
    # All-day (8 h of working time) + 18:00-19:00 outside it: 9 h in daily mode, 8 in exact.
    day = MONDAY
    busy = [
        BusyInterval(utc(2026, 3, 2), utc(2026, 3, 3), all_day=True),
        BusyInterval(local(day, 18), local(day, 19)),
        BusyInterval(local(day, 10), local(day, 11)),  # inside the all-day: once
    ]
    daily = workload_days([day], BERLIN, calendar([day]), [], busy, mode="daily")
    exact = workload_days([day], BERLIN, calendar([day]), [], busy, mode="exact")
    assert daily[day].busy_hours == 9.0
    assert exact[day].busy_hours == 8.0


def test_all_day_dates_are_floating_whatever_the_zone():
    # An all-day item on 2026-03-02 is Monday for a New York user too.
    days = [MONDAY - timedelta(days=1), MONDAY]
    busy = [BusyInterval(utc(2026, 3, 2), utc(2026, 3, 3), all_day=True)]
    result = workload_days(days, NEW_YORK, calendar(days, tz=NEW_YORK), [], busy, mode="exact")
    assert result[MONDAY].busy_hours == 8.0
    assert result[days[0]].busy_hours == 0.0


# --------------------------------------------------------------------------- leaves


def test_leave_reduces_capacity_and_clips_busy_time():
    # Afternoon off (13:00-17:00): capacity 4 h; meeting 12:00-14:00 counts 1 h exact.
    day = MONDAY
    leaves = [(local(day, 13), local(day, 17))]
    busy = [BusyInterval(local(day, 12), local(day, 14))]
    exact = workload_days([day], BERLIN, calendar([day]), leaves, busy, mode="exact")
    daily = workload_days([day], BERLIN, calendar([day]), leaves, busy, mode="daily")
    assert exact[day].capacity_hours == 4.0
    assert exact[day].busy_hours == 1.0
    assert daily[day].busy_hours == 2.0


def test_full_day_leave_and_all_day_appointment():
    day = MONDAY
    leaves = [(local(day, 0), local(day + timedelta(days=1), 0))]
    busy = [BusyInterval(utc(2026, 3, 2), utc(2026, 3, 3), all_day=True)]
    result = workload_days([day], BERLIN, calendar([day]), leaves, busy, mode="daily")
    assert result[day].capacity_hours == 0.0
    assert result[day].busy_hours == 0.0, "an all-day item on a day off has no working hours"


# --------------------------------------------------------------------------- DST


def test_dst_spring_forward_day_is_23_hours_long():
    # Europe/Berlin, Sunday 2026-03-29: 02:00 CET -> 03:00 CEST.
    day = date(2026, 3, 29)
    low, high = day_bounds(day, "Europe/Berlin")
    assert low == utc(2026, 3, 28, 23)
    assert high == utc(2026, 3, 29, 22)
    assert (high - low) == timedelta(hours=23)


def test_dst_fall_back_day_is_25_hours_long():
    day = date(2026, 10, 25)
    low, high = day_bounds(day, "Europe/Berlin")
    assert (high - low) == timedelta(hours=25)


def test_dst_day_whole_day_appointment_in_daily_mode():
    # Midnight to midnight local on the spring-forward day: 23 real hours.
    day = date(2026, 3, 29)
    busy = [BusyInterval(utc(2026, 3, 28, 23), utc(2026, 3, 29, 22))]
    result = workload_days([day], "Europe/Berlin", [], [], busy, mode="daily")
    assert result[day].busy_hours == 23.0


def test_dst_day_working_time_keeps_wall_clock_hours():
    # A Sunday calendar 09:00-17:00: 8 working hours on both DST days, and an
    # appointment 01:00-04:00 local on the spring day lasts 2 real hours.
    spring, autumn = date(2026, 3, 29), date(2026, 10, 25)
    att = calendar([spring, autumn], weekdays={6})
    busy = [
        BusyInterval(local(spring, 1), local(spring, 4)),
        BusyInterval(local(autumn, 16), local(autumn, 18)),
    ]
    daily = workload_days([spring, autumn], BERLIN, att, [], busy, mode="daily")
    exact = workload_days([spring, autumn], BERLIN, att, [], busy, mode="exact")
    assert daily[spring].capacity_hours == 8.0
    assert daily[autumn].capacity_hours == 8.0
    assert daily[spring].busy_hours == 2.0
    assert exact[spring].busy_hours == 0.0
    assert exact[autumn].busy_hours == 1.0
    assert daily[autumn].busy_hours == 2.0


def test_dst_split_at_local_midnight_after_the_change():
    # 21:00-23:00 UTC on 2026-03-29 = 23:00 CEST Sunday to 01:00 CEST Monday: 1 h + 1 h.
    sunday, monday = date(2026, 3, 29), date(2026, 3, 30)
    busy = [BusyInterval(utc(2026, 3, 29, 21), utc(2026, 3, 29, 23))]
    result = workload_days([sunday, monday], BERLIN, [], [], busy, mode="daily")
    assert result[sunday].busy_hours == 1.0
    assert result[monday].busy_hours == 1.0


def test_pytz_zones_work_like_zoneinfo():
    pytz = pytest.importorskip("pytz")
    day = date(2026, 3, 29)
    assert day_bounds(day, pytz.timezone("Europe/Berlin")) == day_bounds(day, BERLIN)


# --------------------------------------------------------------------------- intervals


def test_union_intersect_subtract_hours():
    a = [(utc(2026, 1, 1, 9), utc(2026, 1, 1, 11)), (utc(2026, 1, 1, 10), utc(2026, 1, 1, 12))]
    assert union(a) == [(utc(2026, 1, 1, 9), utc(2026, 1, 1, 12))]
    b = [(utc(2026, 1, 1, 11), utc(2026, 1, 1, 13))]
    assert intersect(a, b) == [(utc(2026, 1, 1, 11), utc(2026, 1, 1, 12))]
    assert subtract(a, b) == [(utc(2026, 1, 1, 9), utc(2026, 1, 1, 11))]
    assert subtract(b, a) == [(utc(2026, 1, 1, 12), utc(2026, 1, 1, 13))]
    assert hours(union(a)) == 3.0
    touching = [
        (utc(2026, 1, 1, 9), utc(2026, 1, 1, 10)),
        (utc(2026, 1, 1, 10), utc(2026, 1, 1, 11)),
    ]
    assert union(touching) == [(utc(2026, 1, 1, 9), utc(2026, 1, 1, 11))]
    assert union([(utc(2026, 1, 1, 9), utc(2026, 1, 1, 9))]) == [], "empty intervals vanish"


def test_naive_datetimes_mean_utc():
    naive = [(datetime(2026, 1, 1, 9), datetime(2026, 1, 1, 10))]
    assert union(naive) == [(utc(2026, 1, 1, 9), utc(2026, 1, 1, 10))]


# --------------------------------------------------------------------------- showAs, categories


@pytest.mark.parametrize(
    ("value", "busy"),
    [
        ("busy", True),
        ("tentative", True),
        ("oof", True),
        ("free", False),
        ("workingElsewhere", False),
        ("unknown", False),
        ("Busy", True),
        (None, False),
        (42, False),
    ],
)
def test_show_as_rules(value, busy):
    assert counts_as_busy(value) is busy


def test_show_as_key_accepts_odd_case_only_for_known_values():
    assert show_as_key(" WorkingElsewhere ") == "workingElsewhere"
    assert show_as_key("unknown") is None
    assert show_as_key("maybe") is None


def test_categories_are_cleaned_and_matched_case_insensitively():
    assert clean_categories(["  Focus   time ", "focus time", "", "Customer", None]) == (
        "Focus time",
        "Customer",
    )
    assert category_key("  LUNCH   Break ") == "lunch break"
    keys = {category_key("Lunch break")}
    assert is_ignored(["lunch  BREAK"], keys)
    assert not is_ignored(["Lunch"], keys)
    text = join_categories(["Customer", " Focus time"])
    assert text == "Customer, Focus time"
    assert split_categories(text) == ("Customer", "Focus time")
    assert split_categories("") == ()
    assert categories_need_cleaning([" Customer"])
    assert categories_need_cleaning(["A", "a"])
    assert not categories_need_cleaning(["Customer", "Focus time"])
    assert not categories_need_cleaning([])


# --------------------------------------------------------------------------- validation


def slot(start, end, **kw) -> BusySlot:
    return BusySlot(event_id=kw.pop("event_id", "e1"), start=start, end=end, **kw)


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        (slot(utc(2026, 3, 2, 10), utc(2026, 3, 2, 10), show_as="busy"), "at or before"),
        (slot(utc(2026, 3, 2, 10), utc(2026, 3, 2, 9), show_as="busy"), "at or before"),
        (slot(utc(2026, 3, 1), utc(2026, 3, 16, 0, 1), show_as="busy"), "more than the 14 days"),
        (slot(utc(2026, 3, 2, 10), utc(2026, 3, 2, 11), show_as="maybe"), "unknown availability"),
        (slot(utc(2026, 3, 2, 10), utc(2026, 3, 2, 11), show_as="unknown"), "unknown"),
        (slot(utc(2026, 3, 2, 10), utc(2026, 3, 2, 11), show_as=None), "unknown"),
        (
            slot(utc(2026, 3, 1, 23), utc(2026, 3, 2, 23), show_as="oof", is_all_day=True),
            "midnight",
        ),
    ],
)
def test_bad_slots_are_rejected_with_a_reason(item, reason):
    assert reason in check_slot(item)


def test_good_slots_pass():
    assert check_slot(slot(utc(2026, 3, 2, 10), utc(2026, 3, 2, 11), show_as="busy")) is None
    assert (
        check_slot(slot(utc(2026, 3, 1), utc(2026, 3, 15), show_as="oof", is_all_day=True)) is None
    )


def test_prepare_slots_keeps_valid_ones_once_and_reports_the_rest():
    good = slot(utc(2026, 3, 2, 10), utc(2026, 3, 2, 11), show_as="busy", categories=(" A ",))
    again = slot(utc(2026, 3, 2, 10), utc(2026, 3, 2, 12), show_as="busy")
    bad = slot(utc(2026, 3, 2, 10), utc(2026, 3, 2, 10), show_as="busy", event_id="e2")
    records, skipped = prepare_slots([good, bad, again])
    assert [(r.event_id, r.stop) for r in records] == [("e1", datetime(2026, 3, 2, 12))]
    assert [(s.id, s.reason) for s in skipped] == [("e2", "ends at or before its start")]


def test_slot_record_is_naive_utc_without_private_fields():
    record = slot_record(
        slot(
            datetime(2026, 3, 2, 10, 0, 0, 500, tzinfo=BERLIN),
            utc(2026, 3, 2, 11),
            show_as="Tentative",
            categories=("x", " X "),
            sensitivity="Private",
            event_type="occurrence",
        )
    )
    assert record.start == datetime(2026, 3, 2, 9, 0, 0)
    assert record.show_as == "tentative"
    assert record.categories == "x"
    assert record.sensitivity == "private"
    assert record.event_type == "occurrence"
    assert not {"subject", "body", "location", "attendees"} & set(vars(record))


# --------------------------------------------------------------------------- reconcile


def rec(event_id, hour, **kw) -> SlotRecord:
    return SlotRecord(event_id, datetime(2026, 3, 2, hour), datetime(2026, 3, 2, hour + 1), **kw)


def test_reconcile_creates_updates_deletes_and_leaves_equal_ones():
    stored = [(1, rec("a", 9)), (2, rec("b", 10)), (3, rec("c", 11)), (4, rec("c", 11))]
    fetched = [rec("a", 9), rec("b", 12), rec("d", 13)]
    plan = reconcile(stored, fetched)
    assert [r.event_id for r in plan.create] == ["d"]
    assert [(ref, old.start.hour, new.start.hour) for ref, old, new in plan.update] == [(2, 10, 12)]
    assert sorted(ref for ref, _old in plan.delete) == [3, 4]
    assert plan.unchanged == 1
    assert plan.changed


def test_reconcile_nothing_changed():
    stored = [(1, rec("a", 9, categories="X"))]
    plan = reconcile(stored, [rec("a", 9, categories="X")])
    assert not plan.changed
    assert plan.unchanged == 1


def test_reconcile_category_change_is_an_update():
    plan = reconcile([(1, rec("a", 9))], [rec("a", 9, categories="Lunch break")])
    assert len(plan.update) == 1


# --------------------------------------------------------------------------- days, window, figures


def test_slot_days():
    assert slot_days(datetime(2026, 3, 2), datetime(2026, 3, 4), True, BERLIN) == [
        date(2026, 3, 2),
        date(2026, 3, 3),
    ]
    # 23:00 UTC Monday is Tuesday in Berlin.
    assert slot_days(datetime(2026, 3, 2, 23), datetime(2026, 3, 3, 0), False, BERLIN) == [
        date(2026, 3, 3)
    ]
    # Ending exactly at local midnight stays on one day.
    assert slot_days(datetime(2026, 3, 2, 21), datetime(2026, 3, 2, 23), False, BERLIN) == [
        date(2026, 3, 2)
    ]


def test_busy_window_reads_a_day_more_on_each_side():
    window = busy_window(date(2026, 11, 21), 7, 90)
    assert window.first_day == date(2026, 11, 14)
    assert window.last_day == date(2027, 2, 19)
    assert window.start == utc(2026, 11, 13)
    assert window.end == utc(2027, 2, 21)
    assert len(window.days) == 98
    assert date(2026, 11, 21) in window
    assert date(2026, 11, 13) not in window
    with pytest.raises(ValueError):
        busy_window(date(2026, 11, 21), -1, 5)


def test_day_figures():
    assert day_figures(8.0, 2.0, 1.0) == (5.0, 37.5, False)
    assert day_figures(8.0, 6.0, 4.0) == (0.0, 125.0, True)
    assert day_figures(8.0, 8.0, 0.0) == (0.0, 100.0, False)
    assert day_figures(0.0, 0.0, 0.0) == (0.0, 0.0, False)
    assert day_figures(0.0, 1.0, 0.0) == (0.0, 100.0, True)


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="calculation mode"):
        workload_days([MONDAY], BERLIN, [], [], [], mode="hourly")
