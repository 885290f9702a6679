"""getSchedule and Teams meetings against the sandbox: chunks of 20 in one ``$batch``,
people outside the tenant, Graph's limits, Teams without a licence, and a meeting that
PATCH cannot remove (as reported by real tenants)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from m365_graph.core.errors import GraphError
from m365_graph.resources.events import create_event, get_event, update_event
from m365_graph.resources.schedule import get_schedules, schedule_body
from m365_graph.sync import availability, rules

UTC = timezone.utc
ADELE = "adele.vance@contoso.onmicrosoft.com"
DAY = (datetime.now(UTC) + timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0)


def people(sb, count):
    out = []
    for i in range(count):
        upn = f"person{i}@contoso.onmicrosoft.com"
        sb.state.add_user(f"Person {i}", upn=upn)
        sb.state.add_event(
            upn,
            f"Meeting {i}",
            DAY + timedelta(hours=9),
            DAY + timedelta(hours=10),
            showAs="busy" if i % 2 else "tentative",
        )
        out.append(upn)
    return out


def test_fifty_people_are_three_calls_in_one_round_trip(sb, app_client):
    addresses = [*people(sb, 50), "guest@fabrikam.example"]
    sb.log.clear()
    answers = get_schedules(app_client, ADELE, addresses, DAY, DAY + timedelta(days=1))
    assert list(answers) == addresses
    top = [r for r in sb.log if not r.in_batch and r.path.startswith("/v1.0")]
    inner = [r for r in sb.log if r.in_batch and r.path.endswith("/getSchedule")]
    assert [r.path for r in top] == ["/v1.0/$batch"]
    assert len(inner) == 3  # 20 + 20 + 11
    outside = answers["guest@fabrikam.example"]
    assert not outside.ok and outside.error_code == "5009"
    first = answers[addresses[0]]
    assert first.ok and [i.status for i in first.items] == ["tentative"]
    assert availability.busy_intervals(first.items) == [
        (DAY + timedelta(hours=9), DAY + timedelta(hours=10))
    ]
    assert availability.busy_intervals(first.items, tentative_busy=False) == []
    # The application permission reads details (Calendars.ReadWrite): the subject comes,
    # the widget's rule decides whether it is shown.
    assert first.items[0].subject == "Meeting 0"
    assert first.availability_view[18:20] == "11"  # 09:00-10:00 in 30-minute slots


def test_one_chunk_is_one_plain_call(sb, app_client):
    addresses = people(sb, 3)
    sb.log.clear()
    answers = get_schedules(
        app_client, ADELE, addresses, DAY, DAY + timedelta(hours=12), interval=60
    )
    assert all(a.ok for a in answers.values())
    assert [r.path for r in sb.log if r.path.startswith("/v1.0")] == [
        f"/v1.0/users/{ADELE}/calendar/getSchedule"
    ]


def test_graph_limits(sb, app_client):
    with pytest.raises(ValueError):
        get_schedules(app_client, ADELE, ["a@x"], DAY, DAY + timedelta(days=63))
    with pytest.raises(ValueError):
        schedule_body([f"p{i}@x" for i in range(21)], DAY, DAY + timedelta(hours=1))
    # The sandbox refuses what Graph refuses, whoever sends it.
    body = schedule_body(["a@x"], DAY, DAY + timedelta(hours=1))
    body["schedules"] = [f"p{i}@x" for i in range(21)]
    with pytest.raises(GraphError) as exc:
        app_client.request("POST", f"/users/{ADELE}/calendar/getSchedule", json=body)
    assert exc.value.status == 400
    body = schedule_body(["a@x"], DAY, DAY + timedelta(days=70))
    with pytest.raises(GraphError):
        app_client.request("POST", f"/users/{ADELE}/calendar/getSchedule", json=body)


def test_private_items_never_carry_a_subject_for_others(sb, app_client):
    (upn,) = people(sb, 1)
    sb.state.add_event(
        upn, "Doctor", DAY + timedelta(hours=14), DAY + timedelta(hours=15), sensitivity="private"
    )
    person = get_schedules(app_client, ADELE, [upn], DAY, DAY + timedelta(days=1))[upn]
    private = [i for i in person.items if i.private]
    assert private and private[0].subject is None


def teams_body(subject="Review"):
    start = DAY + timedelta(hours=15)
    return {
        "subject": subject,
        "start": {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
        "end": {
            "dateTime": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S"),
            "timeZone": "UTC",
        },
        **rules.teams_fields(True),
    }


def test_teams_meeting_shape_and_off_is_not_removed_by_patch(sb, app_client):
    event = create_event(app_client, ADELE, teams_body(), transaction_id="tx-teams")
    online = event.raw["onlineMeeting"]
    assert online["joinUrl"].startswith("https://teams.microsoft.com/l/meetup-join/")
    assert {"conferenceId", "tollNumber", "tollFreeNumbers", "phones", "quickDial"} <= set(online)
    calendar = app_client.get_json(f"/users/{ADELE}/calendar")
    assert rules.teams_refusal(calendar["allowedOnlineMeetingProviders"]) is None
    off = {**rules.teams_fields(False), "onlineMeeting": None}
    patched = update_event(app_client, ADELE, event.id, off, change_key=None)
    # Real tenants keep the meeting (microsoft-graph-docs#17308): so does the sandbox.
    assert rules.meeting_kept(off, patched.raw)
    assert (
        get_event(app_client, ADELE, event.id).raw["onlineMeeting"]["joinUrl"] == online["joinUrl"]
    )


@pytest.mark.parametrize("tenant_wide", [True, False])
def test_no_teams_for_the_tenant_or_without_a_licence(sb, app_client, tenant_wide):
    if tenant_wide:
        sb.state.set_teams(False)
    else:
        sb.state.set_teams(False, user=ADELE)
    calendar = app_client.get_json(f"/users/{ADELE}/calendar")
    assert calendar["allowedOnlineMeetingProviders"] == []
    assert "licence" in rules.teams_refusal(calendar["allowedOnlineMeetingProviders"])
    event = create_event(app_client, ADELE, teams_body(), transaction_id="tx-teams")
    assert event.raw["isOnlineMeeting"] is False and event.raw["onlineMeeting"] is None
    assert rules.meeting_missing(teams_body(), event.raw)
