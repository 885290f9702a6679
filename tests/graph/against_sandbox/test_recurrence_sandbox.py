"""Outlook repeats a converted recurrence on the same dates as Odoo: the Graph pattern
of every Odoo rule, expanded the way the sandbox (following Graph's documented
semantics) expands it, gives Odoo's own dates — and converts back unchanged."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from dateutil import rrule as du
from hypothesis import given, settings
from hypothesis import strategies as st

from m365_graph.sync.recurrence import Recurrence, from_graph, to_graph
from m365_sandbox.tenant import recurrence_expansion as sandbox_recurrence

MONDAY = date(2026, 3, 2)


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
