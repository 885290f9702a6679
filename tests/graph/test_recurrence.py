"""Odoo recurrence rules ↔ Graph patterns (m365_graph.sync.recurrence).

The property test expands a rule the way Odoo does (``calendar.recurrence._get_rrule``)
and the converted Graph pattern the way the sandbox (following Graph's documented
semantics) does, and demands the same occurrence dates.
"""

from datetime import date, datetime, time, timedelta

import pytest
from dateutil import rrule as du
from hypothesis import given, settings
from hypothesis import strategies as st

from m365_graph.core.errors import BadResponse
from m365_graph.sync.recurrence import Recurrence, UnsupportedRecurrence, from_graph, to_graph
from m365_sandbox.tenant import recurrence_expansion as sandbox_recurrence

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


# --------------------------------------------------------------------------- property

_RRULE_DAYS = (du.MO, du.TU, du.WE, du.TH, du.FR, du.SA, du.SU)
_FIELDS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ODOO_WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


def odoo_dates(rule: Recurrence, dtstart: datetime, limit: int) -> list[date]:
    """Occurrence dates as Odoo's calendar.recurrence._get_rrule computes them."""
    freq = {"daily": du.DAILY, "weekly": du.WEEKLY, "monthly": du.MONTHLY, "yearly": du.YEARLY}[
        rule.rrule_type
    ]
    params = {"dtstart": dtstart, "interval": rule.interval}
    if rule.rrule_type == "monthly" and rule.month_by == "date":
        params["bymonthday"] = rule.day
    elif rule.rrule_type == "monthly":
        weekday = _RRULE_DAYS[_ODOO_WEEKDAYS.index(rule.weekday)]
        params["byweekday"] = weekday(int(rule.byday))
    elif rule.rrule_type == "weekly":
        params["byweekday"] = [_RRULE_DAYS[_FIELDS.index(d)] for d in _FIELDS if d in rule.weekdays]
        params["wkst"] = du.MO
    if rule.end_type == "count":
        params["count"] = rule.count
    elif rule.end_type == "end_date":
        params["until"] = datetime.combine(rule.until, time.max)
    return [d.date() for _, d in zip(range(limit), du.rrule(freq, **params), strict=False)]


def graph_dates(graph: dict, dtstart: datetime, limit: int) -> list[date]:
    normalized = sandbox_recurrence.normalize(graph, dtstart.date(), "UTC")
    occurrences = sandbox_recurrence.rule(normalized, dtstart.time())
    return [d.date() for _, d in zip(range(limit), occurrences, strict=False)]


@st.composite
def rules_with_first_date(draw):
    kind = draw(st.sampled_from(["daily", "weekly", "monthly_date", "monthly_day", "yearly"]))
    first = draw(st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)))
    extra = {}
    if kind == "weekly":
        days = draw(st.sets(st.sampled_from(_FIELDS), min_size=1))
        # Odoo's first occurrence is on one of the chosen days.
        while _FIELDS[first.weekday()] not in days:
            first += timedelta(days=1)
        extra = {"rrule_type": "weekly", "weekdays": frozenset(days)}
    elif kind == "monthly_date":
        # Days 29-31 differ on purpose (Outlook moves them to the month's end).
        first = first.replace(day=draw(st.integers(1, 28)))
        extra = {"rrule_type": "monthly", "month_by": "date", "day": first.day}
    elif kind == "monthly_day":
        byday = draw(st.sampled_from(["1", "2", "3", "4", "-1"]))
        weekday = first.weekday()
        # Start on an actual occurrence: the rank-th such weekday of the first month.
        starts = du.rrule(
            du.MONTHLY,
            dtstart=datetime.combine(first.replace(day=1), time()),
            byweekday=_RRULE_DAYS[weekday](int(byday)),
            count=1,
        )
        first = starts[0].date()
        extra = {
            "rrule_type": "monthly",
            "month_by": "day",
            "weekday": _ODOO_WEEKDAYS[weekday],
            "byday": byday,
        }
    elif kind == "yearly":
        first = first.replace(day=min(first.day, 28))
        extra = {"rrule_type": "yearly"}
    else:
        extra = {"rrule_type": "daily"}
    end_type = draw(st.sampled_from(["count", "end_date", "forever"]))
    rule = Recurrence(
        interval=draw(st.integers(1, 4)),
        end_type=end_type,
        # Odoo keeps its default count when the rule does not end after N times.
        count=draw(st.integers(1, 30)) if end_type == "count" else 1,
        until=first + timedelta(days=draw(st.integers(0, 800))) if end_type == "end_date" else None,
        **extra,
    )
    return rule, first


@settings(max_examples=300, deadline=None)
@given(rules_with_first_date())
def test_outlook_repeats_on_the_same_dates_as_odoo(rule_and_first):
    rule, first = rule_and_first
    dtstart = datetime.combine(first, time(9, 30))
    graph = to_graph(rule, first, time_zone="Europe/Paris", first_day_of_week="monday")
    assert graph_dates(graph, dtstart, 40) == odoo_dates(rule, dtstart, 40)
    back, back_first, _zone = from_graph(graph)
    if rule.rrule_type == "yearly":
        assert back == Recurrence(
            "yearly", **{k: getattr(rule, k) for k in ("interval", "end_type", "count", "until")}
        )
    else:
        assert back == rule
    assert back_first == first
