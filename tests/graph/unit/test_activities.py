"""Activity export decisions (m365_graph.sync.activities): writer, start, duration, body.

Hand-computed cases for every rule and bad input of the activity export, properties
for the duration and window bounds (the payload written to the sandbox is in
``tests/graph/against_sandbox/test_activities_sandbox.py``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from m365_graph.sync.activities import (
    APPLICATION,
    CATEGORY,
    DEFAULT_DURATION_HOURS,
    MAX_DURATION_HOURS,
    NO_MAILBOX,
    NO_WRITER,
    OWN,
    SHARED,
    ActivityEvent,
    WriterFacts,
    activity_payload,
    choose_writer,
    clean_default_duration,
    planned_duration,
    planned_window,
    working_day_start,
)
from m365_graph.sync.personal import has_shared_write, needs_consent, scopes_for_direction
from m365_graph.sync.workload import BusyInterval, busy_by_day, planned_by_day, work_by_day

UTC = timezone.utc
MEGAN = "megan.bowen@contoso.onmicrosoft.com"


# --------------------------------------------------------------------------- writer


def facts(**values):
    base = {
        "assignee_uploads": False,
        "app_allowed": False,
        "assigner_shared": False,
        "assignee_mailbox": "b2c4",
        "same_person": False,
    }
    base.update(values)
    return WriterFacts(**base)


def test_the_assignees_own_account_comes_first():
    choice = choose_writer(facts(assignee_uploads=True, app_allowed=True, assigner_shared=True))
    assert choice.writer == OWN and choice.ok


def test_own_account_needs_no_known_mailbox():
    assert choose_writer(facts(assignee_uploads=True, assignee_mailbox=None)).writer == OWN


def test_then_the_application_permission():
    assert choose_writer(facts(app_allowed=True, assigner_shared=True)).writer == APPLICATION


def test_then_the_assigners_shared_calendar_access():
    assert choose_writer(facts(assigner_shared=True)).writer == SHARED


def test_shared_access_to_ones_own_calendar_is_not_a_way():
    # Assigning to oneself without an uploading account: nothing can write.
    choice = choose_writer(facts(assigner_shared=True, same_person=True))
    assert choice.writer is None and choice.reason == NO_WRITER


def test_no_way_at_all_says_why():
    choice = choose_writer(facts())
    assert not choice.ok and choice.reason == NO_WRITER


def test_no_mailbox_is_its_own_reason():
    choice = choose_writer(facts(app_allowed=True, assigner_shared=True, assignee_mailbox=None))
    assert choice.writer is None and choice.reason == NO_MAILBOX


@given(
    st.booleans(), st.booleans(), st.booleans(), st.sampled_from([None, "", "id"]), st.booleans()
)
def test_the_choice_follows_the_documented_order(uploads, app, shared, mailbox, same):
    choice = choose_writer(
        WriterFacts(uploads, app, shared, mailbox, same_person=same),
    )
    if uploads:
        assert choice.writer == OWN
    elif not mailbox:
        assert choice.reason == NO_MAILBOX
    elif app:
        assert choice.writer == APPLICATION
    elif shared and not same:
        assert choice.writer == SHARED
    else:
        assert choice.reason == NO_WRITER
    assert choice.ok == (choice.writer is not None)


# --------------------------------------------------------------------------- scopes


def test_shared_calendar_writers_ask_calendars_readwrite_shared():
    assert "Calendars.ReadWrite.Shared" not in scopes_for_direction("both")
    assert "Calendars.ReadWrite.Shared" in scopes_for_direction("both", shared=True)
    assert "Calendars.ReadWrite.Shared" in scopes_for_direction("down", shared=True)
    granted = ["User.Read", "Calendars.ReadWrite", "offline_access"]
    assert not needs_consent("both", granted)
    assert needs_consent("both", granted, shared=True)
    assert not needs_consent("both", [*granted, "Calendars.ReadWrite.Shared"], shared=True)
    assert not needs_consent("none", granted, shared=True)


def test_has_shared_write_reads_full_scope_names():
    assert has_shared_write(["https://graph.microsoft.com/Calendars.ReadWrite.Shared"])
    assert not has_shared_write(["Calendars.Read.Shared", "Calendars.ReadWrite"])


# --------------------------------------------------------------------------- timing


ATTENDANCE = [(0, 8.0), (0, 13.0), (1, 8.5), (2, 7.75), (2, 13.0), (3, 8.0), (4, 8.0)]


def test_working_day_start_is_the_first_attendance_of_the_weekday():
    assert working_day_start(date(2025, 3, 3), ATTENDANCE) == 8.0  # Monday
    assert working_day_start(date(2025, 3, 4), ATTENDANCE) == 8.5
    assert working_day_start(date(2025, 3, 5), ATTENDANCE) == 7.75
    assert working_day_start(date(2025, 3, 8), ATTENDANCE) is None  # Saturday
    assert working_day_start(date(2025, 3, 3), []) is None
    assert working_day_start(date(2025, 3, 3), [(0, 25.0), (0, -1.0)]) is None


def test_a_planned_start_is_kept_as_it_is():
    start = datetime(2025, 3, 3, 13, 30)
    window = planned_window(
        deadline=date(2025, 3, 10),
        planned_start=start,
        duration_hours=1.5,
        default_hours=0.5,
        time_zone="Europe/Brussels",
        day_start=8.0,
    )
    assert (window.start, window.stop) == (start, datetime(2025, 3, 3, 15, 0))
    assert window.time_zone == "Europe/Brussels" and window.warnings == ()


def test_an_aware_planned_start_becomes_naive_utc():
    start = datetime(2025, 3, 3, 14, 30, tzinfo=timezone(timedelta(hours=1)))
    window = planned_window(
        deadline=None,
        planned_start=start,
        duration_hours=None,
        default_hours=None,
        time_zone="UTC",
        day_start=None,
    )
    assert window.start == datetime(2025, 3, 3, 13, 30)
    assert window.hours == DEFAULT_DURATION_HOURS


def test_without_start_the_deadline_at_the_working_day_start_in_the_users_zone():
    # 08:30 in Brussels in winter (UTC+1) is 07:30 UTC; in summer (UTC+2) 06:30 UTC.
    winter = planned_window(
        deadline=date(2025, 1, 14),
        planned_start=None,
        duration_hours=2,
        default_hours=0.5,
        time_zone="Europe/Brussels",
        day_start=8.5,
    )
    summer = planned_window(
        deadline=date(2025, 7, 15),
        planned_start=None,
        duration_hours=2,
        default_hours=0.5,
        time_zone="Europe/Brussels",
        day_start=8.5,
    )
    assert winter.start == datetime(2025, 1, 14, 7, 30)
    assert winter.stop == datetime(2025, 1, 14, 9, 30)
    assert summer.start == datetime(2025, 7, 15, 6, 30)


def test_a_day_without_working_time_starts_at_nine():
    window = planned_window(
        deadline=date(2025, 3, 8),
        planned_start=None,
        duration_hours=None,
        default_hours=0.25,
        time_zone="America/New_York",
        day_start=None,
    )
    assert window.start == datetime(2025, 3, 8, 14, 0)  # 09:00 EST
    assert window.hours == 0.25


@pytest.mark.parametrize("zone", [None, "", "  ", "Mars/Olympus_Mons"])
def test_a_missing_or_unknown_time_zone_falls_back_to_utc_with_a_warning(zone):
    window = planned_window(
        deadline=date(2025, 3, 3),
        planned_start=None,
        duration_hours=1,
        default_hours=0.5,
        time_zone=zone,
        day_start=8.0,
    )
    assert window.start == datetime(2025, 3, 3, 8, 0)
    assert window.time_zone == "UTC"
    assert len(window.warnings) == 1 and "UTC" in window.warnings[0]


def test_no_date_at_all_is_refused():
    with pytest.raises(ValueError, match="neither a planned start nor a due date"):
        planned_window(
            deadline=None,
            planned_start=None,
            duration_hours=1,
            default_hours=0.5,
            time_zone="UTC",
            day_start=None,
        )


@pytest.mark.parametrize(
    ("hours", "default", "expected", "warned"),
    [
        (None, 0.5, 0.5, False),
        (0, 0.5, 0.5, False),
        (-3, 1.0, 1.0, False),
        (float("nan"), 0.75, 0.75, False),
        (1.25, 0.5, 1.25, False),
        (24, 0.5, 24, False),
        (24.01, 0.5, 24, True),
        (72, 0.5, 24, True),
        (float("inf"), 0.5, 24, True),
        (None, 0, DEFAULT_DURATION_HOURS, False),
        (None, 30, DEFAULT_DURATION_HOURS, False),
        (None, None, DEFAULT_DURATION_HOURS, False),
    ],
)
def test_duration_defaults_and_limits(hours, default, expected, warned):
    duration, warning = planned_duration(hours, default)
    assert duration == expected
    assert bool(warning) == warned


@given(
    st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
    st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
)
def test_every_duration_is_between_a_moment_and_a_day(hours, default):
    duration, _warning = planned_duration(hours, default)
    assert 0 < duration <= MAX_DURATION_HOURS
    assert 0 < clean_default_duration(default) <= MAX_DURATION_HOURS


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
    st.floats(min_value=0, max_value=23.75),
    st.sampled_from(["UTC", "Europe/Brussels", "America/New_York", "Asia/Kolkata", "Pacific/Apia"]),
    st.floats(min_value=0.01, max_value=48),
)
def test_a_window_always_lasts_its_clean_duration(day, day_start, zone, hours):
    window = planned_window(
        deadline=day,
        planned_start=None,
        duration_hours=hours,
        default_hours=0.5,
        time_zone=zone,
        day_start=day_start,
    )
    assert window.start.tzinfo is None and window.stop.tzinfo is None
    assert abs(window.hours - min(hours, MAX_DURATION_HOURS)) < 1e-6
    # The start is on the due date, at most a day away in UTC.
    assert abs((window.start.date() - day).days) <= 1


# --------------------------------------------------------------------------- payload


def event(**values):
    base = {
        "summary": "Call the supplier",
        "activity_type": "Call",
        "note": "<p>Ask for the <b>new</b> prices</p>",
        "record_name": "Kitchen <renovation> & co",
        "record_url": "https://odoo.example/mail/view?model=project.task&res_id=7",
        "start": datetime(2025, 3, 3, 8, 0),
        "stop": datetime(2025, 3, 3, 9, 30),
        "time_zone": "Europe/Brussels",
    }
    base.update(values)
    return ActivityEvent(**base)


def test_payload_subject_body_category_busy_and_no_attendees():
    built = activity_payload(event())
    body = built.payload
    assert body["subject"] == "Call the supplier"
    assert body["start"] == {
        "dateTime": "2025-03-03T09:00:00.0000000",
        "timeZone": "Romance Standard Time",
    }
    assert body["end"]["dateTime"] == "2025-03-03T10:30:00.0000000"
    assert body["categories"] == [CATEGORY]
    assert body["showAs"] == "busy"
    assert body["isAllDay"] is False
    assert "attendees" not in body
    content = body["body"]["content"]
    assert content.startswith("<p>Ask for the <b>new</b> prices</p>")
    assert 'href="https://odoo.example/mail/view?model=project.task&amp;res_id=7"' in content
    assert "Kitchen &lt;renovation&gt; &amp; co" in content
    assert built.warnings == ()


def test_subject_falls_back_to_the_type_then_no_title():
    assert activity_payload(event(summary="  ")).payload["subject"] == "Call"
    assert activity_payload(event(summary=None, activity_type=None)).payload["subject"] == (
        "(No title)"
    )


def test_a_kept_done_activity_is_marked_and_free():
    body = activity_payload(event(done=True)).payload
    assert body["subject"] == "Done: Call the supplier"
    assert body["showAs"] == "free"


def test_empty_note_and_no_link_give_an_empty_body():
    body = activity_payload(event(note="<p><br></p>", record_url=None)).payload
    assert body["body"] == {"contentType": "html", "content": ""}
    body = activity_payload(event(note=None, record_url=None)).payload
    assert body["body"] == {"contentType": "html", "content": ""}


def test_the_same_activity_gives_the_same_digest_and_a_change_another():
    assert activity_payload(event()).hash == activity_payload(event()).hash
    assert activity_payload(event()).hash != activity_payload(event(summary="Other")).hash
    moved = event(start=datetime(2025, 3, 4, 8), stop=datetime(2025, 3, 4, 9))
    assert activity_payload(event()).hash != activity_payload(moved).hash


# --------------------------------------------------------------------------- planned hours


def _work(day, zone):
    # 09:00-12:00 and 13:00-17:00 local time.
    tz = ZoneInfo(zone)
    attendance = [
        (
            datetime(day.year, day.month, day.day, 9, tzinfo=tz),
            datetime(day.year, day.month, day.day, 12, tzinfo=tz),
        ),
        (
            datetime(day.year, day.month, day.day, 13, tzinfo=tz),
            datetime(day.year, day.month, day.day, 17, tzinfo=tz),
        ),
    ]
    return work_by_day([day], zone, attendance)


def test_planned_hours_add_up_even_when_activities_overlap():
    day = date(2025, 3, 3)
    work = _work(day, "UTC")
    planned = [(datetime(2025, 3, 3, 9), datetime(2025, 3, 3, 10))] * 3
    assert planned_by_day(work, "UTC", planned, "exact") == {day: 3.0}


def test_exact_mode_counts_planned_work_inside_working_time_only():
    day = date(2025, 3, 3)
    work = _work(day, "UTC")
    planned = [(datetime(2025, 3, 3, 11), datetime(2025, 3, 3, 14))]  # 1 h lunch inside
    assert planned_by_day(work, "UTC", planned, "exact") == {day: 2.0}
    assert planned_by_day(work, "UTC", planned, "daily") == {day: 3.0}


def test_daily_mode_splits_planned_work_at_local_midnight():
    days = [date(2025, 3, 3), date(2025, 3, 4)]
    work = work_by_day(days, "Europe/Brussels", [])
    # 22:00-02:00 Brussels = 21:00-01:00 UTC.
    planned = [(datetime(2025, 3, 3, 21), datetime(2025, 3, 4, 1))]
    assert planned_by_day(work, "Europe/Brussels", planned, "daily") == {
        days[0]: 2.0,
        days[1]: 2.0,
    }
    assert planned_by_day(work, "Europe/Brussels", planned, "exact") == {days[0]: 0.0, days[1]: 0.0}


def test_planned_work_inside_an_outlook_meeting_is_booked_once():
    day = date(2025, 3, 3)
    work = _work(day, "UTC")
    planned = [(datetime(2025, 3, 3, 9), datetime(2025, 3, 3, 11))]  # 2 h of work
    meeting = [BusyInterval(datetime(2025, 3, 3, 10), datetime(2025, 3, 3, 12), False)]
    for mode in ("exact", "daily"):
        planned_hours = planned_by_day(work, "UTC", planned, mode, meeting)[day]
        busy_hours = busy_by_day(work, "UTC", meeting, mode)[day]
        assert planned_hours == 1.0, mode  # 10:00-11:00 is the meeting's
        assert planned_hours + busy_hours == 3.0, "09:00-12:00 booked, counted once"
    # A meeting on another day, or none, changes nothing.
    other = [BusyInterval(datetime(2025, 3, 4, 9), datetime(2025, 3, 4, 11), False)]
    assert planned_by_day(work, "UTC", planned, "exact", other) == {day: 2.0}
    # An all-day appointment books the working hours: nothing planned is added then.
    all_day = [BusyInterval(datetime(2025, 3, 3), datetime(2025, 3, 4), True)]
    assert planned_by_day(work, "UTC", planned, "exact", all_day) == {day: 0.0}


@given(
    st.lists(st.tuples(st.integers(0, 47), st.integers(1, 16)), max_size=6),
    st.lists(st.tuples(st.integers(0, 47), st.integers(1, 16)), max_size=6),
    st.sampled_from(["exact", "daily"]),
)
def test_planned_hours_never_exceed_the_time_left_beside_busy(plans, meetings, mode):
    day = date(2025, 3, 3)
    work = _work(day, "UTC")
    base = datetime(2025, 3, 3)
    planned = [
        (base + timedelta(minutes=30 * a), base + timedelta(minutes=30 * (a + n))) for a, n in plans
    ]
    busy = [
        BusyInterval(
            base + timedelta(minutes=30 * a), base + timedelta(minutes=30 * (a + n)), False
        )
        for a, n in meetings
    ]
    alone = planned_by_day(work, "UTC", planned, mode)[day]
    beside = planned_by_day(work, "UTC", planned, mode, busy)[day]
    assert 0.0 <= beside <= alone
    if not busy:
        assert beside == alone


def test_planned_hours_ignore_empty_items_and_refuse_unknown_modes():
    day = date(2025, 3, 3)
    work = _work(day, "UTC")
    empty = [(datetime(2025, 3, 3, 10), datetime(2025, 3, 3, 10))]
    assert planned_by_day(work, "UTC", empty, "daily") == {day: 0.0}
    with pytest.raises(ValueError, match="unknown calculation mode"):
        planned_by_day(work, "UTC", [], "weekly")
