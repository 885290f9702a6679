"""Odoo recurrence rules ↔ Graph patterns (m365_graph.sync.recurrence).

Hand-computed conversions and refusals; the property test comparing Odoo's dates
with the sandbox's expansion of the converted pattern is in
``tests/graph/against_sandbox/test_recurrence_sandbox.py``.
"""

from datetime import date

import pytest

from m365_graph.core.errors import BadResponse
from m365_graph.sync.recurrence import Recurrence, UnsupportedRecurrence, from_graph, to_graph

MONDAY = date(2026, 3, 2)


def test_daily_numbered():
    rule = Recurrence("daily", interval=2, end_type="count", count=5)
    assert to_graph(rule, MONDAY, time_zone="Europe/Paris") == {
        "pattern": {"type": "daily", "interval": 2},
        "range": {
            "type": "numbered",
            "numberOfOccurrences": 5,
            "startDate": "2026-03-02",
            "recurrenceTimeZone": "Romance Standard Time",
        },
    }


def test_weekly_days_in_week_order_and_first_day():
    rule = Recurrence("weekly", weekdays=frozenset({"fri", "mon"}), end_type="forever")
    graph = to_graph(rule, MONDAY, time_zone="America/New_York", first_day_of_week="sunday")
    assert graph["pattern"] == {
        "type": "weekly",
        "interval": 1,
        "daysOfWeek": ["monday", "friday"],
        "firstDayOfWeek": "sunday",
    }
    assert graph["range"]["type"] == "noEnd"
    assert graph["range"]["recurrenceTimeZone"] == "Eastern Standard Time"


def test_monthly_by_date_and_by_weekday():
    by_date = Recurrence(
        "monthly", month_by="date", day=15, end_type="end_date", until=date(2026, 12, 31)
    )
    graph = to_graph(by_date, date(2026, 3, 15), time_zone=None)
    assert graph["pattern"] == {"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 15}
    assert graph["range"] == {
        "type": "endDate",
        "endDate": "2026-12-31",
        "startDate": "2026-03-15",
        "recurrenceTimeZone": "UTC",
    }
    by_day = Recurrence("monthly", month_by="day", weekday="TUE", byday="-1", interval=3)
    assert to_graph(by_day, date(2026, 3, 31), time_zone="UTC")["pattern"] == {
        "type": "relativeMonthly",
        "interval": 3,
        "daysOfWeek": ["tuesday"],
        "index": "last",
    }


def test_yearly_takes_month_and_day_of_the_first_occurrence():
    graph = to_graph(Recurrence("yearly"), date(2026, 7, 14), time_zone="Europe/Paris")
    assert graph["pattern"] == {
        "type": "absoluteYearly",
        "interval": 1,
        "dayOfMonth": 14,
        "month": 7,
    }


def test_unknown_iana_zone_is_sent_as_is():
    graph = to_graph(Recurrence("daily"), MONDAY, time_zone="Mars/Olympus_Mons")
    assert graph["range"]["recurrenceTimeZone"] == "Mars/Olympus_Mons"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"rrule_type": "hourly"}, "unknown repeat type"),
        ({"rrule_type": "daily", "interval": 0}, "1 or more"),
        ({"rrule_type": "weekly"}, "at least one day"),
        ({"rrule_type": "daily", "end_type": "end_date"}, "needs that date"),
        ({"rrule_type": "monthly", "day": 32}, "between 1 and 31"),
        ({"rrule_type": "monthly", "month_by": "day", "weekday": "MON"}, "rank"),
        ({"rrule_type": "daily", "count": 0}, "at least one"),
    ],
)
def test_invalid_rules_are_refused_in_plain_words(values, message):
    with pytest.raises(ValueError, match=message):
        Recurrence(**values)


def test_from_graph_round_trip_and_zone():
    rule = Recurrence(
        "monthly", month_by="day", weekday="WED", byday="2", interval=2, end_type="count", count=7
    )
    back, first, zone = from_graph(to_graph(rule, date(2026, 3, 11), time_zone="Europe/Paris"))
    assert back == rule
    assert first == date(2026, 3, 11)
    assert zone == "Europe/Paris"


def test_from_graph_accepts_graph_filled_in_defaults():
    # Graph answers with every field present, zeros and "first" included.
    rule, first, zone = from_graph(
        {
            "pattern": {
                "type": "weekly",
                "interval": 1,
                "month": 0,
                "dayOfMonth": 0,
                "daysOfWeek": ["tuesday", "thursday"],
                "firstDayOfWeek": "sunday",
                "index": "first",
            },
            "range": {
                "type": "endDate",
                "startDate": "2026-03-03",
                "endDate": "2026-06-30",
                "recurrenceTimeZone": "W. Europe Standard Time",
                "numberOfOccurrences": 0,
            },
        }
    )
    assert rule == Recurrence(
        "weekly", weekdays=frozenset({"tue", "thu"}), end_type="end_date", until=date(2026, 6, 30)
    )
    assert first == date(2026, 3, 3)
    assert zone == "Europe/Berlin"


def test_relative_yearly_is_unsupported():
    with pytest.raises(UnsupportedRecurrence, match="second Tuesday of March"):
        from_graph(
            {
                "pattern": {
                    "type": "relativeYearly",
                    "interval": 1,
                    "month": 3,
                    "daysOfWeek": ["tuesday"],
                    "index": "second",
                },
                "range": {"type": "noEnd", "startDate": "2026-03-10"},
            }
        )


@pytest.mark.parametrize(
    ("recurrence", "field"),
    [
        (None, "recurrence"),
        ({"pattern": {"type": "daily"}}, "recurrence"),
        (
            {"pattern": {"type": "hourly"}, "range": {"type": "noEnd", "startDate": "2026-03-02"}},
            "pattern.type",
        ),
        (
            {
                "pattern": {"type": "daily", "interval": "2"},
                "range": {"type": "noEnd", "startDate": "2026-03-02"},
            },
            "interval",
        ),
        (
            {"pattern": {"type": "daily"}, "range": {"type": "noEnd", "startDate": "soon"}},
            "startDate",
        ),
        (
            {
                "pattern": {"type": "daily"},
                "range": {"type": "sometimes", "startDate": "2026-03-02"},
            },
            "range.type",
        ),
        (
            {
                "pattern": {"type": "weekly", "daysOfWeek": ["caturday"]},
                "range": {"type": "noEnd", "startDate": "2026-03-02"},
            },
            "daysOfWeek",
        ),
    ],
)
def test_malformed_graph_recurrences_are_bad_responses(recurrence, field):
    with pytest.raises(BadResponse) as info:
        from_graph(recurrence)
    assert info.value.field == field
