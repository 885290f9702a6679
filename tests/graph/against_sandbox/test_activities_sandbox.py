"""An exported activity's payload written to the sandbox: one event in the assignee's
calendar, category Odoo, busy, nobody invited."""

from __future__ import annotations

from datetime import datetime

from m365_graph.resources.outbox import push_operations
from m365_graph.sync.activities import activity_payload
from m365_graph.sync.outbox import PushOperation

from ..unit.test_activities import CATEGORY, MEGAN, UTC, event


def test_the_payload_lands_in_the_assignees_calendar_without_invitations(sb, app_client):
    built = activity_payload(event(start=datetime.now(UTC).replace(tzinfo=None)))
    op = PushOperation("1", "create", built.payload, transaction_id="activity-1")
    [result] = push_operations(app_client, MEGAN, [op])
    assert result.ok, result.error
    [stored] = sb.state.events(MEGAN)
    assert stored["subject"] == "Call the supplier"
    assert stored["categories"] == [CATEGORY]
    assert stored["showAs"] == "busy"
    assert stored["attendees"] == []
    assert sb.state.sent_meeting_mail == []
