"""Availability (getSchedule answers, conflicts, next free slot), privacy/upload rules, Teams
decisions and the busy-only mirror plan, all pure decisions."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from m365_graph.core.errors import BadResponse
from m365_graph.core.types import BusySlot
from m365_graph.sync import availability, mirror, rules

UTC = timezone.utc
DAY = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday


def at(hour, minute=0):
    return DAY + timedelta(hours=hour, minutes=minute)


def when(moment):
    return {"dateTime": moment.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}


# Microsoft's documented example (outlook-get-free-busy-schedule), plus an error entry as
# reported in microsoftgraph/microsoft-graph-docs#11225.
DOC_ANSWER = [
    {
        "scheduleId": "AlexW@contoso.com",
        "availabilityView": "111111002222222200000000000000000000",
        "scheduleItems": [
            {"status": "Tentative", "start": when(at(9)), "end": when(at(10, 30))},
            {
                "status": "Busy",
                "start": when(at(11)),
                "end": when(at(13)),
                "isPrivate": True,
                "subject": "Secret",
            },
        ],
        "workingHours": {"daysOfWeek": ["monday"], "startTime": "08:00:00.0000000"},
    },
    {
        "scheduleId": "guest@fabrikam.com",
        "error": {
            "message": "Unable to resolve e-mail address guest@fabrikam.com to an Active "
            "Directory object.",
            "responseCode": "5009",
        },
    },
]


def test_documented_answer_and_per_person_error():
    people, skipped = availability.parse_schedules(DOC_ANSWER)
    assert not skipped
    alex, guest = people
    assert alex.ok and [i.status for i in alex.items] == ["tentative", "busy"]
    assert not guest.ok and guest.error_code == "5009" and "Active Directory" in guest.error
    assert availability.busy_intervals(alex.items) == [(at(9), at(10, 30)), (at(11), at(13))]
    assert availability.busy_intervals(alex.items, tentative_busy=False) == [(at(11), at(13))]


def test_malformed_item_skipped_not_the_person():
    bad = [
        {
            "scheduleId": "a@x",
            "scheduleItems": [
                {"status": "busy"},
                "junk",
                {"status": "busy", "start": when(at(10)), "end": when(at(9))},
            ],
        },
        7,
    ]
    people, skipped = availability.parse_schedules(bad)
    assert [p.schedule_id for p in people] == ["a@x"] and people[0].items == []
    assert len(skipped) == 4
    with pytest.raises(BadResponse):
        availability.parse_schedules(None)


def test_titles_only_for_own_calendar_never_private():
    people, _ = availability.parse_schedules(DOC_ANSWER)
    alex = people[0]
    assert all(i["title"] is None for i in availability.visible_items(alex, may_see_titles=False))
    # The private item hides its title even from a viewer who may see titles.
    assert [i["title"] for i in availability.visible_items(alex, may_see_titles=True)] == [
        None,
        None,
    ]


def test_conflicts_and_next_free_slot_in_working_hours():
    busy = {"a": [(at(9), at(10))], "b": [(at(10), at(11, 10))], "c": []}
    assert availability.conflicts(busy, at(9, 30), at(10, 30)) == {
        "a": [(at(9), at(10))],
        "b": [(at(10), at(11, 10))],
    }
    everyone = [iv for ivs in busy.values() for iv in ivs] + [(at(12), at(13))]  # Odoo lunch
    working = [(at(8), at(12)), (at(13), at(17))]
    slot = availability.next_free_slot(everyone, working, timedelta(hours=1), at(9))
    # 11:15 would be free but 12:15 is past the morning's end; the afternoon starts at 13.
    assert slot == (at(13), at(14))
    short = availability.next_free_slot(everyone, working, timedelta(minutes=45), at(9))
    assert short == (at(11, 15), at(12))
    assert availability.next_free_slot(everyone, working, timedelta(hours=5), at(9)) is None
    with pytest.raises(ValueError):
        availability.next_free_slot([], working, timedelta(0), at(9))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    st.lists(st.tuples(st.integers(0, 95), st.integers(1, 16)), max_size=12),
    st.integers(1, 12),
    st.integers(0, 60),
)
def test_next_free_slot_is_free_inside_work_and_earliest(raw, quarters, after_q):
    busy = [
        (DAY + timedelta(minutes=15 * s), DAY + timedelta(minutes=15 * (s + n))) for s, n in raw
    ]
    working = [(at(8), at(12)), (at(13), at(18))]
    duration = timedelta(minutes=15 * quarters)
    after = DAY + timedelta(minutes=15 * after_q)
    slot = availability.next_free_slot(busy, working, duration, after)
    if slot is None:
        return
    start, end = slot
    assert end - start == duration and start >= after
    assert any(ws <= start and end <= we for ws, we in working)
    assert not any(s < end and start < e for s, e in busy)
    # Nothing earlier on the grid fits.
    probe = max(after, at(8))
    while probe < start:
        fits = any(ws <= probe and probe + duration <= we for ws, we in working)
        clear = not any(s < probe + duration and probe < e for s, e in busy)
        assert not (fits and clear), probe
        probe += timedelta(minutes=15)


def test_window_limits():
    availability.check_window(at(0), at(0) + timedelta(days=61))
    with pytest.raises(ValueError):
        availability.check_window(at(0), at(0) + timedelta(days=63))
    with pytest.raises(ValueError):
        availability.check_window(at(1), at(0))


# ----------------------------------------------------------------------------- rules


def test_upload_rules():
    today = date(2026, 3, 2)
    keep = rules.UploadRules()
    assert rules.upload_decision(keep, private=True, last_day=today, today=today) == (True, None)
    skip = rules.UploadRules(private_mode="skip", from_today=True)
    assert rules.upload_decision(skip, private=True, last_day=today, today=today)[0] is False
    assert rules.upload_decision(skip, private=False, last_day=today, today=today)[0] is True
    past = rules.upload_decision(skip, private=False, last_day=date(2026, 3, 1), today=today)
    assert past == (False, "only appointments from today on are sent to Outlook")
    assert (
        rules.upload_decision(keep, private=False, last_day=None, today=today, in_domain=False)[0]
        is False
    )
    with pytest.raises(ValueError):
        rules.upload_decision(
            rules.UploadRules(private_mode="x"), private=False, last_day=None, today=today
        )


def test_private_outlook_appointment_as_busy_block():
    values = {
        "name": "Doctor",
        "description": "<p>x</p>",
        "location": "Clinic",
        "videocall_location": "https://teams/x",
        "start": at(9),
        "show_as": "busy",
    }
    block = rules.busy_block(values, "private", private_as_busy=True)
    assert block["name"] == "Busy" and block["start"] == at(9) and block["privacy"] == "private"
    assert not block["description"] and not block["location"] and not block["videocall_location"]
    assert rules.busy_block(values, "normal", private_as_busy=True) == values
    assert rules.busy_block(values, "private", private_as_busy=False) == values


@pytest.mark.parametrize(
    ("show_as", "response", "tentative", "expected"),
    [
        ("busy", "declined", True, False),
        ("busy", None, False, True),
        ("tentative", None, True, True),
        ("tentative", None, False, False),
        ("busy", "tentativelyAccepted", False, False),
        ("oof", "accepted", False, True),
        ("free", None, True, False),
        ("workingElsewhere", None, True, False),
    ],
)
def test_declined_never_busy_tentative_on_option(show_as, response, tentative, expected):
    assert rules.counts_as_busy(show_as, response, tentative_busy=tentative) is expected


def test_teams_decisions():
    assert rules.teams_fields(True) == {
        "isOnlineMeeting": True,
        "onlineMeetingProvider": "teamsForBusiness",
    }
    assert rules.teams_fields(False) == {"isOnlineMeeting": False}
    assert rules.teams_refusal(["teamsForBusiness"]) is None
    assert "Teams licence" in rules.teams_refusal([])
    assert "skypeForConsumer" in rules.teams_refusal(["skypeForConsumer"])
    assert "without a Teams meeting" in rules.teams_refusal(None)
    with_meeting = {"onlineMeeting": {"joinUrl": "https://teams.microsoft.com/l/x"}}
    assert rules.join_url(with_meeting) == "https://teams.microsoft.com/l/x"
    assert rules.meeting_missing({"isOnlineMeeting": True}, {"onlineMeeting": None})
    assert rules.meeting_kept({"isOnlineMeeting": False}, with_meeting)
    assert not rules.meeting_kept({"isOnlineMeeting": True}, with_meeting)


# ----------------------------------------------------------------------------- mirror


def slot(event_id, start, end, show_as="busy", categories=()):
    return BusySlot(event_id, start, end, show_as=show_as, categories=tuple(categories))


def apply(plan, existing, ids):
    """What the job does with a plan: blocks get ids; returns the new existing list."""
    kept = [b for b in existing if b not in plan.delete]
    moved = {b.key: (s, e, a) for b, s, e, a in plan.move}
    kept = [
        mirror.MirrorBlock(
            b.source_account,
            b.source_event_id,
            b.target_account,
            *moved[b.key],
            target_event_id=b.target_event_id,
        )
        if b.key in moved
        else b
        for b in kept
    ]
    for block in plan.create:
        new_id = f"m{next(ids)}"
        kept.append(
            mirror.MirrorBlock(
                block.source_account,
                block.source_event_id,
                block.target_account,
                block.start,
                block.end,
                block.is_all_day,
                new_id,
            )
        )
    return kept


def calendars_after(accounts, own, blocks):
    """Each account's calendar: its own events plus the blocks written into it."""
    out = {}
    for account in accounts:
        events = list(own.get(account, []))
        events += [
            slot(b.target_event_id, b.start, b.end, categories=[mirror.MIRROR_CATEGORY])
            for b in blocks
            if b.target_account == account
        ]
        out[account] = events
    return out


def test_mirror_cycle_across_three_accounts_stops_after_one_step():
    import itertools

    ids = itertools.count()
    accounts = ["A", "B", "C"]
    own = {
        "A": [slot("a1", at(9), at(10))],
        "B": [slot("b1", at(11), at(12)), slot("b2", at(14), at(15), show_as="free")],
        "C": [],
    }
    blocks = []
    plan = mirror.plan_mirror(accounts, calendars_after(accounts, own, blocks), blocks)
    assert sorted((b.source_account, b.target_account) for b in plan.create) == [
        ("A", "B"),
        ("A", "C"),
        ("B", "A"),
        ("B", "C"),
    ]
    blocks = apply(plan, blocks, ids)
    # Second and third runs: the blocks are in every calendar now, none is copied again.
    for _ in range(2):
        again = mirror.plan_mirror(accounts, calendars_after(accounts, own, blocks), blocks)
        assert again.writes == 0
    # Even without Odoo's record of them, the marker category stops the loop.
    fresh = mirror.plan_mirror(accounts, calendars_after(accounts, own, blocks), [])
    assert len(fresh.create) == 4
    # A's meeting moves: its two blocks move; B's ends: its blocks go.
    own["A"] = [slot("a1", at(9, 30), at(10, 30))]
    own["B"] = []
    plan = mirror.plan_mirror(accounts, calendars_after(accounts, own, blocks), blocks)
    assert len(plan.move) == 2 and len(plan.delete) == 2 and not plan.create
    blocks = apply(plan, blocks, ids)
    # C switched off: its blocks are cleaned up and it is neither source nor target.
    plan = mirror.plan_mirror(["A", "B"], calendars_after(accounts, own, blocks), blocks)
    assert [b.target_account for b in plan.delete] == ["C"] and not plan.create


def test_unread_account_keeps_its_blocks():
    blocks = [mirror.MirrorBlock("A", "a1", "B", at(9), at(10), target_event_id="m1")]
    plan = mirror.plan_mirror(["A", "B"], {"B": []}, blocks)  # A could not be read
    assert plan.writes == 0


def test_mirror_payload_has_no_details():
    body = mirror.mirror_payload(at(9), at(10))
    assert body["subject"] == "Busy" and body["showAs"] == "busy"
    assert body["sensitivity"] == "private" and body["categories"] == [mirror.MIRROR_CATEGORY]
    assert body["body"]["content"] == "" and "attendees" not in body and "location" not in body


def test_busy_time_import_drops_declined_and_marks_tentatively_accepted():
    from m365_graph.sync.workload import prepare_slots

    raw = {
        "id": "e1",
        "start": when(at(9)),
        "end": when(at(10)),
        "showAs": "busy",
        "isAllDay": False,
    }
    declined = BusySlot.from_graph({**raw, "responseStatus": {"response": "declined"}})
    maybe = BusySlot.from_graph(
        {**raw, "id": "e2", "responseStatus": {"response": "tentativelyAccepted"}}
    )
    plain = BusySlot.from_graph({**raw, "id": "e3"})
    assert declined.response == "declined" and plain.response is None
    records, skipped = prepare_slots([declined, maybe, plain])
    assert not skipped
    assert [(r.event_id, r.show_as) for r in records] == [("e2", "tentative"), ("e3", "busy")]


def test_mirror_leaves_declined_and_optional_tentative_out():
    declined = BusySlot("d", at(9), at(10), show_as="busy", response="declined")
    maybe = BusySlot("t", at(11), at(12), show_as="tentative")
    busy = {"A": [declined, maybe], "B": []}
    assert [b.source_event_id for b in mirror.plan_mirror(["A", "B"], busy, []).create] == ["t"]
    assert mirror.plan_mirror(["A", "B"], busy, [], tentative_busy=False).create == []


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
KEYS = ["scheduleId", "availabilityView", "scheduleItems", "error", "workingHours"]
ITEM_KEYS = ["status", "start", "end", "isPrivate", "subject"]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.integers(0, 1),
    st.sampled_from(KEYS),
    st.sampled_from(ITEM_KEYS),
    JSON,
    st.booleans(),
)
def test_fuzz_documented_answer_never_escapes_bad_response(which, key, item_key, value, deep):
    import copy

    answer = copy.deepcopy(DOC_ANSWER)
    if deep and answer[0].get("scheduleItems"):
        answer[0]["scheduleItems"][which][item_key] = value
    else:
        answer[which][key] = value
    try:
        people, skipped = availability.parse_schedules(answer)
    except BadResponse:
        return
    for person in people:
        assert isinstance(person.schedule_id, str)
        for item in person.items:
            assert item.start <= item.end and isinstance(item.status, str)
        availability.busy_intervals(person.items)
        availability.visible_items(person, may_see_titles=True)
    assert all(isinstance(reason, str) for reason in skipped)
